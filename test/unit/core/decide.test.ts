/**
 * The decision table, one row per identity: what the plan does with each, and why. Adoption is
 * where a sync could take over a hand-written entry: it never takes one that grants
 * system:masters or maps the syncer itself without force, and never a node mapping.
 */
import { describe, expect, test } from '@jest/globals';
import { formatOwned, OWNED_ANNOTATION, ownershipToken } from '../../../lib/core/ownership.js';
import { planSync } from '../../../lib/core/plan.js';
import type { MapKey } from '../../../lib/core/types.js';
import { ACCOUNT, awsAuth, makePolicy, role, snapshot } from './support.js';

const A = `arn:aws:iam::${ACCOUNT}`;
const G = 'aws-auth-syncer/prod/groups';
const entry = (name: string, groups: string[], username = name): string =>
  `- rolearn: ${A}:role/${name}\n  username: ${username}\n  groups: [${groups.join(', ')}]\n`;
const owned = (...names: [MapKey, string][]) => ({
  [OWNED_ANNOTATION]: formatOwned(
    'prod',
    names.map(([k, n]) => ownershipToken('prod', k, `${A}:role/${n}`.toLowerCase())),
  ),
});
const rows = (p: ReturnType<typeof planSync>) => p.rows.map((r) => `${r.id.split('/').pop()} ${r.action}`);

describe('one row per identity', () => {
  test('add, keep, update, remove and conflict, each once', () => {
    const current = awsAuth(
      {
        mapRoles:
          entry('keep', ['dev'], `arn:aws:sts::${ACCOUNT}:assumed-role/keep/{{SessionName}}`) +
          entry('change', ['old']) +
          entry('gone', ['x']) +
          entry('hand', ['x']),
      },
      owned(['mapRoles', 'keep'], ['mapRoles', 'change'], ['mapRoles', 'gone']),
    );
    const iam = snapshot({ roles: ['keep', 'change', 'hand', 'new'].map((n) => role(n, { [G]: n === 'change' ? 'new' : 'dev' })) });
    const plan = planSync({ current, snapshot: iam, policy: makePolicy() });
    expect(rows(plan)).toEqual(['change update', 'gone remove', 'hand conflict', 'keep keep', 'new add']);
    expect(plan.conflicts.map((c) => c.reason)).toEqual([expect.stringContaining('set adoptUnmanaged to take it over')]);
  });
  test('a mapUsers entry for a role is the same identity as a mapRoles one (the authenticator looks in both)', () => {
    const current = awsAuth({ mapUsers: `- userarn: ${A}:role/dev\n  username: hand\n  groups: [x]\n` });
    const plan = planSync({ current, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy() });
    expect(rows(plan)).toEqual(['dev conflict']);
  });
});

describe('adoption (adoptUnmanaged)', () => {
  const iam = snapshot({
    roles: [role('Admin', { [G]: 'dev' }), role('aws-auth-syncer', { [G]: 'dev' }), role('node', { [G]: 'dev' }), role('Dev', { [G]: 'dev' })],
  });
  const current = awsAuth({
    mapRoles:
      entry('Admin', ['system:masters']) +
      entry('aws-auth-syncer', ['aws-auth-syncer']) +
      entry('node', ['system:bootstrappers', 'system:nodes'], 'system:node:{{EC2PrivateDNSName}}') +
      entry('Dev', ['old']),
  });
  const self = [`arn:aws:sts::${ACCOUNT}:assumed-role/aws-auth-syncer/1700000000`];
  test('adopts an ordinary hand-written entry, but never one granting system:masters, the syncer itself, or a node mapping', () => {
    const plan = planSync({ current, snapshot: iam, policy: makePolicy({ adoptUnmanaged: true }), selfArns: self });
    expect(rows(plan)).toEqual(['admin conflict', 'aws-auth-syncer conflict', 'dev adopt', 'node conflict']);
    expect(plan.conflicts.map((c) => [c.arn.split('/').pop(), c.reason.replace(/.*\(/, '(')])).toEqual([
      ['Admin', '(it grants system:masters: adopted only with force)'],
      ['aws-auth-syncer', "(it maps the syncer's own identity: adopted only with force)"],
      ['node', expect.stringContaining('never changed')],
    ]);
    expect(plan.refusals).toEqual([]);
  });
  test('with force it adopts the admin and self entries (never the node mapping); the admin guard still holds', () => {
    const plan = planSync({ current, snapshot: iam, policy: makePolicy({ adoptUnmanaged: true }), selfArns: self, force: true });
    expect(rows(plan)).toEqual(['admin adopt', 'aws-auth-syncer adopt', 'dev adopt', 'node conflict']);
    // Adopting Admin with the tag's [dev] would take the last system:masters away: refused anyway.
    expect(plan.refusals.map((r) => r.code).sort()).toEqual(['last-masters', 'self-mapping']);
  });
  test('a tag on the break-glass role cannot downgrade it through adoption', () => {
    const bg = awsAuth({ mapRoles: entry('break-glass-admin', ['system:masters']) + entry('other-admin', ['system:masters']) });
    const plan = planSync({
      current: bg,
      snapshot: snapshot({ roles: [role('break-glass-admin', { [G]: 'viewers' })] }),
      policy: makePolicy({ adoptUnmanaged: true }),
    });
    expect(rows(plan)).toEqual(['break-glass-admin conflict']);
    expect(plan.changed).toBe(false);
  });
  // Found by the idempotency property: a username held by an entry that is adopted in this plan
  // stops blocking a tag at once, else the next plan would hand it to the tag (not a no-op).
  test('a username freed by adopting its entry may be taken by a tag in the same plan; the plan after it changes nothing', () => {
    const U = 'aws-auth-syncer/prod/username';
    const hand = awsAuth({ mapRoles: entry('Dev', ['old'], 'ops:alice') });
    const iam2 = snapshot({ roles: [role('Dev', { [G]: 'dev' }), role('Alice', { [G]: 'dev', [U]: 'ops:alice' })] });
    const policy = makePolicy({ adoptUnmanaged: true });
    const first = planSync({ current: hand, snapshot: iam2, policy });
    expect(rows(first)).toEqual(['alice add', 'dev adopt']);
    expect(first.warnings.map((w) => w.code)).not.toContain('tag-username-refused');
    const again = planSync({ current: first.next, snapshot: iam2, policy });
    expect(again.changed).toBe(false);
  });
  test('an owned entry left beside a node mapping of its identity loses its record: its username holds against a tag at once', () => {
    const U = 'aws-auth-syncer/prod/username';
    const current = awsAuth(
      { mapRoles: entry('Dev', ['system:bootstrappers', 'system:nodes'], 'system:node:{{EC2PrivateDNSName}}') + entry('Dev', ['dev'], 'ops:dev') },
      owned(['mapRoles', 'Dev']),
    );
    const iam2 = snapshot({ roles: [role('Dev', { [G]: 'dev' }), role('Alice', { [G]: 'dev', [U]: 'ops:dev' })] });
    const first = planSync({ current, snapshot: iam2, policy: makePolicy() });
    expect(rows(first)).toEqual(['alice add', 'dev conflict']);
    expect(first.warnings).toContainEqual(expect.objectContaining({ code: 'tag-username-refused', arn: `${A}:role/Alice` }));
    const again = planSync({ current: first.next, snapshot: iam2, policy: makePolicy() });
    expect(again.changed).toBe(false);
  });
  test('a node mapping named by the ownership record still holds its username against a tag (it is never managed)', () => {
    const U = 'aws-auth-syncer/prod/username';
    const current = awsAuth({ mapRoles: entry('node', ['system:bootstrappers', 'system:nodes'], 'ops:node') }, owned(['mapRoles', 'node']));
    const iam2 = snapshot({ roles: [role('Alice', { [G]: 'dev', [U]: 'ops:node' })] });
    const first = planSync({ current, snapshot: iam2, policy: makePolicy() });
    expect(first.warnings).toContainEqual(expect.objectContaining({ code: 'tag-username-refused', arn: `${A}:role/Alice` }));
    const again = planSync({ current: first.next, snapshot: iam2, policy: makePolicy() });
    expect(again.changed).toBe(false);
  });
});

test('an ownership record that names no entry any more is dropped, and the plan says so', () => {
  // The syncer owned "gone", which someone removed by hand; a later hand-written entry for the same
  // role must not be claimed by the stale record.
  const current = awsAuth(
    { mapRoles: entry('keep', ['dev'], `arn:aws:sts::${ACCOUNT}:assumed-role/keep/{{SessionName}}`) },
    owned(['mapRoles', 'keep'], ['mapRoles', 'gone']),
  );
  const plan = planSync({ current, snapshot: snapshot({ roles: [role('keep', { [G]: 'dev' })] }), policy: makePolicy() });
  expect(plan.changed).toBe(true);
  expect(plan.changes).toEqual([]);
  expect(plan.warnings.map((w) => w.message)).toEqual([
    '1 ownership record matched no entry (removed by hand?) and was dropped',
    'no entry changes: only the ownership record (annotation aws-auth-syncer.io/owned) is rewritten',
  ]);
  expect(plan.next.metadata.annotations?.[OWNED_ANNOTATION]).toBe(owned(['mapRoles', 'keep'])[OWNED_ANNOTATION]);
});
