/**
 * Guards over effective access. Each class of the review that found writes removing every node
 * mapping or the last working admin while every guard passed is a case here: the guard must see
 * what the authenticator sees, not what the text seems to say.
 */
import { describe, expect, test } from '@jest/globals';
import { effectiveAccess } from '../../../lib/core/access.js';
import { viewAwsAuth } from '../../../lib/core/awsauth.js';
import { checkGuards, GUARDS, type GuardContext } from '../../../lib/core/guards.js';
import { formatOwned, OWNED_ANNOTATION, ownershipToken } from '../../../lib/core/ownership.js';
import { planRestore, planSync } from '../../../lib/core/plan.js';
import { CONFIGMAP_MAX_BYTES, dataSize } from '../../../lib/core/render.js';
import type { ConfigMapObject, MapKey } from '../../../lib/core/types.js';
import { ACCOUNT, awsAuth, makePolicy, role, snapshot, user } from './support.js';

const A = `arn:aws:iam::${ACCOUNT}`;
const NODE = `- rolearn: ${A}:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n`;
const ADMIN = `- rolearn: ${A}:role/Admin\n  username: admin\n  groups: [system:masters]\n`;
const SYNCER = `- rolearn: ${A}:role/aws-auth-syncer\n  username: syncer\n  groups: [syncer]\n`;
const owned = (...ids: [MapKey, string][]): Record<string, string> => ({
  [OWNED_ANNOTATION]: formatOwned(
    'prod',
    ids.map(([k, id]) => ownershipToken('prod', k, id.toLowerCase())),
  ),
});
const G = 'aws-auth-syncer/prod/groups';

/** A sync where the owned Admin role loses its tag: the plan removes the last *working* admin. */
function dropOwnedAdmin(extraRoles: string, extraUsers = '', force = false) {
  const current = awsAuth({ mapRoles: NODE + ADMIN + extraRoles, ...(extraUsers ? { mapUsers: extraUsers } : {}) }, owned(['mapRoles', `${A}:role/Admin`]));
  const iam = snapshot({ roles: [role('Dev', { [G]: 'dev' })] });
  return planSync({ current, snapshot: iam, policy: makePolicy(), force });
}
const codes = (p: { refusals: { code: string }[] }): string[] => p.refusals.map((r) => r.code).sort();

describe('dead admins do not count: removing the last working admin is refused', () => {
  test.each([
    ['a role ARN with a path', `- rolearn: ${A}:role/team/Admin2\n  groups: [system:masters]\n`],
    ['an STS assumed-role ARN', `- rolearn: arn:aws:sts::${ACCOUNT}:assumed-role/Admin2/s\n  groups: [system:masters]\n`],
    ['another partition', `- rolearn: arn:aws-cn:iam::${ACCOUNT}:role/Admin2\n  groups: [system:masters]\n`],
    ['a trailing NBSP', `- rolearn: "${A}:role/Admin2\u00a0"\n  groups: [system:masters]\n`],
    ['a trailing space', `- rolearn: "${A}:role/Admin2 "\n  groups: [system:masters]\n`],
    ['a duplicate shadowed by a later entry', `- rolearn: ${A}:role/Z\n  groups: [system:masters]\n- rolearn: ${A}:role/z\n  groups: [view]\n`],
    ['an sso matcher (feature gate off)', `- sso: {permissionSetName: Admin, accountID: "${ACCOUNT}"}\n  groups: [system:masters]\n`],
    [
      'rolearn and sso together (v0.7 drops it)',
      `- rolearn: ${A}:role/Admin2\n  sso: {permissionSetName: Admin, accountID: "${ACCOUNT}"}\n  groups: [system:masters]\n`,
    ],
  ])('%s', (_name, extra) => {
    const plan = dropOwnedAdmin(extra);
    expect(plan.changed).toBe(true);
    expect(codes(plan)).toEqual(['last-masters']);
  });

  test.each([
    ['a %YAML directive', '%YAML 1.2\n---\n' + `- userarn: ${A}:user/root\n  groups: [system:masters]\n`],
    ['a null key', `- userarn: ${A}:user/root\n  ~: x\n  groups: [system:masters]\n`],
    ['a complex key', `[{userarn: "${A}:user/root", [a]: b, groups: [system:masters]}]`],
    ['a field only Go folding matches (groupſ)', `- userarn: ${A}:user/root\n  group\u017f: [system:masters]\n`],
    ['a merge key', `- <<: {groups: [system:masters]}\n  userarn: ${A}:user/root\n`],
  ])('%s makes its key unreadable: refused, and with force the last known admin still cannot go', (_name, users) => {
    // (and where the key's YAML is in doubt, the new Dev entry in mapRoles could override what
    // mapUsers maps for Dev; a folded field name other than userarn leaves its identities known)
    const hides = _name === 'a field only Go folding matches (groupſ)' ? [] : ['hidden-by-unreadable'];
    expect(codes(dropOwnedAdmin('', users))).toEqual(['current-unreadable', ...hides, 'last-masters']);
    const forced = dropOwnedAdmin('', users, true);
    expect(codes(forced)).toEqual([...hides, 'last-masters']);
    expect(forced.next.data?.mapUsers).toBe(users);
  });

  test('a live admin elsewhere (mapUsers) lets the owned one go', () => {
    const plan = dropOwnedAdmin('', `- userarn: ${A}:user/root\n  groups: [system:masters]\n`);
    expect(codes(plan)).toEqual([]);
    expect(plan.access.map((a) => a.arn)).toEqual([`${A}:role/Admin`, `${A}:role/Dev`]);
  });

  test('an admin the newer authenticator picks at random does not count after (worse outcome)', () => {
    const users = `- userarn: ${A}:user/Bob\n  groups: [view]\n- userarn: ${A}:user/bob\n  groups: [system:masters]\n`;
    expect(codes(dropOwnedAdmin('', users))).toEqual(['last-masters']);
  });
});

describe('bytes go-yaml rejects never reach aws-auth', () => {
  test.each([
    ['a C1 control', '\u0086'],
    ['DEL', '\u007f'],
    ['U+FFFF', '\uffff'],
  ])('a kept entry holding %s: the key is broken, refused, kept byte for byte with force', (_n, ch) => {
    const roles = NODE + `- rolearn: ${A}:role/Legacy\n  username: legacy${ch}\n  groups: [legacy]\n`;
    const current = awsAuth({ mapRoles: roles });
    const iam = snapshot({ roles: [role('Dev', { [G]: 'dev' })], users: [user('alice', [], { [G]: 'dev' })] });
    const plan = planSync({ current, snapshot: iam, policy: makePolicy() });
    expect(codes(plan)).toEqual(['current-unreadable']);
    expect(plan.refusals[0]!.message).toMatch(/the authenticator cannot read it/);
    const forced = planSync({ current, snapshot: iam, policy: makePolicy(), force: true });
    expect(codes(forced)).toEqual([]);
    expect(forced.next.data?.mapRoles).toBe(roles);
    expect(forced.warnings.map((w) => w.code)).toContain('unreadable-key');
  });
  test('an IAM user whose tag username would need one is written escaped, and reads back', () => {
    const iam = snapshot({ users: [user('alice', [], { [G]: 'dev', 'aws-auth-syncer/prod/username': 'al\u00e9' })] });
    const plan = planSync({ current: null, snapshot: iam, policy: makePolicy() });
    expect(codes(plan)).toEqual([]);
    expect(plan.access.map((a) => a.after)).toEqual([{ kind: 'mapped', username: 'al\u00e9', groups: ['dev'] }]);
  });
});

describe('a merge key never lets a re-render change what a kept entry grants', () => {
  test('<< in a kept entry: the key is unreadable, so it is never re-rendered', () => {
    const roles = `- &base {groups: [viewers]}\n- <<: *base\n  rolearn: ${A}:role/X\n  groups: [system:masters]\n`;
    const plan = planSync({
      current: awsAuth({ mapRoles: roles }),
      snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }),
      policy: makePolicy(),
      force: true,
    });
    expect(plan.next.data?.mapRoles).toBe(roles);
  });
});

describe('aliases', () => {
  test('a 40 KB fanned-out anchor is refused as unreadable, never expanded (its time and memory: npm run bench)', () => {
    const lines = ['- &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 2000; i++) lines.push(`- &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
    const roles = lines.join('\n');
    const plan = planSync({ current: awsAuth({ mapRoles: roles }), snapshot: snapshot({ users: [user('alice', [], { [G]: 'dev' })] }), policy: makePolicy() });
    expect(codes(plan)).toEqual(['current-unreadable']);
    expect(plan.refusals[0]!.message).toMatch(/a value starting with "&"/);
  });
});

describe('a key the syncer cannot read hides who it maps: force does not let that past the admin, node and self guards', () => {
  // The authenticator looks up mapRoles first, then mapUsers, for any identity (a user ARN in
  // mapRoles included): an unreadable key can override what the readable one says.
  const UNSURE_ROLES = `- rolearn: ${A}:user/bob\n  username: &n bob\n  groups: []\n`;
  const ALICE = `- userarn: ${A}:user/alice\n  username: alice\n  groups: [system:masters]\n`;
  const BOB = `- userarn: ${A}:user/bob\n  username: bob\n  groups: [system:masters]\n`;

  test('mapRoles unreadable: nobody may lose system:masters, even with force, unless an admin it cannot hide remains', () => {
    const current = awsAuth({ mapRoles: UNSURE_ROLES, mapUsers: ALICE + BOB }, owned(['mapUsers', `${A}:user/alice`]));
    // alice leaves the admins group; bob (hand-written) stays an admin as far as mapUsers says, but mapRoles may map him to []
    const plan = planSync({ current, snapshot: snapshot({ roles: [] }), policy: makePolicy(), force: true });
    expect(plan.rows.map((r) => [r.id, r.action])).toEqual([[`${A}:user/alice`, 'remove']]);
    expect(codes(plan)).toEqual(['hidden-by-unreadable']);
    expect(plan.refusals[0]!.message).toMatch(/mapRoles cannot be read.*nobody may lose system:masters/);
    // Only an entry-level doubt (a username that is a boolean): mapRoles names only role/x, so bob is certainly an admin after.
    const entryLevel = awsAuth(
      { mapRoles: `- rolearn: ${A}:role/x\n  username: on\n  groups: []\n`, mapUsers: ALICE + BOB },
      owned(['mapUsers', `${A}:user/alice`]),
    );
    expect(codes(planSync({ current: entryLevel, snapshot: snapshot({ roles: [] }), policy: makePolicy(), force: true }))).toEqual([]);
  });

  test('mapRoles unreadable: an admin who keeps system:masters may still change (a group added)', () => {
    const current = awsAuth({ mapRoles: UNSURE_ROLES, mapUsers: ALICE }, owned(['mapUsers', `${A}:user/alice`]));
    const plan = planSync({
      current,
      snapshot: snapshot({ users: [user('alice', [], { [G]: 'dev system:masters' })] }),
      policy: makePolicy({ tags: { allowedGroups: ['*', 'system:masters'] } }),
      force: true,
    });
    expect(plan.rows.map((r) => [r.id, r.action])).toEqual([[`${A}:user/alice`, 'update']]);
    expect(codes(plan)).toEqual([]);
  });

  test('a folded field name that may fill the ARN (uſerarn) leaves the identities unknown; one that fills another field does not', () => {
    const withRole = (mapUsers: string) =>
      codes(
        planSync({
          current: awsAuth({ mapRoles: ADMIN, mapUsers }),
          snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }),
          policy: makePolicy(),
          force: true,
        }),
      );
    expect(withRole(`- u\u017ferarn: ${A}:role/dev\n  groups: [ops]\n`)).toEqual(['hidden-by-unreadable']);
    expect(withRole(`- userarn: ${A}:user/x\n  u\u017fername: admin\n`)).toEqual([]);
  });

  test('mapUsers unreadable: no new mapRoles entry for an identity it may map, even with force', () => {
    // the node role is mapped in an unreadable mapUsers; a tag on it would put a mapRoles entry first
    const nodeInUsers = `- userarn: ${A}:role/node\n  username: &n system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n`;
    const current = awsAuth({ mapRoles: ADMIN, mapUsers: nodeInUsers });
    const plan = planSync({ current, snapshot: snapshot({ roles: [role('node', { [G]: 'devs' })] }), policy: makePolicy(), force: true });
    expect(codes(plan)).toEqual(['hidden-by-unreadable']);
    expect(plan.refusals[0]!.message).toMatch(
      new RegExp(`mapUsers cannot be read: a new mapRoles entry would override whatever it maps for the same identity \\(${A}:role/node\\)`),
    );
    // an entry-level doubt names its identities: a new role it does not name is fine
    const entryLevel = awsAuth({ mapRoles: ADMIN, mapUsers: `- userarn: ${A}:user/legacy\n  username: on\n  groups: [ops]\n` });
    expect(codes(planSync({ current: entryLevel, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy(), force: true }))).toEqual(
      [],
    );
    const namesIt = awsAuth({ mapRoles: ADMIN, mapUsers: `- userarn: ${A}:role/dev\n  username: on\n  groups: [ops]\n` });
    expect(codes(planSync({ current: namesIt, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy(), force: true }))).toEqual([
      'hidden-by-unreadable',
    ]);
  });

  test('a restore that would replace a key the syncer cannot read is refused unless forced (who it maps cannot be judged)', () => {
    const unreadable = `- rolearn: ${A}:role/Admin\n  username: admin\n  groups: [system:masters]\n  note: |\n    block\n${NODE}${SYNCER}`;
    const current = awsAuth({ mapRoles: unreadable });
    const backup = awsAuth({ mapUsers: `- userarn: ${A}:user/dev\n  username: dev\n  groups: [dev]\n` });
    const selfArns = [`${A}:role/aws-auth-syncer`];
    const plan = planRestore({ current, backup, partition: 'aws', selfArns });
    expect(codes(plan)).toEqual(['current-unreadable']);
    expect(plan.refusals[0]!.message).toMatch(
      /^the restore would replace keys the syncer cannot read \(mapRoles: .*a value starting with "\|"\): who would lose access by that cannot be judged/,
    );
    expect(codes(planRestore({ current, backup, partition: 'aws', selfArns, force: true }))).toEqual([]);
    // the same unreadable key kept as it is by the backup: nothing hidden changes
    const keeps = awsAuth({ mapRoles: unreadable, mapUsers: `- userarn: ${A}:user/dev\n  username: dev\n  groups: [dev]\n` });
    expect(codes(planRestore({ current, backup: keeps, partition: 'aws', selfArns }))).toEqual(['backup-unreadable']);
  });
});

describe('node mappings', () => {
  test('a sync never changes what a node identity gets, even when the syncer owns an entry for it', () => {
    const current = awsAuth({ mapRoles: NODE }, owned(['mapRoles', `${A}:role/node`]));
    const plan = planSync({ current, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy() });
    expect(plan.rows.map((r) => [r.id, r.action])).toEqual([[`${A}:role/dev`, 'add']]);
    expect(plan.next.data?.mapRoles?.startsWith(NODE)).toBe(true);
  });
  test('a restore that changes a node identity is refused unless forced', () => {
    const backup = awsAuth({ mapRoles: NODE.replace('system:bootstrappers, ', '') + ADMIN });
    const current = awsAuth({ mapRoles: NODE + ADMIN });
    expect(codes(planRestore({ current, backup, partition: 'aws' }))).toEqual(['node-mapping']);
    expect(codes(planRestore({ current, backup, partition: 'aws', force: true }))).toEqual([]);
  });
});

describe("the syncer's own access", () => {
  test.each([
    ['its assumed-role session', `arn:aws:sts::${ACCOUNT}:assumed-role/aws-auth-syncer/1700000000`],
    ['its role ARN with a path', `${A}:role/platform/aws-auth-syncer`],
    ['another letter case', `arn:aws:sts::${ACCOUNT}:assumed-role/AWS-AUTH-SYNCER/session`],
  ])('is recognised from %s, and survives every sync', (_n, self) => {
    const current = awsAuth({ mapRoles: ADMIN + SYNCER }, owned(['mapRoles', `${A}:role/aws-auth-syncer`]));
    const plan = planSync({ current, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy(), selfArns: [self], force: true });
    expect(codes(plan)).toEqual(['self-mapping']);
  });
  test('access through mapAccounts counts as access to keep', () => {
    const current = awsAuth({ mapRoles: ADMIN, mapAccounts: `- "${ACCOUNT}"\n` });
    const backup = awsAuth({ mapRoles: ADMIN });
    expect(codes(planRestore({ current, backup, partition: 'aws', selfArns: [`${A}:role/aws-auth-syncer`] }))).toEqual(['self-mapping']);
  });
});

describe('the guard table', () => {
  test('each guard says when force may waive it; the admin, node and self guards never in a sync', () => {
    const table = Object.fromEntries(GUARDS.map((g) => [g.code, g.applies]));
    expect(table).toEqual({
      'current-unreadable': { sync: 'waivable', restore: 'waivable' },
      'hidden-by-unreadable': { sync: 'never' },
      'backup-unreadable': { restore: 'waivable' },
      'render-roundtrip': { sync: 'never' },
      'too-many-removals': { sync: 'waivable' },
      'empty-discovery': { sync: 'waivable' },
      'last-masters': { sync: 'never', restore: 'waivable' },
      'node-mapping': { sync: 'never', restore: 'waivable' },
      'self-mapping': { sync: 'never', restore: 'waivable' },
      'too-large': { sync: 'never', restore: 'never' },
    });
  });
  test('checkGuards applies force in one place', () => {
    const view = viewAwsAuth(awsAuth({ mapRoles: ADMIN }), 'aws');
    const empty = viewAwsAuth(awsAuth({ mapRoles: '[]\n' }), 'aws');
    const ctx: GuardContext = {
      kind: 'sync',
      beforeView: view,
      afterView: empty,
      before: effectiveAccess(view),
      after: effectiveAccess(empty),
      selfIds: [],
      maxRemovals: 0,
      wantedCount: 0,
      ownedCount: 1,
      roundtrip: [],
      nextSize: 10,
    };
    expect(checkGuards(ctx, false).map((r) => r.code)).toEqual(['too-many-removals', 'empty-discovery', 'last-masters']);
    expect(checkGuards(ctx, true).map((r) => r.code)).toEqual(['last-masters']);
  });
});

test('a refused plan explains itself: access diff and a message naming the identities', () => {
  const plan = dropOwnedAdmin('');
  expect(plan.access.map((a) => `${a.arn}: ${a.before.kind} → ${a.after.kind}`)).toEqual([`${A}:role/Admin: mapped → none`, `${A}:role/Dev: none → mapped`]);
  expect(plan.refusals[0]!.message).toContain(`${A}:role/Admin`);
});

test('a ConfigMap value that is not a string is unreadable, not a crash', () => {
  const current = { ...awsAuth({}), data: { mapRoles: 42 } } as unknown as ConfigMapObject;
  expect(codes(planSync({ current, snapshot: snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), policy: makePolicy() }))).toEqual([]);
});

describe('the 1 MiB limit, as the API server counts it', () => {
  test('values of data and decoded binaryData count; key names do not', () => {
    const cm = { ...awsAuth({ mapRoles: 'x'.repeat(10), 'a-long-key-name': 'yy' }), binaryData: { b: Buffer.from('zzz').toString('base64') } };
    expect(dataSize(cm)).toBe(15);
  });
  test('exactly 1 MiB of values is allowed, one byte more is refused (too-large, even with force)', () => {
    const filler = (n: number) => awsAuth({ mapRoles: NODE + ADMIN, notes: 'x'.repeat(n) });
    const room = CONFIGMAP_MAX_BYTES - dataSize(filler(0));
    expect(planRestore({ current: filler(0), backup: filler(room), partition: 'aws' }).refusals).toEqual([]);
    expect(codes(planRestore({ current: filler(0), backup: filler(room + 1), partition: 'aws', force: true }))).toEqual(['too-large']);
  });
});
