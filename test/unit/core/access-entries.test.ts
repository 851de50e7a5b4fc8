import { describe, expect, test } from '@jest/globals';
import {
  accessEntryUsernameProblem,
  applyCalls,
  callJson,
  entriesFromDocument,
  formatEntriesReport,
  OWNED_TAG,
  planEntriesRestore,
  planEntriesSync,
  PRINCIPAL_ID_TAG,
  shadowedWarnings,
  type AccessEntry,
  type CurrentEntries,
} from '../../../lib/core/access-entries.js';
import { buildDesired } from '../../../lib/core/desired.js';
import { planMigration } from '../../../lib/core/migrate.js';
import { ACCOUNT, awsAuth, group, makePolicy, role, snapshot, user } from './support.js';

const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const EDIT = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';
const SSO_PATH = '/aws-reserved/sso.amazonaws.com/';
const ssoRole = (ps: string, opts: { id?: string; createdAt?: number } = {}) => ({
  ...role(`AWSReservedSSO_${ps}_0123456789abcdef`, {}, { path: SSO_PATH }),
  ...opts,
});
const uArn = (n: string) => `arn:aws:iam::${ACCOUNT}:user/${n}`;
const owned = (cluster = 'prod', id?: string): Record<string, string> => ({ [OWNED_TAG]: cluster, ...(id ? { [PRINCIPAL_ID_TAG]: id } : {}) });
const entry = (principalArn: string, over: Partial<AccessEntry> = {}): AccessEntry => ({
  principalArn,
  kubernetesGroups: [],
  username: '',
  type: 'STANDARD',
  tags: {},
  ...over,
});
const none: CurrentEntries = { entries: [], policies: {} };

/** The creator's entry EKS makes at cluster creation: an admin the syncer does not own. */
const creator = entry(`arn:aws:iam::${ACCOUNT}:role/cluster-creator`, { username: 'arn:aws:sts::111122223333:assumed-role/cluster-creator/{{SessionName}}' });
const withCreator = (c: CurrentEntries): CurrentEntries => ({
  entries: [creator, ...c.entries],
  policies: { [creator.principalArn]: [{ policyArn: ADMIN, scope: { type: 'cluster' } }], ...c.policies },
});

describe('the same desired mappings, as access entries', () => {
  const policy = makePolicy({
    groupMappings: [
      {
        iamGroup: 'devs',
        kubernetesGroups: ['devs'],
        accessPolicies: [{ policy: 'AmazonEKSEditPolicy', scope: 'namespace', namespaces: ['team-b', 'team-a'] }],
      },
    ],
    roleMappings: [{ ssoPermissionSet: 'AdminAccess', kubernetesGroups: ['system:masters', 'ops'], username: 'sso-admin:{{SessionName}}' }],
  });
  const snap = snapshot({
    users: [{ ...user('alice', ['devs']), id: 'AIDAALICE' }],
    roles: [ssoRole('AdminAccess', { id: 'AROAADMIN' }), role('tagged', { 'aws-auth-syncer/prod/groups': 'viewers' })],
    groups: [group('devs')],
  });

  test('aws-auth keeps the path-less role ARN; the entry gets the ARN IAM reports', () => {
    const sso = buildDesired(snap, policy).mappings.find((m) => m.key === 'mapRoles' && m.identity.name.startsWith('AWSReservedSSO'))!;
    expect(sso.identity.arn).toBe(`arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_AdminAccess_0123456789abcdef`);
    expect(sso.principalArn).toBe(`arn:aws:iam::${ACCOUNT}:role${SSO_PATH}AWSReservedSSO_AdminAccess_0123456789abcdef`);
  });

  test('creates STANDARD entries, system:masters as AmazonEKSClusterAdminPolicy, config policies only from config', () => {
    const plan = planEntriesSync({ current: withCreator(none), snapshot: snap, policy });
    expect(plan.refusals).toEqual([]);
    expect(plan.calls.map(callJson)).toEqual([
      {
        op: 'CreateAccessEntry',
        principalArn: `arn:aws:iam::${ACCOUNT}:role${SSO_PATH}AWSReservedSSO_AdminAccess_0123456789abcdef`,
        kubernetesGroups: ['ops'],
        username: 'sso-admin:{{SessionName}}',
      },
      {
        op: 'AssociateAccessPolicy',
        principalArn: `arn:aws:iam::${ACCOUNT}:role${SSO_PATH}AWSReservedSSO_AdminAccess_0123456789abcdef`,
        policyArn: ADMIN,
        accessScope: { type: 'cluster' },
      },
      {
        op: 'CreateAccessEntry',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/tagged`,
        kubernetesGroups: ['viewers'],
        username: `arn:aws:sts::${ACCOUNT}:assumed-role/tagged/{{SessionName}}`,
      },
      { op: 'CreateAccessEntry', principalArn: uArn('alice'), kubernetesGroups: ['devs'], username: 'alice' },
      { op: 'AssociateAccessPolicy', principalArn: uArn('alice'), policyArn: EDIT, accessScope: { type: 'namespace', namespaces: ['team-a', 'team-b'] } },
    ]);
    const create = plan.calls.find((c) => c.op === 'CreateAccessEntry' && c.principalArn === uArn('alice'));
    expect(create).toMatchObject({ tags: { [OWNED_TAG]: 'prod', [PRINCIPAL_ID_TAG]: 'AIDAALICE' } });
    expect(plan.summary).toMatchObject({ create: 3, associate: 2, delete: 0, identitiesAdded: 3 });
  });

  test('the second run on the result is a no-op', () => {
    const first = planEntriesSync({ current: withCreator(none), snapshot: snap, policy });
    const again = planEntriesSync({ current: applyCalls(withCreator(none), first.calls), snapshot: snap, policy });
    expect(again.calls).toEqual([]);
    expect(again.changed).toBe(false);
  });

  test('tags may not grant system:masters unless allowed, and never grant access policies', () => {
    const tagged = snapshot({ roles: [role('boss', { 'aws-auth-syncer/prod/groups': 'system:masters viewers' })] });
    const plan = planEntriesSync({ current: none, snapshot: tagged, policy: makePolicy() });
    expect(plan.calls.map((c) => c.op)).toEqual(['CreateAccessEntry']);
    expect(plan.calls[0]).toMatchObject({ kubernetesGroups: ['viewers'] });
    expect(plan.warnings.map((w) => w.code)).toContain('tag-group-not-allowed');
  });
});

describe('ownership: entries the syncer did not create are never changed', () => {
  const policy = makePolicy({ groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['devs'] }] });
  const snap = snapshot({ users: [user('alice', ['devs']), user('bob')], groups: [group('devs')] });

  test('an unowned entry for a wanted principal is a conflict, left as it is', () => {
    const current = withCreator({ entries: [entry(uArn('alice'), { kubernetesGroups: ['other'], username: 'alice-by-hand' })], policies: {} });
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(plan.calls).toEqual([]);
    expect(plan.conflicts).toEqual([{ principalArn: uArn('alice'), reason: expect.stringContaining('does not own') }]);
  });

  test('unowned entries not wanted stay; owned ones not wanted go, after every addition', () => {
    const current = withCreator({
      entries: [
        entry(uArn('bob'), { tags: owned(), username: 'bob' }),
        entry(uArn('carol'), { username: 'carol' }),
        entry(`arn:aws:iam::${ACCOUNT}:role/nodes`, { type: 'EC2_LINUX' }),
      ],
      policies: {},
    });
    const plan = planEntriesSync({ current, snapshot: snapshot({ ...snap, users: [...snap.users, user('carol')] }), policy });
    expect(plan.calls.map((c) => `${c.op} ${c.principalArn}`)).toEqual([`CreateAccessEntry ${uArn('alice')}`, `DeleteAccessEntry ${uArn('bob')}`]);
  });

  test('an owned entry of another cluster (tag value) is not this cluster’s', () => {
    const current = withCreator({ entries: [entry(uArn('bob'), { tags: owned('staging') })], policies: {} });
    expect(planEntriesSync({ current, snapshot: snap, policy }).calls.some((c) => c.principalArn === uArn('bob'))).toBe(false);
  });

  test('updates groups and username; associates, re-scopes and disassociates policies', () => {
    const p = makePolicy({
      groupMappings: [
        {
          iamGroup: 'devs',
          kubernetesGroups: ['devs', 'x'],
          accessPolicies: [
            { policy: 'AmazonEKSViewPolicy', scope: 'cluster' },
            { policy: 'AmazonEKSEditPolicy', scope: 'namespace', namespaces: ['a'] },
          ],
        },
      ],
    });
    const current = withCreator({
      entries: [entry(uArn('alice'), { tags: owned(), username: 'old', kubernetesGroups: ['devs'] })],
      policies: {
        [uArn('alice')]: [
          { policyArn: EDIT, scope: { type: 'namespace', namespaces: ['b'] } },
          { policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy', scope: { type: 'cluster' } },
        ],
      },
    });
    const plan = planEntriesSync({ current, snapshot: snap, policy: p });
    expect(plan.calls.map(callJson)).toEqual([
      { op: 'UpdateAccessEntry', principalArn: uArn('alice'), kubernetesGroups: ['devs', 'x'], username: 'alice' },
      { op: 'AssociateAccessPolicy', principalArn: uArn('alice'), policyArn: EDIT, accessScope: { type: 'namespace', namespaces: ['a'] } },
      { op: 'AssociateAccessPolicy', principalArn: uArn('alice'), policyArn: VIEW, accessScope: { type: 'cluster' } },
      { op: 'DisassociateAccessPolicy', principalArn: uArn('alice'), policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy' },
    ]);
    expect(plan.access.map((c) => c.arn)).toEqual([uArn('alice')]);
    expect(formatEntriesReport(plan).join('\n')).toContain(
      `${uArn('alice')}: "old" [devs] + AmazonEKSAdminPolicy (cluster), AmazonEKSEditPolicy (namespaces b) → "alice" [devs, x]`,
    );
  });
});

describe('a principal deleted and recreated under the same ARN', () => {
  const policy = makePolicy({ groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['devs'] }] });
  const now = Date.parse('2026-11-28T10:00:00Z');

  test('the recorded principal id differs: delete and create again, first', () => {
    const snap = snapshot({
      users: [
        { ...user('alice', ['devs']), id: 'AIDANEW' },
        { ...user('bob', ['devs']), id: 'AIDABOB' },
      ],
      groups: [group('devs')],
    });
    const current = withCreator({
      entries: [entry(uArn('alice'), { tags: owned('prod', 'AIDAOLD'), username: 'alice', kubernetesGroups: ['devs'] })],
      policies: {},
    });
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(plan.calls.map((c) => `${c.op} ${c.principalArn}`)).toEqual([
      `DeleteAccessEntry ${uArn('alice')}`,
      `CreateAccessEntry ${uArn('alice')}`,
      `CreateAccessEntry ${uArn('bob')}`,
    ]);
    expect(plan.calls[1]).toMatchObject({ tags: { [PRINCIPAL_ID_TAG]: 'AIDANEW' } });
    expect(plan.summary).toMatchObject({ recreate: 1, create: 1, delete: 0, identitiesAdded: 2, identitiesRemoved: 0 });
    expect(plan.warnings.map((w) => w.code)).toContain('recreate');
    // The stale entry granted nothing: its line says so.
    expect(formatEntriesReport(plan).join('\n')).toMatch(
      /alice: none \(an entry exists but its IAM user was deleted and created again \(id AIDAOLD → AIDANEW\)\) → "alice" \[devs\]/,
    );
  });

  test('without the id tag: an entry older than its principal (whole seconds) is stale', () => {
    const snap = (createdAt: number) => snapshot({ users: [{ ...user('alice', ['devs']), createdAt }], groups: [group('devs')] });
    const current = withCreator({
      entries: [entry(uArn('alice'), { tags: owned(), username: 'alice', kubernetesGroups: ['devs'], createdAt: now })],
      policies: {},
    });
    expect(planEntriesSync({ current, snapshot: snap(now + 5000), policy }).summary.recreate).toBe(1);
    // Same second (ministack keeps whole seconds, IAM has fractions or not): not stale.
    expect(planEntriesSync({ current, snapshot: snap(now + 900), policy }).calls).toEqual([]);
    expect(planEntriesSync({ current, snapshot: snap(now - 60000), policy }).calls).toEqual([]);
  });

  test('an entry the syncer does not own is only reported', () => {
    const snap = snapshot({ users: [{ ...user('carol'), id: 'AIDAC2', createdAt: now }] });
    const current = withCreator({ entries: [entry(uArn('carol'), { createdAt: now - 86400000 })], policies: {} });
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(plan.calls).toEqual([]);
    expect(plan.warnings.find((w) => w.code === 'stale-entry')?.message).toContain('not the syncer');
  });
});

describe('a role whose path changed (deleted and created again under another path)', () => {
  // Role names are unique in an account whatever the path: an entry for role/ops when IAM has
  // role/team/ops was made for a role that no longer exists, and grants nothing.
  const policy = makePolicy({ roleMappings: [{ roleName: 'ops', kubernetesGroups: ['ops'] }] });
  const snap = snapshot({ roles: [role('ops', {}, { path: '/team/' })] });
  const oldArn = `arn:aws:iam::${ACCOUNT}:role/ops`;
  const newArn = `arn:aws:iam::${ACCOUNT}:role/team/ops`;
  const username = `arn:aws:sts::${ACCOUNT}:assumed-role/ops/{{SessionName}}`;
  const ops = (arn: string, tags: Record<string, string>) => entry(arn, { tags, username, kubernetesGroups: ['ops'] });
  const calls = (p: ReturnType<typeof planEntriesSync>) => p.calls.map((c) => `${c.op} ${c.principalArn}`);

  test("the syncer's entry under the old path is dead: a new one is created, the old one deleted last; the result is settled", () => {
    const current: CurrentEntries = { entries: [ops(oldArn, owned())], policies: {} };
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(calls(plan)).toEqual([`CreateAccessEntry ${newArn}`, `DeleteAccessEntry ${oldArn}`]);
    expect(plan.warnings).toContainEqual(expect.objectContaining({ code: 'stale-entry', message: expect.stringContaining(`is now ${newArn}`) }));
    // It gave nothing before (dead), so ops gains access rather than keeping it.
    expect(plan.summary).toMatchObject({ identitiesAdded: 1, identitiesRemoved: 0 });
    expect(planEntriesSync({ current: applyCalls(current, plan.calls), snapshot: snap, policy }).calls).toEqual([]);
  });

  test("someone else's dead entry under the old path does not block the new one; it is only reported", () => {
    const current: CurrentEntries = { entries: [ops(oldArn, {})], policies: {} };
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(calls(plan)).toEqual([`CreateAccessEntry ${newArn}`]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.warnings.find((w) => w.code === 'stale-entry')?.message).toContain('not the syncer');
  });

  test("someone else's working entry holds the role: a conflict; the syncer's dead one for it goes", () => {
    // The working entry listed first: the dead one after it must not take its place.
    const current: CurrentEntries = { entries: [ops(newArn, {}), ops(oldArn, owned())], policies: {} };
    const plan = planEntriesSync({ current, snapshot: snap, policy });
    expect(plan.conflicts).toEqual([{ principalArn: newArn, reason: expect.stringContaining('does not own') }]);
    expect(calls(plan)).toEqual([`DeleteAccessEntry ${oldArn}`]);
    // The working entry is the one whose access counts, not the dead one listed first.
    expect(plan.before.get(`arn:aws:iam::${ACCOUNT}:role/ops`)).toMatchObject({ arn: newArn, owned: false });
    expect(plan.access).toEqual([]);
  });
});

describe('guards over effective access', () => {
  // The config no longer maps the admin role (it still exists in IAM).
  const policy = makePolicy({ roleMappings: [{ roleName: 'other', kubernetesGroups: ['x'] }], guards: { maxRemovals: 1 } });
  const adminArn = `arn:aws:iam::${ACCOUNT}:role/admin`;
  const adminEntry: CurrentEntries = {
    entries: [entry(adminArn, { tags: owned(), username: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/{{SessionName}}` })],
    policies: { [adminArn]: [{ policyArn: ADMIN, scope: { type: 'cluster' } }] },
  };
  const iam = (...names: string[]) => snapshot({ roles: names.map((n) => role(n)) });

  test('the last cluster admin is kept, even with force; another admin (not owned) lets it go', () => {
    const plan = planEntriesSync({ current: adminEntry, snapshot: iam('admin', 'other'), policy, force: true });
    expect(plan.refusals.map((r) => r.code)).toEqual(['last-cluster-admin']);
    expect(plan.refusals[0]!.message).toContain(adminArn);
    const ok = planEntriesSync({ current: withCreator(adminEntry), snapshot: iam('admin', 'other', 'cluster-creator'), policy });
    expect(ok.refusals).toEqual([]);
    expect(ok.calls.map(callJson)).toEqual([
      {
        op: 'CreateAccessEntry',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/other`,
        kubernetesGroups: ['x'],
        username: `arn:aws:sts::${ACCOUNT}:assumed-role/other/{{SessionName}}`,
      },
      { op: 'DeleteAccessEntry', principalArn: adminArn },
    ]);
  });

  test('an admin entry that grants nothing (its principal is gone from IAM) is no admin', () => {
    const plan = planEntriesSync({ current: withCreator(adminEntry), snapshot: iam('admin', 'other'), policy });
    expect(plan.refusals.map((r) => r.code)).toEqual(['last-cluster-admin']);
    expect(plan.warnings.find((w) => w.code === 'stale-entry')?.message).toContain('cluster-creator grants nothing: its IAM principal does not exist');
  });

  test('the syncer’s own entry never changes; max removals and empty discovery are waivable', () => {
    const p = makePolicy({ groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['devs'] }], guards: { maxRemovals: 1 } });
    const current = withCreator({
      entries: ['a', 'b', 'self'].map((n) => entry(uArn(n), { tags: owned(), username: n, kubernetesGroups: ['devs'] })),
      policies: {},
    });
    const snap = snapshot({ users: [user('a'), user('b'), user('self')], groups: [group('devs')] });
    const plan = planEntriesSync({ current, snapshot: snap, policy: p, selfArns: [uArn('self')] });
    expect(plan.refusals.map((r) => r.code).sort()).toEqual(['empty-discovery', 'self-mapping', 'too-many-removals']);
    const forced = planEntriesSync({ current, snapshot: snap, policy: p, selfArns: [uArn('self')], force: true });
    expect(forced.refusals.map((r) => r.code)).toEqual(['self-mapping']);
  });
});

describe('what EKS refuses, checked here (ministack accepts it)', () => {
  test.each([
    ['system:admin', /system:/],
    ['eks:x', /eks:/],
    ['AWS:x', /aws:/],
    ['amazon:x', /amazon:/],
    ['iam:x', /iam:/],
    ['{{SessionName}}', /colon before/],
    ['team-{{SessionNameRaw}}', /colon before/],
    ['n:{{EC2PrivateDNSName}}', /node entries/],
  ])('username %s', (name, why) => expect(accessEntryUsernameProblem(name)).toMatch(why));

  test.each(['team:{{SessionName}}', 'arn:aws:sts::1:assumed-role/r/{{SessionName}}', 'alice'])('username %s is fine', (name) =>
    expect(accessEntryUsernameProblem(name)).toBeUndefined(),
  );

  test('a mapping whose username EKS refuses is skipped with a warning', () => {
    const p = makePolicy({ roleMappings: [{ roleName: 'ci-*', kubernetesGroups: ['deployers'], username: '{{SessionName}}' }] });
    const plan = planEntriesSync({ current: none, snapshot: snapshot({ roles: [role('ci-build')] }), policy: p });
    expect(plan.calls).toEqual([]);
    expect(plan.warnings.find((w) => w.code === 'bad-username')?.message).toContain('colon before {{SessionName}}');
  });
});

describe('restore', () => {
  test('the owned entries become the backup’s; unowned ones are untouched; guards apply', () => {
    const backup: CurrentEntries = {
      entries: [entry(uArn('alice'), { tags: owned('prod', 'AIDAOLD'), username: 'alice', kubernetesGroups: ['devs'] })],
      policies: { [uArn('alice')]: [{ policyArn: VIEW, scope: { type: 'cluster' } }] },
    };
    const current = withCreator({ entries: [entry(uArn('bob'), { tags: owned(), username: 'bob' })], policies: {} });
    const plan = planEntriesRestore({ current, backup, cluster: 'prod' });
    expect(plan.calls.map(callJson)).toEqual([
      { op: 'CreateAccessEntry', principalArn: uArn('alice'), kubernetesGroups: ['devs'], username: 'alice' },
      { op: 'AssociateAccessPolicy', principalArn: uArn('alice'), policyArn: VIEW, accessScope: { type: 'cluster' } },
      { op: 'DeleteAccessEntry', principalArn: uArn('bob') },
    ]);
    // The recorded principal id is not restored (the principal may be another one by now).
    expect(plan.calls[0]).toMatchObject({ tags: { [OWNED_TAG]: 'prod' } });
    expect((plan.calls[0] as { tags: Record<string, string> }).tags[PRINCIPAL_ID_TAG]).toBeUndefined();
    const adminGone = planEntriesRestore({
      current: { entries: [entry(uArn('boss'), { tags: owned() })], policies: { [uArn('boss')]: [{ policyArn: ADMIN, scope: { type: 'cluster' } }] } },
      backup,
      cluster: 'prod',
    });
    expect(adminGone.refusals.map((r) => r.code)).toEqual(['last-cluster-admin']);
    expect(
      planEntriesRestore({
        current: { entries: [entry(uArn('boss'), { tags: owned() })], policies: { [uArn('boss')]: [{ policyArn: ADMIN, scope: { type: 'cluster' } }] } },
        backup,
        cluster: 'prod',
        force: true,
      }).refusals,
    ).toEqual([]);
  });
});

describe('restore: several entries of one identity', () => {
  const oldArn = `arn:aws:iam::${ACCOUNT}:role/ops`;
  const newArn = `arn:aws:iam::${ACCOUNT}:role/team/ops`;
  test('a backup holding entries for a role under two paths brings both back (neither deletes the other)', () => {
    const backup: CurrentEntries = { entries: [entry(oldArn, { tags: owned() }), entry(newArn, { tags: owned() })], policies: {} };
    const plan = planEntriesRestore({ current: none, backup, cluster: 'prod' });
    expect(plan.calls.map((c) => `${c.op} ${c.principalArn}`).sort()).toEqual([`CreateAccessEntry ${oldArn}`, `CreateAccessEntry ${newArn}`]);
    expect(planEntriesRestore({ current: applyCalls(none, plan.calls), backup, cluster: 'prod' }).calls).toEqual([]);
  });
  test('an entry of the syncer under a third path is deleted once', () => {
    const backup: CurrentEntries = { entries: [entry(oldArn, { tags: owned() }), entry(newArn, { tags: owned() })], policies: {} };
    const third = `arn:aws:iam::${ACCOUNT}:role/x/ops`;
    const plan = planEntriesRestore({ current: { entries: [entry(third, { tags: owned() })], policies: {} }, backup, cluster: 'prod' });
    expect(plan.calls.filter((c) => c.op === 'DeleteAccessEntry').map((c) => c.principalArn)).toEqual([third]);
  });
  test("someone else's entry under the other path does not stop a restore; one under the same ARN does", () => {
    const backup: CurrentEntries = { entries: [entry(newArn, { tags: owned() })], policies: {} };
    const other = (arn: string): CurrentEntries => ({ entries: [entry(arn)], policies: {} });
    expect(planEntriesRestore({ current: other(oldArn), backup, cluster: 'prod' }).calls.map((c) => c.op)).toEqual(['CreateAccessEntry']);
    const blocked = planEntriesRestore({ current: other(newArn), backup, cluster: 'prod' });
    expect(blocked.calls).toEqual([]);
    expect(blocked.conflicts).toEqual([{ principalArn: newArn, reason: expect.stringContaining('does not own') }]);
  });
});

describe('several entries of one identity, which one works not known (a restore; an account IAM was not read for)', () => {
  // A role moved from /team/ to /: its entry role/ops works, someone's role/team/ops is for a role
  // deleted since. Without IAM the two look alike; the guards take the worse case either way.
  const live = `arn:aws:iam::${ACCOUNT}:role/ops`;
  const other = `arn:aws:iam::${ACCOUNT}:role/team/ops`;
  const admin = (arn: string) => ({ [arn]: [{ policyArn: ADMIN, scope: { type: 'cluster' as const } }] });
  const calls = (p: { calls: { op: string; principalArn: string }[] }) => p.calls.map((c) => `${c.op} ${c.principalArn}`);
  test.each([
    ['listed first', [entry(live, { tags: owned() }), entry(other)]],
    ['listed last', [entry(other), entry(live, { tags: owned() })]],
  ])('a restore deleting the only admin entry (%s) is refused: the other may be the dead one', (_what, entries) => {
    const plan = planEntriesRestore({ current: { entries, policies: admin(live) }, backup: none, cluster: 'prod' });
    expect(calls(plan)).toEqual([`DeleteAccessEntry ${live}`]);
    expect(plan.refusals.map((r) => r.code)).toEqual(['last-cluster-admin']);
    expect(formatEntriesReport(plan).join('\n')).toContain(`(if ${live} is the working entry) or "" [] (if ${other} is the working entry) → "" []`);
  });
  test("a restore deleting the syncer's own entry beside another is refused (self)", () => {
    const self = `arn:aws:iam::${ACCOUNT}:role/syncer`;
    const current: CurrentEntries = {
      entries: [entry(self, { tags: owned(), kubernetesGroups: ['x'] }), entry(`arn:aws:iam::${ACCOUNT}:role/team/syncer`)],
      policies: {},
    };
    const plan = planEntriesRestore({ current, backup: none, cluster: 'prod', selfArns: [`arn:aws:sts::${ACCOUNT}:assumed-role/syncer/session-1`] });
    expect(plan.refusals.map((r) => r.code)).toEqual(['self-mapping']);
  });
  test('a sync in an account IAM was not read for: the same', () => {
    const l = 'arn:aws:iam::444455556666:role/x';
    const current: CurrentEntries = { entries: [entry(l, { tags: owned() }), entry('arn:aws:iam::444455556666:role/team/x')], policies: admin(l) };
    const plan = planEntriesSync({
      current,
      snapshot: snapshot({ roles: [role('dev')] }),
      policy: makePolicy({ roleMappings: [{ roleName: 'dev', kubernetesGroups: ['dev'] }], guards: { maxRemovals: 0 } }),
    });
    expect(calls(plan)).toContain(`DeleteAccessEntry ${l}`);
    expect(plan.refusals.map((r) => r.code)).toContain('last-cluster-admin');
    expect(plan.refusals.map((r) => r.code)).toContain('too-many-removals');
  });
  test('an admin after only if every entry that may be the working one is an admin', () => {
    const backup: CurrentEntries = { entries: [entry(live, { tags: owned() })], policies: admin(live) };
    // Restoring role/ops as admin beside someone's non-admin role/team/ops: not surely an admin.
    const boss = `arn:aws:iam::${ACCOUNT}:user/boss`;
    const current: CurrentEntries = { entries: [entry(other), entry(boss, { tags: owned() })], policies: admin(boss) };
    const plan = planEntriesRestore({ current, backup, cluster: 'prod' });
    expect(calls(plan)).toEqual([`CreateAccessEntry ${live}`, `AssociateAccessPolicy ${live}`, `DeleteAccessEntry ${boss}`]);
    expect(plan.refusals).toEqual([{ code: 'last-cluster-admin', message: expect.stringContaining(`no identity would surely hold`) }]);
  });
});

describe('the --current-entries document', () => {
  test('reads EKS’s shapes (ISO dates from the aws CLI, epoch seconds from the API)', () => {
    const doc = entriesFromDocument({
      accessEntries: [
        {
          clusterName: 'prod',
          principalArn: uArn('a'),
          kubernetesGroups: ['x'],
          username: 'a',
          type: 'STANDARD',
          tags: { k: 'v' },
          createdAt: '2026-01-02T03:04:05.678000+00:00',
          accessEntryArn: 'arn:…',
        },
        { principalArn: uArn('b'), createdAt: 1767323045.5 },
      ],
      associatedPolicies: {
        [uArn('a')]: [{ policyArn: VIEW, accessScope: { type: 'namespace', namespaces: ['z', 'a'] }, associatedAt: '2026-01-02T03:04:05Z' }],
      },
    });
    expect(doc.entries[0]).toEqual({
      principalArn: uArn('a'),
      kubernetesGroups: ['x'],
      username: 'a',
      type: 'STANDARD',
      tags: { k: 'v' },
      createdAt: Date.parse('2026-01-02T03:04:05.678Z'),
    });
    expect(doc.entries[1]).toMatchObject({ type: 'STANDARD', kubernetesGroups: [], createdAt: 1767323045500 });
    expect(doc.policies[uArn('a')]).toEqual([{ policyArn: VIEW, scope: { type: 'namespace', namespaces: ['a', 'z'] } }]);
  });

  test.each([
    [{}, /expected \{"accessEntries"/],
    [{ accessEntries: [{}] }, /accessEntries\[0\]\.principalArn is missing/],
    [{ accessEntries: [{ principalArn: 'a', kubernetesGroups: 'x' }] }, /kubernetesGroups is not a list/],
    [{ accessEntries: [{ principalArn: 'a' }, { principalArn: 'a' }] }, /listed twice/],
    [{ accessEntries: [], associatedPolicies: { b: [] } }, /b has no access entry/],
    [
      { accessEntries: [{ principalArn: 'a' }], associatedPolicies: { a: [{ policyArn: 'p', accessScope: { type: 'everywhere' } }] } },
      /accessScope.type must be cluster or namespace/,
    ],
    [{ accessEntries: [{ principalArn: 'a', createdAt: 'yesterday' }] }, /createdAt is not a date/],
    // Without the associations no entry would count as a cluster admin: the guards would be blind.
    [{ accessEntries: [{ principalArn: 'a' }] }, /associatedPolicies is missing: give each entry's `aws eks list-associated-access-policies` items, or \{\}/],
  ])('%j is refused naming the problem', (doc, why) => expect(() => entriesFromDocument(doc)).toThrow(why));
});

describe('aws-auth target in API_AND_CONFIG_MAP mode', () => {
  test('an aws-auth mapping with an access entry for the same principal is reported as shadowed', () => {
    const roleKey = `arn:aws:iam::${ACCOUNT}:role/deploy`.toLowerCase();
    const entries: CurrentEntries = { entries: [entry(`arn:aws:iam::${ACCOUNT}:role/ci/deploy`)], policies: {} };
    const w = shadowedWarnings(
      [
        { id: roleKey, arn: `arn:aws:iam::${ACCOUNT}:role/deploy` },
        { id: uArn('x').toLowerCase(), arn: uArn('x') },
      ],
      entries,
    );
    expect(w).toEqual([
      {
        code: 'shadowed',
        arn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
        message: expect.stringContaining(`access entry for arn:aws:iam::${ACCOUNT}:role/ci/deploy`),
      },
    ]);
  });
});

describe('migrate --to access-entries', () => {
  test('classifies every aws-auth entry: moves, cannot move, not managed', () => {
    const policy = makePolicy({ groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['devs'] }] });
    const snap = snapshot({ users: [user('alice', ['devs'])], groups: [group('devs')] });
    const current = awsAuth({
      mapRoles: [
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]`,
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/team/deploy\n  username: deploy\n  groups: [deployers]`,
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/monitor\n  username: monitor\n  groups: [system:monitoring]`,
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/ops\n  username: ops\n  groups: [ops]`,
      ].join('\n'),
      mapAccounts: `- "${ACCOUNT}"`,
    });
    const entriesPlan = planEntriesSync({ current: none, snapshot: snap, policy });
    const r = planMigration({ current, policy, entriesPlan, currentEntries: none });
    expect(r.cannotMove.map((i) => `${i.where}: ${i.reason.split(':')[0]}`)).toEqual([
      'mapAccounts: accounts 111122223333',
      'mapRoles[0]: a node role',
      'mapRoles[1]: grants nothing today',
      'mapRoles[2]: Kubernetes group(s) system',
    ]);
    expect(r.notManaged.map((i) => i.where)).toEqual(['mapRoles[3]']);
    expect(entriesPlan.calls.map(callJson)).toEqual([{ op: 'CreateAccessEntry', principalArn: uArn('alice'), kubernetesGroups: ['devs'], username: 'alice' }]);
  });
});
