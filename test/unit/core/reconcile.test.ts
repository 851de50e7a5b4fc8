import { describe, expect, test } from '@jest/globals';
import { ownershipToken } from '../../../lib/core/ownership.js';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { reconcile, type NextItem } from '../../../lib/core/reconcile.js';
import type { Mapping } from '../../../lib/core/types.js';

const arn = (n: string): string => `arn:aws:iam::111122223333:role/${n}`;
const key = (n: string): string => `mapRoles:${arn(n).toLowerCase()}`;
const m = (n: string, groups = ['dev'], username = n): Mapping => ({ key: 'mapRoles', arn: arn(n), username, groups });
const entry = (n: string, groups: string[], username = n, rolearn = arn(n)): string =>
  `- rolearn: ${rolearn}\n  username: ${username}\n  groups: [${groups.join(', ')}]\n`;
const parsed = (text: string) => parseAwsAuth({ metadata: {}, data: { mapRoles: text } });
const shape = (items: NextItem[]): string[] => items.map((i) => (i.kind === 'managed' ? `managed ${i.mapping.arn}` : `unmanaged ${String((i.entry.raw as Record<string, unknown>).rolearn)}`));

describe('reconcile', () => {
  test('unmanaged entries stay first in their order; managed entries follow, sorted case-insensitively', () => {
    const r = reconcile({ parsed: parsed(entry('Zeta', ['a']) + entry('Alpha', ['a'])), owned: new Set(), desired: [m('b'), m('A2'), m('c')], adoptUnmanaged: false });
    expect(shape(r.next.mapRoles)).toEqual([`unmanaged ${arn('Zeta')}`, `unmanaged ${arn('Alpha')}`, `managed ${arn('A2')}`, `managed ${arn('b')}`, `managed ${arn('c')}`]);
    expect(r.unmanagedCount).toBe(2);
    expect(r.owned).toEqual([key('A2'), key('b'), key('c')].map(ownershipToken).sort());
  });

  test('an owned entry already in canonical form is no change', () => {
    const r = reconcile({ parsed: parsed(entry('Dev', ['dev', 'view'])), owned: new Set([ownershipToken(key('Dev'))]), desired: [m('Dev', ['dev', 'view'])], adoptUnmanaged: false });
    expect(r.changes).toEqual([]);
    expect(r.removals).toBe(0);
    expect(shape(r.next.mapRoles)).toEqual([`managed ${arn('Dev')}`]);
  });

  // The entry is re-rendered in canonical form, so the write must say so: never a write with an
  // empty change list.
  test.each([
    ['groups out of order', entry('Dev', ['view', 'dev'])],
    ['a repeated group', entry('Dev', ['dev', 'view', 'dev'])],
    ['fields in another order', '- groups: [dev, view]\n  username: Dev\n  rolearn: arn:aws:iam::111122223333:role/Dev\n'],
    ['another spelling of a field', '- RoleArn: arn:aws:iam::111122223333:role/Dev\n  username: Dev\n  groups: [dev, view]\n'],
    ['an extra field', entry('Dev', ['dev', 'view']) + '  note: x\n'],
    ['the ARN in another case', entry('Dev', ['dev', 'view'], 'Dev', 'arn:aws:iam::111122223333:role/DEV')],
    ['the role path', entry('Dev', ['dev', 'view'], 'Dev', 'arn:aws:iam::111122223333:role/team/Dev')],
  ])('an owned entry equal in meaning but not in form (%s) is an update', (_n, text) => {
    const r = reconcile({ parsed: parsed(text), owned: new Set([ownershipToken(key('Dev'))]), desired: [m('Dev', ['dev', 'view'])], adoptUnmanaged: false });
    expect(r.changes).toEqual([{ op: 'update', key: 'mapRoles', arn: arn('Dev'), before: expect.objectContaining({ username: 'Dev' }), after: m('Dev', ['dev', 'view']) }]);
    expect(r.removals).toBe(0);
  });

  test('username change is an update', () => {
    const r = reconcile({ parsed: parsed(entry('Dev', ['dev'], 'old')), owned: new Set([ownershipToken(key('Dev'))]), desired: [m('Dev', ['dev'], 'new')], adoptUnmanaged: false });
    expect(r.changes).toEqual([
      { op: 'update', key: 'mapRoles', arn: arn('Dev'), before: expect.objectContaining({ username: 'old', groups: ['dev'] }), after: m('Dev', ['dev'], 'new') },
    ]);
  });

  test('an owned entry no longer desired is removed; every copy of it is shown and counted', () => {
    const r = reconcile({ parsed: parsed(entry('Gone', ['a']) + entry('GONE', ['b'])), owned: new Set([ownershipToken(key('Gone'))]), desired: [], adoptUnmanaged: false });
    expect(r.next.mapRoles).toEqual([]);
    expect(r.removals).toBe(2);
    expect(r.changes).toHaveLength(2);
    expect(r.changes).toEqual(
      expect.arrayContaining([
        { op: 'remove', key: 'mapRoles', arn: arn('Gone'), before: expect.objectContaining({ username: 'Gone', groups: ['a'] }) },
        { op: 'remove', key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/GONE', before: expect.objectContaining({ groups: ['b'] }) },
      ]),
    );
  });

  test('a desired ARN held by a node entry and an adoptable copy: conflict, both copies kept, nothing managed', () => {
    const text = entry('Dev', ['system:bootstrappers', 'system:nodes'], 'system:node:{{EC2PrivateDNSName}}') + entry('Dev', ['ops']);
    const r = reconcile({ parsed: parsed(text), owned: new Set(), desired: [m('Dev')], adoptUnmanaged: true });
    expect(shape(r.next.mapRoles)).toEqual([`unmanaged ${arn('Dev')}`, `unmanaged ${arn('Dev')}`]);
    expect(r.conflicts).toEqual([{ key: 'mapRoles', arn: arn('Dev'), reason: expect.stringContaining('node mapping at mapRoles[0]') }]);
    expect(r.changes).toEqual([]);
    expect(r.owned).toEqual([]);
  });

  test('an owned copy next to an unmanaged copy of a blocked ARN: the owned copy goes, the unmanaged stays', () => {
    const text = entry('Dev', ['ops'], 'by-hand') + entry('Dev', ['dev']);
    // Both copies share the canonical key, so "owned" covers both: nothing unmanaged blocks.
    const r = reconcile({ parsed: parsed(text), owned: new Set([ownershipToken(key('Dev'))]), desired: [m('Dev')], adoptUnmanaged: false });
    expect(shape(r.next.mapRoles)).toEqual([`managed ${arn('Dev')}`]);
    expect(r.conflicts).toEqual([]);
  });

  test('an unmanaged entry that cannot be read is kept and never adopted', () => {
    const text = entry('Dev', ['dev'], 'on'); // YAML 1.1 reads a boolean: the entry cannot be understood
    const r = reconcile({ parsed: parsed(text), owned: new Set(), desired: [m('Dev')], adoptUnmanaged: true });
    expect(shape(r.next.mapRoles)).toEqual([`unmanaged ${arn('Dev')}`]);
    expect(r.conflicts.map((c) => c.arn)).toEqual([arn('Dev')]);
  });

  test('adoption replaces every unmanaged copy with one managed entry', () => {
    const text = entry('Dev', ['a'], 'x', 'arn:aws:iam::111122223333:role/team/dev') + entry('Other', ['b']) + entry('DEV', ['c'], 'why');
    const r = reconcile({ parsed: parsed(text), owned: new Set(), desired: [m('Dev')], adoptUnmanaged: true });
    expect(shape(r.next.mapRoles)).toEqual([`unmanaged ${arn('Other')}`, `managed ${arn('Dev')}`]);
    // The second copy is merged away: a removal, shown and counted, never silent.
    expect(r.changes).toEqual([
      { op: 'adopt', key: 'mapRoles', arn: arn('Dev'), before: expect.objectContaining({ username: 'x', groups: ['a'] }), after: m('Dev') },
      { op: 'remove', key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/DEV', before: expect.objectContaining({ username: 'why', groups: ['c'] }) },
    ]);
    expect(r.removals).toBe(1);
  });

  test('without adoption the conflict message says how to take it over', () => {
    const r = reconcile({ parsed: parsed(entry('Dev', ['a'])), owned: new Set(), desired: [m('Dev')], adoptUnmanaged: false });
    expect(r.conflicts[0]?.reason).toContain('set adoptUnmanaged');
  });

  test('an owned token for an entry that is gone from the ConfigMap re-adds it', () => {
    const r = reconcile({ parsed: parsed('[]'), owned: new Set([ownershipToken(key('Dev'))]), desired: [m('Dev')], adoptUnmanaged: false });
    expect(r.changes.map((c) => c.op)).toEqual(['add']);
  });

  test('changes are sorted: mapRoles before mapUsers, then by ARN ignoring case', () => {
    const user: Mapping = { key: 'mapUsers', arn: 'arn:aws:iam::111122223333:user/a', username: 'a', groups: [] };
    const r = reconcile({ parsed: parsed('[]'), owned: new Set(), desired: [user, m('b'), m('A')], adoptUnmanaged: false });
    expect(r.changes.map((c) => `${c.key} ${c.arn}`)).toEqual([`mapRoles ${arn('A')}`, `mapRoles ${arn('b')}`, `mapUsers ${user.arn}`]);
  });
});
