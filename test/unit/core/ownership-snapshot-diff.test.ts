import { describe, expect, test } from '@jest/globals';
import { formatChange, formatReport, summarize } from '../../../lib/core/diff.js';
import { SnapshotFormatError, snapshotFromAuthorizationDetails } from '../../../lib/core/iam-snapshot.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken, readOwned } from '../../../lib/core/ownership.js';
import type { EntryChange } from '../../../lib/core/types.js';

/** Known lib/core bugs (// BUG: comments) run as test.failing; SHOW_BUGS=1 runs them as plain tests. */
const bugTest = process.env.SHOW_BUGS !== undefined ? test : test.failing;

describe('ownership', () => {
  test('the token is the first 16 hex digits of SHA-256 of the canonical key (checked with sha256sum)', () => {
    expect(ownershipToken('mapRoles:arn:aws:iam::111122223333:role/dev')).toBe('645e3c4ef5485052');
    expect(ownershipToken('mapUsers:arn:aws:iam::111122223333:user/alice')).toBe('5e19ee422321caf1');
  });

  test('formatOwned sorts and de-duplicates', () => {
    expect(formatOwned(['b'.repeat(16), 'a'.repeat(16), 'b'.repeat(16)])).toBe(`v1:${'a'.repeat(16)},${'b'.repeat(16)}`);
    expect(formatOwned([])).toBe('v1:');
  });

  test.each([
    ['no ConfigMap', null, [], false],
    ['no annotation', { metadata: {} }, [], false],
    ['empty record', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:' } } }, [], false],
    ['two tokens', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:645e3c4ef5485052,5e19ee422321caf1' } } }, ['645e3c4ef5485052', '5e19ee422321caf1'], false],
    ['no version', { metadata: { annotations: { [OWNED_ANNOTATION]: '645e3c4ef5485052' } } }, [], true],
    ['unknown version', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v2:645e3c4ef5485052' } } }, [], true],
    ['upper-case hex', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:645E3C4EF5485052' } } }, [], true],
    ['short token', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:645e3c4e' } } }, [], true],
    ['trailing comma', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:645e3c4ef5485052,' } } }, [], true],
    ['ARNs instead of tokens', { metadata: { annotations: { [OWNED_ANNOTATION]: 'v1:arn:aws:iam::111122223333:role/dev' } } }, [], true],
  ])('readOwned: %s', (_n, cm, tokens, malformed) => {
    const got = readOwned(cm);
    expect([...got.tokens].sort()).toEqual([...tokens].sort());
    expect(got.malformed).toBe(malformed);
  });
});

describe('snapshotFromAuthorizationDetails', () => {
  test('pages are combined; missing Path, Tags and tag Value get defaults', () => {
    const s = snapshotFromAuthorizationDetails([
      {
        UserDetailList: [{ UserName: 'alice', Arn: 'arn:aws:iam::111122223333:user/alice', GroupList: ['devs'], Tags: [{ Key: 'k', Value: 'v' }] }],
        GroupDetailList: [{ GroupName: 'devs', Arn: 'arn:aws:iam::111122223333:group/devs', Path: '/' }],
        IsTruncated: true,
        Marker: 'm1',
      },
      {
        RoleDetailList: [{ RoleName: 'Dev', Arn: 'arn:aws:iam::111122223333:role/x/Dev', Path: '/x/', Tags: [{ Key: 'empty' }] }],
        UserDetailList: [{ UserName: 'bob', Arn: 'arn:aws:iam::111122223333:user/bob', Path: null }],
        IsTruncated: false,
      },
    ]);
    expect(s).toEqual({
      users: [
        { arn: 'arn:aws:iam::111122223333:user/alice', userName: 'alice', path: '/', groups: ['devs'], tags: { k: 'v' } },
        { arn: 'arn:aws:iam::111122223333:user/bob', userName: 'bob', path: '/', groups: [], tags: {} },
      ],
      roles: [{ arn: 'arn:aws:iam::111122223333:role/x/Dev', roleName: 'Dev', path: '/x/', tags: { empty: '' } }],
      groups: [{ arn: 'arn:aws:iam::111122223333:group/devs', groupName: 'devs', path: '/' }],
    });
  });

  test('no pages is an empty snapshot', () => {
    expect(snapshotFromAuthorizationDetails([])).toEqual({ users: [], roles: [], groups: [] });
  });

  test.each([
    ['page not an object', [null], /page 0 is not an object/],
    ['a page with none of the detail lists (aws iam list-roles output)', [{ Roles: [] }], /page 0 has none of UserDetailList, RoleDetailList, GroupDetailList \(its fields: Roles\)/],
    ['an empty page', [{ UserDetailList: [] }, {}], /page 1 has none of UserDetailList, RoleDetailList, GroupDetailList \(it is an empty object\)/],
    ['list not a list', [{ RoleDetailList: {} }], /page 0: RoleDetailList is not a list/],
    ['item not an object', [{ UserDetailList: ['alice'] }], /UserDetailList\[0\] is not an object/],
    ['missing Arn', [{ UserDetailList: [{ UserName: 'alice' }] }], /UserDetailList\[0\]\.Arn is missing/],
    ['RoleName not a string', [{ RoleDetailList: [{ Arn: 'arn:aws:iam::111122223333:role/x', RoleName: 5 }] }], /RoleDetailList\[0\]\.RoleName is not a string/],
    ['GroupList with a non-string', [{ UserDetailList: [{ UserName: 'a', Arn: 'x', GroupList: [1] }] }], /GroupList is not a list of group names/],
    ['Tags not a list', [{ RoleDetailList: [{ RoleName: 'r', Arn: 'x', Tags: { k: 'v' } }] }], /Tags is not a list/],
    ['tag without Key', [{ RoleDetailList: [{ RoleName: 'r', Arn: 'x', Tags: [{ Value: 'v' }] }] }], /Tags\[0\]\.Key is missing/],
    ['group without name', [{ GroupDetailList: [{ Arn: 'x' }] }], /GroupDetailList\[0\]\.GroupName is missing/],
  ])('a malformed page is an error, never a partial snapshot: %s', (_n, pages, why) => {
    const run = (): unknown => snapshotFromAuthorizationDetails(pages as never);
    expect(run).toThrow(SnapshotFormatError);
    expect(run).toThrow(why);
  });
});

describe('diff', () => {
  const after = { key: 'mapRoles' as const, arn: 'arn:aws:iam::111122223333:role/Dev', username: 'new', groups: ['a', 'b'] };
  test.each<[EntryChange, string]>([
    [{ op: 'add', key: 'mapRoles', arn: after.arn, after }, '+ mapRoles arn:aws:iam::111122223333:role/Dev username="new" groups=[a, b]'],
    [{ op: 'remove', key: 'mapUsers', arn: 'arn:aws:iam::111122223333:user/x', before: { username: 'x', groups: [] } }, '- mapUsers arn:aws:iam::111122223333:user/x username="x" groups=[]'],
    [{ op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'old', groups: ['a'] }, after }, '~ mapRoles arn:aws:iam::111122223333:role/Dev username: "old" -> "new"; groups: [a] -> [a, b]'],
    [{ op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'new', groups: ['a'] }, after }, '~ mapRoles arn:aws:iam::111122223333:role/Dev groups: [a] -> [a, b]'],
    [{ op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'old', groups: ['a', 'b'] }, after }, '~ mapRoles arn:aws:iam::111122223333:role/Dev username: "old" -> "new"'],
    [{ op: 'adopt', key: 'mapRoles', arn: after.arn, before: { username: 'h', groups: [] }, after }, '* mapRoles arn:aws:iam::111122223333:role/Dev adopted: username="h" groups=[] -> username="new" groups=[a, b]'],
    [{ op: 'add', key: 'mapRoles', arn: after.arn, after: { ...after, username: 'a"b' } }, '+ mapRoles arn:aws:iam::111122223333:role/Dev username="a\\"b" groups=[a, b]'],
  ])('formatChange %#', (change, line) => {
    expect(formatChange(change)).toBe(line);
  });

  test('an update that changes neither username nor groups says it only rewrites the entry', () => {
    const change: EntryChange = { op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'new', groups: ['a', 'b'] }, after };
    expect(formatChange(change)).toBe('~ mapRoles arn:aws:iam::111122223333:role/Dev rewritten (canonical form)');
  });

  // Group order never matters (DESIGN: eksctl CompareIdentity): an owned entry rewritten only to
  // sort or de-duplicate its groups is reported as a canonical rewrite, not a change of groups.
  test.each<[string, string[]]>([
    ['reordered', ['b', 'a']],
    ['repeated', ['a', 'b', 'a']],
  ])('an update whose groups are only %s says it only rewrites the entry', (_n, groups) => {
    const change: EntryChange = { op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'new', groups }, after };
    expect(formatChange(change)).toBe('~ mapRoles arn:aws:iam::111122223333:role/Dev rewritten (canonical form)');
  });

  test('summarize and formatReport', () => {
    const changes: EntryChange[] = [
      { op: 'add', key: 'mapRoles', arn: after.arn, after },
      { op: 'remove', key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/Old', before: { username: 'o', groups: [] } },
    ];
    const conflicts = [{ key: 'mapRoles' as const, arn: 'arn:aws:iam::111122223333:role/C', reason: 'held by hand' }];
    const summary = summarize(changes, conflicts, 3);
    expect(summary).toEqual({ added: 1, removed: 1, updated: 0, adopted: 0, conflicts: 1, unmanaged: 3 });
    expect(
      formatReport({
        changes,
        conflicts,
        warnings: [{ code: 'bad-group', message: 'dropped x' }],
        refusals: [{ code: 'last-masters', message: 'no admin left' }],
        summary,
        create: true,
      }),
    ).toEqual([
      'aws-auth does not exist: it will be created',
      '+ mapRoles arn:aws:iam::111122223333:role/Dev username="new" groups=[a, b]',
      '- mapRoles arn:aws:iam::111122223333:role/Old username="o" groups=[]',
      '! conflict mapRoles arn:aws:iam::111122223333:role/C: held by hand',
      '! warning: dropped x',
      '✗ refused (last-masters): no admin left',
      '1 to add, 0 to update, 1 to remove, 0 to adopt, 1 conflicts, 3 unmanaged entries kept',
    ]);
  });
});
