import { describe, expect, test } from '@jest/globals';
import { formatChange, formatReport, summarize } from '../../../lib/core/diff.js';
import { SnapshotFormatError, snapshotFromAuthorizationDetails } from '../../../lib/core/iam-snapshot.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken, owns, readOwned } from '../../../lib/core/ownership.js';
import { planSync } from '../../../lib/core/plan.js';
import { awsAuth, makePolicy } from './support.js';

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
import type { EntryChange } from '../../../lib/core/types.js';

describe('ownership', () => {
  test('a token is the first 16 hex digits of SHA-256 over the cluster, key and identity (checked with sha256sum)', () => {
    // printf 'aws-auth-syncer/owned/v2\nprod\nmapRoles\narn:aws:iam::111122223333:role/dev' | sha256sum
    expect(ownershipToken('prod', 'mapRoles', 'arn:aws:iam::111122223333:role/dev')).toBe('4ae6e68a09c00236');
    expect(ownershipToken('staging', 'mapRoles', 'arn:aws:iam::111122223333:role/dev')).not.toBe('4ae6e68a09c00236');
  });

  test('formatOwned sorts and de-duplicates', () => {
    expect(formatOwned('prod', ['b'.repeat(16), 'a'.repeat(16), 'b'.repeat(16)])).toBe(`v2;prod;${'a'.repeat(16)},${'b'.repeat(16)}`);
    expect(formatOwned('prod', [])).toBe('v2;prod;');
  });

  const T = '4ae6e68a09c00236';
  const on = (value: unknown) => ({ metadata: { annotations: { [OWNED_ANNOTATION]: value as string } } });
  test.each([
    ['no ConfigMap', null, { name: 'prod' }, [], undefined],
    ['no annotation', { metadata: {} }, { name: 'prod' }, [], undefined],
    ['empty record', on('v2;prod;'), { name: 'prod' }, [], undefined],
    ['a token', on(`v2;prod;${T}`), { name: 'prod' }, [T], undefined],
    ['a record by name, read by the ARN of a cluster of that name', on(`v2;prod;${T}`), { name: 'prod', arn: '%ARN%' }, [T], undefined],
    ['a record by ARN, read offline by name', on(`v2;%ARN%;${T}`), { name: 'prod' }, [T], undefined],
    ['another cluster (name)', on(`v2;staging;${T}`), { name: 'prod' }, [], /belongs to cluster staging/],
    [
      'another cluster (ARN, same name, other account)',
      on(`v2;arn:aws:eks:us-east-1:444455556666:cluster/prod;${T}`),
      { name: 'prod', arn: '%ARN%' },
      [],
      /copied from another cluster/,
    ],
    ['the old v1 form (not bound to a cluster)', on(`v1:${T}`), { name: 'prod' }, [], /v1 form/],
    ['no version', on(T), { name: 'prod' }, [], /malformed/],
    ['upper-case hex', on(`v2;prod;${T.toUpperCase()}`), { name: 'prod' }, [], /malformed/],
    ['short token', on('v2;prod;645e3c4e'), { name: 'prod' }, [], /malformed/],
    ['trailing comma', on(`v2;prod;${T},`), { name: 'prod' }, [], /malformed/],
    ['not a string', on(42), { name: 'prod' }, [], /not a string/],
  ])('readOwned: %s', (_n, cm, cluster, tokens, problem) => {
    const fix = (x: unknown): unknown => JSON.parse(JSON.stringify(x).replaceAll('%ARN%', ARN));
    const got = readOwned(fix(cm) as never, fix(cluster) as never);
    expect([...got.tokens].sort()).toEqual([...tokens].sort());
    if (problem) expect(got.problem).toMatch(problem);
    else expect(got.problem).toBeUndefined();
  });

  test('a record made by name is re-bound to the ARN on the next write; tokens are checked with the recorded reference', () => {
    const got = readOwned(on(`v2;prod;${T}`) as never, { name: 'prod', arn: ARN });
    expect([got.readRef, got.writeRef]).toEqual(['prod', ARN]);
    expect(owns(got, 'mapRoles', 'arn:aws:iam::111122223333:role/dev')).toBe(true);
  });

  test('a copied annotation owns nothing here, so the syncer never removes the entry it names', () => {
    const current = awsAuth(
      { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Dev\n  groups: [dev]\n' },
      { [OWNED_ANNOTATION]: `v2;staging;${ownershipToken('staging', 'mapRoles', 'arn:aws:iam::111122223333:role/dev')}` },
    );
    const plan = planSync({ current, snapshot: { users: [], roles: [], groups: [] }, policy: makePolicy(), force: true });
    expect(plan.changes).toEqual([]);
    // The only change: the copied record goes, and the plan says so.
    expect(plan.warnings.map((w) => w.code)).toEqual(['owned-annotation', 'record-only']);
    expect(plan.next.data).toEqual(current.data);
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
    [
      'a page with none of the detail lists (aws iam list-roles output)',
      [{ Roles: [] }],
      /page 0 has none of UserDetailList, RoleDetailList, GroupDetailList \(its fields: Roles\)/,
    ],
    ['an empty page', [{ UserDetailList: [] }, {}], /page 1 has none of UserDetailList, RoleDetailList, GroupDetailList \(it is an empty object\)/],
    ['list not a list', [{ RoleDetailList: {} }], /page 0: RoleDetailList is not a list/],
    ['item not an object', [{ UserDetailList: ['alice'] }], /UserDetailList\[0\] is not an object/],
    ['missing Arn', [{ UserDetailList: [{ UserName: 'alice' }] }], /UserDetailList\[0\]\.Arn is missing/],
    [
      'RoleName not a string',
      [{ RoleDetailList: [{ Arn: 'arn:aws:iam::111122223333:role/x', RoleName: 5 }] }],
      /RoleDetailList\[0\]\.RoleName is not a string/,
    ],
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
    [
      { op: 'remove', key: 'mapUsers', arn: 'arn:aws:iam::111122223333:user/x', before: { username: 'x', groups: [] } },
      '- mapUsers arn:aws:iam::111122223333:user/x username="x" groups=[]',
    ],
    [
      { op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'old', groups: ['a'] }, after },
      '~ mapRoles arn:aws:iam::111122223333:role/Dev username: "old" -> "new"; groups: [a] -> [a, b]',
    ],
    [
      { op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'new', groups: ['a'] }, after },
      '~ mapRoles arn:aws:iam::111122223333:role/Dev groups: [a] -> [a, b]',
    ],
    [
      { op: 'update', key: 'mapRoles', arn: after.arn, before: { username: 'old', groups: ['a', 'b'] }, after },
      '~ mapRoles arn:aws:iam::111122223333:role/Dev username: "old" -> "new"',
    ],
    [
      { op: 'adopt', key: 'mapRoles', arn: after.arn, before: { username: 'h', groups: [] }, after },
      '* mapRoles arn:aws:iam::111122223333:role/Dev adopted: username="h" groups=[] -> username="new" groups=[a, b]',
    ],
    [
      { op: 'add', key: 'mapRoles', arn: after.arn, after: { ...after, username: 'a"b' } },
      '+ mapRoles arn:aws:iam::111122223333:role/Dev username="a\\"b" groups=[a, b]',
    ],
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
    const access = [
      {
        id: 'arn:aws:iam::111122223333:role/dev',
        arn: after.arn,
        versions: ['v0.6.13', 'v0.7.18'],
        before: { kind: 'none' as const },
        after: { kind: 'mapped' as const, username: 'new', groups: ['a', 'b'] },
      },
      {
        id: 'arn:aws:iam::111122223333:role/old',
        arn: 'arn:aws:iam::111122223333:role/Old',
        versions: ['v0.7.18'],
        before: { kind: 'mapped' as const, username: 'o', groups: [] },
        after: { kind: 'none' as const },
      },
    ];
    const summary = summarize(changes, conflicts, 3, access);
    expect(summary).toEqual({
      added: 1,
      removed: 1,
      updated: 0,
      adopted: 0,
      conflicts: 1,
      unmanaged: 3,
      identitiesAdded: 1,
      identitiesRemoved: 1,
      identitiesChanged: 0,
    });
    expect(
      formatReport({
        changes,
        access,
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
      'access (as aws-iam-authenticator reads it):',
      '  arn:aws:iam::111122223333:role/Dev: none → "new" [a, b]',
      '  arn:aws:iam::111122223333:role/Old: "o" [] → none (authenticator v0.7.18)',
      '! conflict mapRoles arn:aws:iam::111122223333:role/C: held by hand',
      '! warning: dropped x',
      '✗ refused (last-masters): no admin left',
      '1 to add, 0 to update, 1 to remove, 0 to adopt, 1 conflicts, 3 unmanaged entries kept; identities: 1 gain access, 1 lose it, 0 change',
    ]);
  });
});
