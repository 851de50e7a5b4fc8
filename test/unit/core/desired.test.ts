import { describe, expect, test } from '@jest/globals';
import { buildDesired } from '../../../lib/core/desired.js';
import { usernamesMayMeet } from '../../../lib/core/usernames.js';
import { planSync } from '../../../lib/core/plan.js';
import { readYaml, toValue } from '../../../lib/core/yaml-read.js';
import type { Mapping } from '../../../lib/core/types.js';
import { ACCOUNT, YAML11_LINE_BREAKS, group, makePolicy, role, snapshot, user } from './support.js';

const G = 'aws-auth-syncer/prod/groups';
const U = 'aws-auth-syncer/prod/username';
const roleArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const userArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:user/${name}`;
/** A mapping as plain data: key, ARN as written, username, groups. */
const flat = (m: Mapping) => ({ key: m.key, arn: m.identity.arn, username: m.username, groups: m.groups });
const flatAll = (d: { mappings: Mapping[] }) => d.mappings.map(flat);
const defaultRoleUser = (name: string): string => `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/{{SessionName}}`;

describe('group mappings', () => {
  const policy = makePolicy({
    groupMappings: [
      { iamGroup: 'k8s-developers', kubernetesGroups: ['dev', 'view'] },
      { iamGroup: 'K8S-Admins', kubernetesGroups: ['system:masters'] },
      { iamGroup: 'k8s-viewers', kubernetesGroups: ['view', 'audit'] },
    ],
  });
  const groups = [group('k8s-developers'), group('k8s-admins'), group('k8s-viewers'), group('billing')];

  test('a user in two mapped groups gets the sorted union of their groups', () => {
    const d = buildDesired(snapshot({ groups, users: [user('alice', ['k8s-viewers', 'k8s-developers'])] }), policy);
    expect(flatAll(d)).toEqual([{ key: 'mapUsers', arn: userArn('alice'), username: 'alice', groups: ['audit', 'dev', 'view'] }]);
    expect(d.warnings).toEqual([]);
  });

  test('IAM group names match case-insensitively', () => {
    const d = buildDesired(snapshot({ groups, users: [user('root-ops', ['K8S-ADMINS'])] }), policy);
    expect(d.mappings.map((m) => m.groups)).toEqual([['system:masters']]);
  });

  test('users only in unmapped groups, and users in no group, are not mapped', () => {
    const d = buildDesired(snapshot({ groups, users: [user('carol', ['billing']), user('dave')] }), policy);
    expect(d.mappings).toEqual([]);
  });

  test('two mappings for the same IAM group add up', () => {
    const p = makePolicy({
      groupMappings: [
        { iamGroup: 'ops', kubernetesGroups: ['b'] },
        { iamGroup: 'OPS', kubernetesGroups: ['a'] },
      ],
    });
    const d = buildDesired(snapshot({ groups: [group('ops')], users: [user('erin', ['ops'])] }), p);
    expect(d.mappings[0]?.groups).toEqual(['a', 'b']);
  });

  test('a mapped IAM group that does not exist is warned about', () => {
    const d = buildDesired(snapshot({ groups: [group('k8s-developers')] }), policy);
    expect(d.warnings.filter((w) => w.code === 'missing-group').map((w) => w.message)).toEqual([
      'IAM group K8S-Admins (in groupMappings) does not exist',
      'IAM group k8s-viewers (in groupMappings) does not exist',
    ]);
  });

  test('group-mapped and tag groups of one user are merged', () => {
    const d = buildDesired(snapshot({ groups, users: [user('alice', ['k8s-developers'], { [G]: 'oncall dev' })] }), policy);
    expect(d.mappings[0]?.groups).toEqual(['dev', 'oncall', 'view']);
  });

  test('mappings are sorted by canonical key, users with path keep it', () => {
    const d = buildDesired(
      snapshot({
        groups,
        users: [user('zed', ['k8s-developers']), user('Alice', ['k8s-developers'], {}, { path: '/eng/' })],
        roles: [role('Dev', { [G]: 'dev' })],
      }),
      policy,
    );
    expect(d.mappings.map((m) => m.identity.arn)).toEqual([roleArn('Dev'), `arn:aws:iam::${ACCOUNT}:user/eng/Alice`, userArn('zed')]);
  });
});

describe('tags', () => {
  test('role tagged with groups: default username is the assumed-role ARN template', () => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'dev view' })] }), makePolicy());
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Dev'), username: defaultRoleUser('Dev'), groups: ['dev', 'view'] }]);
  });

  test('role tagged with groups and username', () => {
    const d = buildDesired(snapshot({ roles: [role('Ops', { [G]: 'ops', [U]: 'ops:{{SessionName}}' })] }), makePolicy());
    expect(d.mappings[0]).toMatchObject({ username: 'ops:{{SessionName}}', groups: ['ops'] });
  });

  test('user tagged with groups: default username is the user name; username tag wins', () => {
    const d = buildDesired(snapshot({ users: [user('alice', [], { [G]: 'dev' }), user('bob', [], { [G]: 'dev', [U]: 'robert' })] }), makePolicy());
    expect(d.mappings.map((m) => [m.identity.arn, m.username])).toEqual([
      [userArn('alice'), 'alice'],
      [userArn('bob'), 'robert'],
    ]);
  });

  test('a username tag alone maps nothing', () => {
    const d = buildDesired(snapshot({ roles: [role('R', { [U]: 'r' })], users: [user('u', [], { [U]: 'u' })] }), makePolicy());
    expect(d.mappings).toEqual([]);
  });

  test('tags for another cluster, or with another prefix, are ignored', () => {
    const d = buildDesired(
      snapshot({
        roles: [
          role('Other', { 'aws-auth-syncer/staging/groups': 'dev' }),
          role('Prefixed', { 'aws-auth-syncer/prod-eu/groups': 'dev' }),
          role('Foreign', { 'other-tool/prod/groups': 'dev' }),
          role('Suffix', { 'x-aws-auth-syncer/prod/groups': 'dev' }),
        ],
      }),
      makePolicy(),
    );
    expect(d.mappings).toEqual([]);
  });

  test('tag keys compare exactly (EKS cluster names are case-sensitive); a near miss is warned about', () => {
    const d = buildDesired(
      snapshot({ roles: [role('Dev', { 'aws-auth-syncer/PROD/groups': 'dev' }), role('Ops', { [G]: 'ops', 'aws-auth-syncer/prod/USERNAME': 'ops:x' })] }),
      makePolicy(),
    );
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Ops'), username: defaultRoleUser('Ops'), groups: ['ops'] }]);
    expect(d.warnings.filter((w) => w.code === 'tag-key-case').map((w) => w.arn)).toEqual([roleArn('Dev'), roleArn('Ops')]);
  });

  test('custom tag prefix and cluster', () => {
    const d = buildDesired(
      snapshot({ roles: [role('Dev', { 'acme/k8s-eu/groups': 'dev' }), role('Std', { [G]: 'dev' })] }),
      makePolicy({ tagPrefix: 'acme', cluster: 'k8s-eu' }),
    );
    expect(d.mappings.map((m) => m.identity.arn)).toEqual([roleArn('Dev')]);
  });

  test.each([
    ['empty', ''],
    ['blank', '   '],
  ])('an explicitly %s groups tag maps the principal with no groups, without a warning', (_n, value) => {
    const d = buildDesired(snapshot({ roles: [role('Reader', { [G]: value })] }), makePolicy());
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Reader'), username: defaultRoleUser('Reader'), groups: [] }]);
    expect(d.warnings).toEqual([]);
  });

  test('SSO role: the path is stripped from the ARN, the role name used in the username', () => {
    const sso = role('AWSReservedSSO_Admin_0123456789abcdef', { [G]: 'system:masters' }, { path: '/aws-reserved/sso.amazonaws.com/eu-west-1/' });
    const d = buildDesired(snapshot({ roles: [sso] }), makePolicy({ tags: { allowedGroups: ['*', 'system:masters'] } }));
    expect(flatAll(d)).toEqual([
      {
        key: 'mapRoles',
        arn: roleArn('AWSReservedSSO_Admin_0123456789abcdef'),
        username: defaultRoleUser('AWSReservedSSO_Admin_0123456789abcdef'),
        groups: ['system:masters'],
      },
    ]);
  });

  test("the cluster's partition flows into the ARN and the default username; other partitions are skipped", () => {
    const d = buildDesired(
      snapshot({ roles: [role('Dev', { [G]: 'dev' }, { partition: 'aws-us-gov' })], users: [user('li', [], { [G]: 'dev' }, { partition: 'aws-cn' })] }),
      makePolicy({ partition: 'aws-us-gov' }),
    );
    expect(d.mappings.map((m) => [m.identity.arn, m.username])).toEqual([
      [`arn:aws-us-gov:iam::${ACCOUNT}:role/Dev`, `arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/Dev/{{SessionName}}`],
    ]);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'other-partition', arn: `arn:aws-cn:iam::${ACCOUNT}:user/li` })]);
  });

  test('username templates can use {path}; {userName} is not available for roles', () => {
    const d = buildDesired(
      snapshot({
        roles: [role('Dev', { [G]: 'dev' }, { path: '/team/' })],
        users: [user('alice', [], { [G]: 'dev' }, { path: '/eng/' })],
      }),
      makePolicy({ roleUsername: 'role{path}{roleName}', userUsername: 'user{path}{userName}' }),
    );
    expect(d.mappings.map((m) => m.username)).toEqual(['role/team/Dev', 'user/eng/alice']);
    const bad = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'dev' })] }), makePolicy({ roleUsername: '{userName}' }));
    expect(bad.mappings).toEqual([]);
    expect(bad.warnings).toEqual([expect.objectContaining({ code: 'bad-username', arn: roleArn('Dev') })]);
  });
});

describe('duplicates', () => {
  test('the same role listed twice (case and path variants) is one mapping with the union of groups', () => {
    const d = buildDesired(
      snapshot({ roles: [role('Dev', { [G]: 'b a' }), role('DEV', { [G]: 'c a' }), role('dev', { [G]: 'd' }, { path: '/x/' })] }),
      makePolicy(),
    );
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Dev'), username: defaultRoleUser('Dev'), groups: ['a', 'b', 'c', 'd'] }]);
  });

  test('an explicit username tag wins over a template default on merge', () => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'a' }), role('Dev', { [G]: 'b', [U]: 'dev-team' })] }), makePolicy());
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Dev'), username: 'dev-team', groups: ['a', 'b'] }]);
  });

  test('repeated groups in one tag are written once', () => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'dev dev  view dev' })] }), makePolicy());
    expect(d.mappings[0]?.groups).toEqual(['dev', 'view']);
  });
});

describe('hostile tag values', () => {
  const planFor = (tags: Record<string, string>) =>
    planSync({ current: null, snapshot: snapshot({ roles: [role('Victim', tags), role('Other', { [G]: 'ok' })] }), policy: makePolicy() });

  test.each([
    ['YAML mapping in username', 'a: b'],
    ['YAML list item in username', '- rolearn: x'],
    ['flow mapping with spaces', '{rolearn: x, groups: [system:masters]}'],
    ['U+2028 in username', 'alice\u2028- rolearn: arn:aws:iam::111122223333:role/Evil'],
    ['U+2029 in username', 'alice\u2029groups:'],
    ['NEL in username', 'alice\u0085x'],
    ['newline in username', 'alice\n- rolearn: x'],
    ['reserved system:anonymous', 'system:anonymous'],
    ['reserved system:node', 'system:node:{{EC2PrivateDNSName}}'],
    ['reserved eks:', 'eks:authenticator'],
    ['empty username', ''],
  ])('%s: the username tag is refused with a warning and the default username used', (_name, username) => {
    const d = buildDesired(snapshot({ roles: [role('Victim', { [G]: 'dev', [U]: username }), role('Other', { [G]: 'ok' })] }), makePolicy());
    expect(d.mappings.map((m) => [m.identity.arn, m.username])).toEqual([
      [roleArn('Other'), defaultRoleUser('Other')],
      [roleArn('Victim'), defaultRoleUser('Victim')],
    ]);
    expect(d.warnings).toEqual([expect.objectContaining({ arn: roleArn('Victim') })]);
    expect(['bad-username', 'tag-username-refused']).toContain(d.warnings[0]!.code);
  });

  test.each([
    ['system:nodes', 'dev system:nodes', ['dev'], 1],
    ['system:bootstrappers', 'system:bootstrappers dev', ['dev'], 1],
    ['eks: namespace', 'eks:foo dev', ['dev'], 1],
    ['system:anonymous', 'system:anonymous system:authenticated dev', ['dev'], 2],
    ['braces', 'dev {{x}}', ['dev'], 1],
    ['quote', 'dev "x"', ['dev'], 1],
  ])('groups with %s: bad groups dropped with a warning each', (_name, value, kept, warned) => {
    const d = buildDesired(snapshot({ roles: [role('Victim', { [G]: value })] }), makePolicy());
    expect(d.mappings.map((m) => m.groups)).toEqual([kept]);
    expect(d.warnings.map((w) => w.code)).toEqual(Array(warned).fill('bad-group'));
  });

  test.each([
    ['system:nodes', 'system:nodes', 1],
    ['system:bootstrappers and system:nodes', 'system:bootstrappers system:nodes', 2],
    ['only reserved namespaces', 'eks:x system:anonymous', 2],
  ])('groups with %s only: the principal is skipped (no-groups-left), never mapped with groups: []', (_name, value, badGroups) => {
    const d = buildDesired(snapshot({ roles: [role('Victim', { [G]: value }), role('Other', { [G]: 'ok' })] }), makePolicy());
    expect(d.mappings.map((m) => m.identity.arn)).toEqual([roleArn('Other')]);
    expect(d.warnings.map((w) => w.code)).toEqual([...Array(badGroups).fill('bad-group'), 'no-groups-left']);
    expect(d.warnings.at(-1)).toEqual(expect.objectContaining({ code: 'no-groups-left', arn: roleArn('Victim') }));
  });

  test('no-groups-left applies to users too, whether the groups come from a tag or a group mapping', () => {
    const p = makePolicy({ groupMappings: [{ iamGroup: 'nodes', kubernetesGroups: ['system:nodes'] }] });
    const d = buildDesired(snapshot({ groups: [group('nodes')], users: [user('tagged', [], { [G]: 'system:nodes' }), user('grouped', ['nodes'])] }), p);
    expect(d.mappings).toEqual([]);
    expect(d.warnings.filter((w) => w.code === 'no-groups-left').map((w) => w.arn)).toEqual([userArn('tagged'), userArn('grouped')]);
  });

  test('one refused group among good ones still maps the principal with the good ones', () => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'system:nodes dev' })] }), makePolicy());
    expect(d.mappings.map((m) => m.groups)).toEqual([['dev']]);
    expect(d.warnings.map((w) => w.code)).toEqual(['bad-group']);
  });

  test('a principal listed twice keeps the groups of the copy that had good ones', () => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'system:nodes' }), role('DEV', { [G]: 'dev' })] }), makePolicy());
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('DEV'), username: defaultRoleUser('DEV'), groups: ['dev'] }]);
  });

  test('a planned sync with only refused groups writes nothing for the principal', () => {
    const plan = planSync({ current: null, snapshot: snapshot({ roles: [role('Victim', { [G]: 'system:nodes' })] }), policy: makePolicy() });
    expect(plan.changed).toBe(false);
    expect(plan.changes).toEqual([]);
    expect(plan.warnings.map((w) => w.code)).toEqual(['bad-group', 'no-groups-left']);
  });

  test('U+2028/U+2029 in a groups value separate groups; no separator reaches a group name', () => {
    const d = buildDesired(snapshot({ roles: [role('Victim', { [G]: 'dev\u2028- rolearn: x\u2029view' })] }), makePolicy());
    expect(d.mappings).toHaveLength(1);
    for (const g of d.mappings[0]?.groups ?? []) expect(g).not.toMatch(/[\s\u0085]/u);
    expect(d.mappings[0]?.groups).toEqual(expect.arrayContaining(['dev', 'view']));
  });

  test.each([
    ['U+2028 groups', { [G]: 'dev\u2028- rolearn: arn:aws:iam::111122223333:role/Evil\u2028  groups: [system:masters]' }],
    ['U+2029 groups', { [G]: 'dev\u2029system:masters' }],
    ['YAML in username', { [G]: 'dev', [U]: '- rolearn: arn:aws:iam::111122223333:role/Evil' }],
    ['newline in groups', { [G]: 'dev\n- rolearn: arn:aws:iam::111122223333:role/Evil' }],
  ])('%s: the rendered aws-auth holds exactly the expected entries and no raw line separators', (_name, tags) => {
    const plan = planFor(tags);
    const text = plan.next.data?.mapRoles ?? '';
    expect(text).not.toMatch(YAML11_LINE_BREAKS);
    const read = readYaml(text);
    if (!read.ok) throw new Error(read.reason);
    const entries = toValue(read.node) as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.rolearn).sort()).toEqual(
      plan.changes.map((c) => c.arn).sort(), // one entry per planned add, nothing else
    );
    expect(entries.map((e) => e.rolearn)).not.toContain('arn:aws:iam::111122223333:role/Evil');
    expect(plan.refusals).toEqual([]);
  });
});

describe('bad principals', () => {
  test('an unreadable ARN is skipped with a warning', () => {
    const d = buildDesired(
      snapshot({ roles: [{ arn: 'not-an-arn', roleName: 'x', path: '/', tags: { [G]: 'dev' } }, role('Ok', { [G]: 'dev' })] }),
      makePolicy(),
    );
    expect(d.mappings.map((m) => m.identity.arn)).toEqual([roleArn('Ok')]);
    expect(d.warnings).toEqual([expect.objectContaining({ code: 'bad-arn', arn: 'not-an-arn' })]);
  });

  test('buildDesired is a pure function of its inputs', () => {
    const s = snapshot({ roles: [role('B', { [G]: 'y x' }), role('A', { [G]: 'x' })], users: [user('u', [], { [G]: 'z' })] });
    const before = JSON.stringify(s);
    const a = buildDesired(s, makePolicy());
    const b = buildDesired(structuredClone(s), makePolicy());
    expect(a).toEqual(b);
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('tags are untrusted: what a tag may grant is limited by config', () => {
  test('system:masters from a tag is not granted by default (warning names principal and group)', () => {
    const d = buildDesired(snapshot({ roles: [role('Evil', { [G]: 'system:masters dev' }), role('Root', { [G]: 'system:masters' })] }), makePolicy());
    expect(flatAll(d)).toEqual([{ key: 'mapRoles', arn: roleArn('Evil'), username: defaultRoleUser('Evil'), groups: ['dev'] }]);
    expect(d.warnings.map((w) => [w.code, w.arn])).toEqual([
      ['tag-group-not-allowed', roleArn('Evil')],
      ['tag-group-not-allowed', roleArn('Root')],
      ['no-groups-left', roleArn('Root')],
    ]);
    expect(d.warnings[0]!.message).toContain('"system:masters"');
  });
  test('tags.allowedGroups globs limit tag groups; system:masters only when listed as such', () => {
    const iam = snapshot({ roles: [role('A', { [G]: 'team-a ops system:masters' })] });
    expect(buildDesired(iam, makePolicy({ tags: { allowedGroups: ['team-*'] } })).mappings.map((m) => m.groups)).toEqual([['team-a']]);
    expect(buildDesired(iam, makePolicy({ tags: { allowedGroups: ['*', 'system:*'] } })).mappings.map((m) => m.groups)).toEqual([['ops', 'team-a']]);
    expect(buildDesired(iam, makePolicy({ tags: { allowedGroups: ['*', 'system:masters'] } })).mappings.map((m) => m.groups)).toEqual([
      ['ops', 'system:masters', 'team-a'],
    ]);
  });
  test("the syncer's own group (it may update aws-auth: one step from system:masters) only when listed as such", () => {
    const iam = snapshot({ roles: [role('A', { [G]: 'team-a aws-auth-syncer' })] });
    for (const allowedGroups of [['*'], ['team-*', 'aws-auth-*'], ['*-a', '*-syncer']]) {
      const d = buildDesired(iam, makePolicy({ tags: { allowedGroups } }));
      expect([allowedGroups, d.mappings.map((m) => m.groups)]).toEqual([allowedGroups, [['team-a']]]);
      expect(d.warnings.map((w) => w.code)).toEqual(['tag-group-not-allowed']);
    }
    expect(buildDesired(iam, makePolicy({ tags: { allowedGroups: ['*', 'aws-auth-syncer'] } })).mappings.map((m) => m.groups)).toEqual([
      ['aws-auth-syncer', 'team-a'],
    ]);
  });
  test.each([
    ['a bare {{SessionName}}', '{{SessionName}}', /prefix with a colon/],
    ['{{SessionName}} without a colon before it', 'dev-{{SessionName}}', /prefix with a colon/],
    ['{{SessionNameRaw}} alone', '{{SessionNameRaw}}', /prefix with a colon/],
    ["another role's assumed-role ARN", `arn:aws:sts::${ACCOUNT}:assumed-role/break-glass-admin/{{SessionName}}`, /names the role break-glass-admin/],
    ["another role's assumed-role name", 'assumed-role/break-glass-admin/x', /names the role break-glass-admin/],
    ["another principal's ARN", `arn:aws:iam::${ACCOUNT}:user/root-admin`, /ARN of another principal/],
    ['an aws: prefix', 'aws:admin', /reserved "aws:" prefix/],
    ['an iam: prefix', 'iam:x', /reserved "iam:" prefix/],
    ['a node template', 'node:{{EC2PrivateDNSName}}', /node mappings/],
  ])('a username tag with %s is refused; the default is used', (_name, username, why) => {
    const d = buildDesired(snapshot({ roles: [role('Dev', { [G]: 'dev', [U]: username })] }), makePolicy());
    expect(d.mappings.map((m) => m.username)).toEqual([defaultRoleUser('Dev')]);
    expect(d.warnings.map((w) => w.code)).toEqual(['tag-username-refused']);
    expect(d.warnings[0]!.message).toMatch(why);
  });
  test('a username tag naming the principal itself, or with a prefixed session, is fine', () => {
    const d = buildDesired(
      snapshot({
        roles: [
          role('Dev', { [G]: 'dev', [U]: `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/{{SessionName}}` }),
          role('Ops', { [G]: 'ops', [U]: 'ops:{{SessionName}}' }),
        ],
      }),
      makePolicy(),
    );
    expect(d.mappings.map((m) => m.username)).toEqual([`arn:aws:sts::${ACCOUNT}:assumed-role/Dev/{{SessionName}}`, 'ops:{{SessionName}}']);
    expect(d.warnings).toEqual([]);
  });
  test('a username another entry already uses is refused: another mapping, or an entry the syncer does not own', () => {
    const iam = snapshot({
      users: [user('alice', [], { [G]: 'dev' }), user('mallory', [], { [G]: 'dev', [U]: 'alice' }), user('eve', [], { [G]: 'dev', [U]: 'admin' })],
    });
    const d = buildDesired(iam, makePolicy(), { usernamesInUse: new Map([['admin', { where: 'mapRoles[1]', id: `arn:aws:iam::${ACCOUNT}:role/admin` }]]) });
    expect(d.mappings.map((m) => [m.identity.name, m.username])).toEqual([
      ['alice', 'alice'],
      ['eve', 'eve'],
      ['mallory', 'mallory'],
    ]);
    expect(d.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining("another mapping's username (alice) can be the same"),
      expect.stringContaining('an entry the syncer does not own (mapRoles[1]) uses admin, which it can be the same as'),
    ]);
  });
  test("a session template stands for every name it renders to: it may not be able to become another principal's username", () => {
    // Whoever assumes the role picks the session name, so `user:{{SessionName}}` is `user:alice` for session "alice".
    const iam = snapshot({
      users: [user('alice', [], { [G]: 'dev' })],
      roles: [
        role('Dev1', { [G]: 'dev', [U]: 'user:{{SessionName}}' }),
        role('Dev2', { [G]: 'dev', [U]: 'ci:{{SessionNameRaw}}' }),
        role('Ok', { [G]: 'dev', [U]: 'ok:{{SessionName}}' }),
      ],
    });
    const policy = makePolicy({
      userUsername: 'user:{userName}',
      roleMappings: [{ roleName: 'CI', kubernetesGroups: ['ci'], username: 'ci:{{SessionName}}' }],
    });
    const d = buildDesired(snapshot({ users: iam.users, roles: [...iam.roles, role('CI')] }), policy);
    expect(Object.fromEntries(d.mappings.map((m) => [m.identity.name, m.username]))).toEqual({
      alice: 'user:alice',
      CI: 'ci:{{SessionName}}',
      Dev1: `arn:aws:sts::${ACCOUNT}:assumed-role/Dev1/{{SessionName}}`,
      Dev2: `arn:aws:sts::${ACCOUNT}:assumed-role/Dev2/{{SessionName}}`,
      Ok: 'ok:{{SessionName}}',
    });
    expect(d.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('the username tag "user:{{SessionName}}" is refused (another mapping\'s username (user:alice) can be the same)'),
      expect.stringContaining('the username tag "ci:{{SessionNameRaw}}" is refused (another mapping\'s username (ci:{{SessionName}}) can be the same)'),
    ]);
  });
  test.each([
    ['user:{{SessionName}}', 'user:alice', true],
    ['user:{{SessionName}}', 'user:', false],
    ['user:{{SessionName}}', 'users:alice', false],
    ['a:{{SessionName}}:b', 'a:x:b', true],
    ['a:{{SessionName}}:b', 'a:x:c', false],
    ['ci:{{SessionName}}', 'ci:{{SessionNameRaw}}', true],
    ['ci:{{SessionName}}', 'ci:x{{SessionName}}', true],
    ['ci:{{SessionName}}', 'cd:{{SessionName}}', false],
    ['ci:{{SessionName}}-a', 'ci:{{SessionName}}-b', false],
    ['team:{{SessionName}}', `arn:aws:sts::${ACCOUNT}:assumed-role/Team/{{SessionName}}`, false],
    ['alice', 'alice', true],
    ['alice', 'Alice', false],
  ])('usernamesMayMeet(%j, %j) = %j', (a, b, meet) => {
    expect(usernamesMayMeet(a, b)).toBe(meet);
    expect(usernamesMayMeet(b, a)).toBe(meet);
  });
});

describe('role mappings from config (trusted)', () => {
  const SSO_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';
  test('an Identity Center permission set maps its AWSReservedSSO_ role (any region segment), path stripped', () => {
    const d = buildDesired(
      snapshot({
        roles: [
          role('AWSReservedSSO_AdminAccess_0123456789abcdef', {}, { path: SSO_PATH }),
          role('AWSReservedSSO_AdminAccess_fedcba9876543210', {}, { path: '/aws-reserved/sso.amazonaws.com/' }),
          role('AWSReservedSSO_AdminAccessOld_0123456789abcdef', {}, { path: SSO_PATH }),
          role('AWSReservedSSO_AdminAccess_0123456789abcdef', {}, { path: '/not-sso/' }),
        ],
      }),
      makePolicy({ roleMappings: [{ ssoPermissionSet: 'AdminAccess', kubernetesGroups: ['system:masters'], username: 'admin:{{SessionName}}' }] }),
    );
    expect(flatAll(d)).toEqual([
      { key: 'mapRoles', arn: roleArn('AWSReservedSSO_AdminAccess_0123456789abcdef'), username: 'admin:{{SessionName}}', groups: ['system:masters'] },
      { key: 'mapRoles', arn: roleArn('AWSReservedSSO_AdminAccess_fedcba9876543210'), username: 'admin:{{SessionName}}', groups: ['system:masters'] },
    ]);
  });
  test('a role-name glob maps any path, case-insensitively; groups add up with tags; config username beats a tag', () => {
    const d = buildDesired(
      snapshot({ roles: [role('ci-build', { [G]: 'extra', [U]: 'x:{{SessionName}}' }, { path: '/ci/' }), role('CI-Deploy'), role('web')] }),
      makePolicy({
        roleMappings: [
          { roleName: 'ci-*', kubernetesGroups: ['deployers'], username: 'ci:{{SessionName}}' },
          { roleName: 'ci-b*', kubernetesGroups: ['builders'] },
        ],
      }),
    );
    expect(flatAll(d)).toEqual([
      { key: 'mapRoles', arn: roleArn('ci-build'), username: 'ci:{{SessionName}}', groups: ['builders', 'deployers', 'extra'] },
      { key: 'mapRoles', arn: roleArn('CI-Deploy'), username: 'ci:{{SessionName}}', groups: ['deployers'] },
    ]);
  });
});
