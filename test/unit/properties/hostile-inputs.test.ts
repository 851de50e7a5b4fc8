/**
 * Bad input, one case at a time (issue 6, item 2; issue 9): each gets a clear error, a refused
 * key or a skipped entry with a warning, and nothing in aws-auth is lost.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { validateConfig } from '../../../lib/config.js';
import { ConfigError } from '../../../lib/errors.js';
import { viewAwsAuth, viewProblems } from '../../../lib/core/awsauth.js';
import { planSync } from '../../../lib/core/plan.js';
import { CONFIGMAP_MAX_BYTES, dataSize } from '../../../lib/core/render.js';
import type { ConfigMapObject, IamRole, IamSnapshot, IamUser } from '../../../lib/core/types.js';
import { entriesOf } from '../../support/entries.js';
import { TAG_GROUPS, TAG_USERNAME, basePolicy, readList } from './arbitraries.js';

const A = '111122223333';
const roleArn = (n: string, acct = A, partition = 'aws'): string => `arn:${partition}:iam::${acct}:role/${n}`;
const role = (name: string, tags: Record<string, string>, opts: { arn?: string } = {}): IamRole => ({
  arn: opts.arn ?? roleArn(name),
  roleName: name,
  path: '/',
  tags,
});
const user = (name: string, tags: Record<string, string>, opts: { path?: string } = {}): IamUser => ({
  arn: `arn:aws:iam::${A}:user${opts.path ?? '/'}${name}`,
  userName: name,
  path: opts.path ?? '/',
  groups: [],
  tags,
});
const snap = (roles: IamRole[], users: IamUser[] = []): IamSnapshot => ({ roles, users, groups: [] });

const NODE = `- rolearn: ${roleArn('NodeInstanceRole')}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n`;
const ADMIN_USER = `- userarn: arn:aws:iam::${A}:user/admin\n  username: admin\n  groups: [system:masters]\n`;
const ACCOUNTS = '- "444455556666"\n';

const cm = (data: Record<string, string>): ConfigMapObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '1' },
  data,
});

/** One tagged role and one tagged user: something to write into each key. */
const BOTH = snap([role('dev', { [TAG_GROUPS]: 'dev' })], [user('alice', { [TAG_GROUPS]: 'view' })]);

const messages = (p: { refusals: { message: string }[] }): string => p.refusals.map((r) => r.message).join('\n');

describe('malformed current aws-auth, key by key', () => {
  test.each([
    [
      'mapRoles',
      'invalid YAML',
      { mapRoles: '- rolearn: [unclosed\n', mapUsers: ADMIN_USER },
      'broken',
      /mapRoles: the authenticator cannot read it: line 2: a flow collection that never closes/,
    ],
    [
      'mapRoles',
      'a mapping, not a list',
      { mapRoles: `rolearn: ${roleArn('x')}\n`, mapUsers: ADMIN_USER },
      'broken',
      /mapRoles: it holds a mapping, not a list/,
    ],
    ['mapRoles', 'a number', { mapRoles: '42', mapUsers: ADMIN_USER }, 'broken', /mapRoles: it holds a number, not a list/],
    [
      'mapRoles',
      'a tab-indented entry',
      { mapRoles: `- rolearn: ${roleArn('x')}\n\tgroups: [a]\n`, mapUsers: ADMIN_USER },
      'unsure',
      /mapRoles: the syncer cannot be sure .*: line 2: holds a tab/,
    ],
    [
      'mapUsers',
      'an unterminated quote',
      { mapRoles: NODE, mapUsers: '- userarn: "unterminated\n' },
      'unsure',
      /mapUsers: .*a quoted value that does not close on its line/,
    ],
    ['mapUsers', 'a string, not a list', { mapRoles: NODE, mapUsers: 'just text' }, 'broken', /mapUsers: it holds a string, not a list/],
    [
      'mapUsers',
      'a duplicate field',
      { mapRoles: NODE, mapUsers: `- userarn: arn:aws:iam::${A}:user/x\n  userarn: arn:aws:iam::${A}:user/y\n` },
      'unsure',
      /mapUsers: .*duplicate key "userarn"/,
    ],
    [
      'mapRoles',
      'an anchor and a merge key',
      { mapRoles: `- &n\n  rolearn: ${roleArn('a')}\n  groups: [system:masters]\n- <<: *n\n  rolearn: ${roleArn('b')}\n`, mapUsers: ADMIN_USER },
      'unsure',
      /mapRoles: .*a value starting with "&"/,
    ],
    ['mapRoles', 'a %YAML directive', { mapRoles: `%YAML 1.2\n---\n${NODE}`, mapUsers: ADMIN_USER }, 'unsure', /mapRoles: .*a directive/],
    [
      'mapRoles',
      'a raw C1 control character',
      { mapRoles: `${NODE}- rolearn: ${roleArn('x')}\n  username: "a\u0091b"\n`, mapUsers: ADMIN_USER },
      'broken',
      /mapRoles: the authenticator cannot read it: line 5: holds the control character U\+0091/,
    ],
    [
      'mapUsers',
      'a field name only Go folds (uſername)',
      { mapRoles: NODE, mapUsers: `- userarn: arn:aws:iam::${A}:user/x\n  uſername: admin\n` },
      'unsure',
      /mapUsers: .*"uſername" matches "username" only through Go's Unicode case folding/,
    ],
  ])('%s as %s: refused with the key named; with force kept verbatim, the other key still synced', (key, _what, data, state, reason) => {
    const current = cm({ ...data, mapAccounts: ACCOUNTS });
    expect(viewAwsAuth(current, 'aws')[key as 'mapRoles'].state).toBe(state);
    // An unsure mapUsers whose YAML is in doubt may map the role the plan adds to mapRoles (read
    // first): that new entry could override it unseen, so even force does not write it
    // (hidden-by-unreadable). With only an entry's other fields in doubt (uſername) the key still
    // names its identities (user/x), and the new role is not one of them.
    const hides = key === 'mapUsers' && ['an unterminated quote', 'a duplicate field'].includes(_what);
    const plan = planSync({ current, snapshot: BOTH, policy: basePolicy() });
    expect(plan.changed).toBe(true);
    expect(plan.refusals.map((r) => r.code)).toEqual(hides ? ['current-unreadable', 'hidden-by-unreadable'] : ['current-unreadable']);
    expect(messages(plan)).toMatch(reason);

    const forced = planSync({ current, snapshot: BOTH, policy: basePolicy(), force: true });
    if (hides) {
      expect(forced.refusals.map((r) => r.code)).toEqual(['hidden-by-unreadable']);
      return;
    }
    expect(forced.refusals).toEqual([]);
    expect(forced.next.data![key]).toBe(current.data![key]); // verbatim: it may hold node mappings
    expect(forced.next.data!.mapAccounts).toBe(ACCOUNTS);
    expect(forced.warnings).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'unreadable-key', message: expect.stringContaining(`${key} cannot be read`) })]),
    );
    const other = key === 'mapRoles' ? 'mapUsers' : 'mapRoles';
    const otherList = readList(forced.next.data![other])!;
    // Everything that was in the other key is still there, plus the managed entry.
    for (const item of readList(current.data![other])!) expect(otherList).toContainEqual(item);
    expect(otherList.length).toBe(readList(current.data![other])!.length + 1);
  });

  test.each([
    ['groups a string', `- rolearn: ${roleArn('x')}\n  groups: system:masters\n`, 'entry 1: groups is a string, not a list of strings'],
    ['username read as a boolean', `- rolearn: ${roleArn('x')}\n  username: on\n  groups: [a]\n`, 'entry 1: username is a boolean, not a string'],
    ['a group read as a number', `- rolearn: ${roleArn('x')}\n  groups: [0o17]\n`, 'entry 1: groups is a list holding something other than strings'],
    ['username a date', `- rolearn: ${roleArn('x')}\n  username: 2024-03-01\n`, 'entry 1: username is "2024-03-01" (not a string to go-yaml), not a string'],
  ])('an entry the syncer cannot be sure to read (%s) makes its whole key unsure', (_what, entry, reason) => {
    const text = NODE + entry;
    const view = viewAwsAuth(cm({ mapRoles: text }), 'aws');
    expect(view.mapRoles.state).toBe('unsure');
    expect(view.mapRoles.reason).toContain(reason);
    const forced = planSync({ current: cm({ mapRoles: text }), snapshot: BOTH, policy: basePolicy(), force: true });
    expect(forced.refusals).toEqual([]);
    expect(forced.next.data!.mapRoles).toBe(text);
  });

  test.each([
    ['rolearn missing', '- username: x\n  groups: [a]\n', 'it has no ARN'],
    ['rolearn not an ARN', '- rolearn: arn:aws:iam::1:role/x\n', 'is not the ARN of an IAM role, user, root user or federated user'],
    ['a role ARN with a path', `- rolearn: arn:aws:iam::${A}:role/team/x\n`, 'a role ARN with a path never matches'],
    ['an STS assumed-role ARN', `- rolearn: arn:aws:sts::${A}:assumed-role/x/session\n`, 'an STS assumed-role ARN never matches'],
    ['another partition', `- rolearn: arn:aws-cn:iam::${A}:role/x\n`, 'its ARN is in partition aws-cn'],
    ['a trailing no-break space', `- rolearn: "arn:aws:iam::${A}:role/x\u00a0"\n`, 'its ARN holds U+00A0'],
    ['an entry that is a list', '- [a, b]\n', 'it is a list, not a mapping'],
    ['an empty entry', '-\n', 'it is null, not a mapping'],
  ])('a dead entry (%s) is reported with its index and kept as it is', (_what, entry, reason) => {
    const text = NODE + entry;
    const view = viewAwsAuth(cm({ mapRoles: text }), 'aws');
    expect(viewProblems(view)).toEqual([{ key: 'mapRoles', index: 1, reason: expect.stringContaining(reason), blocking: false }]);
    const plan = planSync({ current: cm({ mapRoles: text }), snapshot: BOTH, policy: basePolicy() });
    expect(plan.refusals).toEqual([]);
    expect(plan.warnings).toContainEqual(expect.objectContaining({ code: 'dead-entry', message: expect.stringContaining(`mapRoles[1] grants nothing: `) }));
    expect(plan.next.data!.mapRoles!.startsWith(text)).toBe(true);
  });

  test('a user entry under mapRoles is the same identity as a mapUsers one (the authenticator looks in both)', () => {
    const view = viewAwsAuth(cm({ mapRoles: `- rolearn: arn:aws:iam::${A}:user/x\n  groups: [a]\n` }), 'aws');
    expect(view.mapRoles.entries[0]!.target).toMatchObject({ kind: 'identity', identity: { key: `arn:aws:iam::${A}:user/x`, kind: 'user' } });
  });

  test('mapAccounts that is not YAML is reported and kept byte for byte; any unknown key is never read', () => {
    const current = cm({ mapRoles: NODE, mapAccounts: '- [unclosed\n\t: {', 'notes.txt': 'free text: [' });
    expect(viewAwsAuth(current, 'aws').mapAccounts.state).toBe('unsure');
    const plan = planSync({ current, snapshot: BOTH, policy: basePolicy() });
    expect(plan.refusals.map((r) => r.code)).toEqual(['current-unreadable']);
    const forced = planSync({ current, snapshot: BOTH, policy: basePolicy(), force: true });
    expect(forced.refusals).toEqual([]);
    expect(forced.next.data!.mapAccounts).toBe(current.data!.mapAccounts);
    expect(forced.next.data!['notes.txt']).toBe(current.data!['notes.txt']);
  });

  test('a data value that is not a string is reported, not thrown', () => {
    const view = viewAwsAuth({ metadata: {}, data: { mapRoles: 42 as unknown as string } }, 'aws');
    expect(view.mapRoles).toMatchObject({ state: 'unsure', reason: 'its value is not a string' });
  });

  test('an alias bomb and deep nesting are refused quickly, not expanded', () => {
    const bomb = [
      '- &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 8 },
        (_v, i) =>
          `- &${'b'.repeat(i + 1)} [${Array(10)
            .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
            .join(', ')}]`,
      ),
    ].join('\n');
    for (const text of [bomb, '['.repeat(3000), '- '.repeat(3000) + 'x']) {
      const view = viewAwsAuth(cm({ mapRoles: text }), 'aws');
      expect(['unsure', 'broken']).toContain(view.mapRoles.state);
      expect(view.mapRoles.reason).toMatch(/\S/);
    }
  });
});

describe('hostile tag values', () => {
  const others = [role('admin', { [TAG_GROUPS]: 'system:masters' })];
  const plan = (victim: IamRole | IamUser, policy = basePolicy({ tags: { allowedGroups: ['*', 'system:masters'] } })) =>
    planSync({
      current: cm({ mapRoles: NODE, mapUsers: ADMIN_USER, mapAccounts: ACCOUNTS }),
      snapshot: 'roleName' in victim ? snap([...others, victim]) : snap(others, [victim]),
      policy,
    });
  /** The plan kept every current entry and the other principal. */
  const nothingLost = (p: ReturnType<typeof plan>): void => {
    expect(p.refusals).toEqual([]);
    expect(viewProblems(viewAwsAuth(p.next, 'aws'))).toEqual([]);
    expect(p.next.data!.mapRoles!.startsWith(NODE)).toBe(true);
    expect(entriesOf(p.next, 'mapRoles')).toContainEqual({ key: 'mapRoles', arn: roleArn('admin'), username: expect.any(String), groups: ['system:masters'] });
    expect(p.next.data!.mapUsers!.startsWith(ADMIN_USER)).toBe(true);
    expect(p.next.data!.mapAccounts).toBe(ACCOUNTS);
  };
  const victimEntry = (p: ReturnType<typeof plan>, name: string) => entriesOf(p.next).find((e) => e.arn.endsWith(`/${name}`));

  test.each([
    ['256 characters', 'g'.repeat(256), /longer than 253 characters/],
    ['10 KB', 'g'.repeat(10 * 1024), /longer than 253 characters/],
    ['an emoji', '😀', /has characters outside/],
    ['a zero-width space', 'de\u200bv', /has characters outside/],
    ['YAML syntax', '[system:masters]', /has characters outside/],
    ['a node group', 'system:nodes', /is for nodes/],
    ['a reserved group', 'eks:authenticated', /reserved namespace/],
    ['a reserved group in capitals', 'SYSTEM:NODES', /reserved namespace/],
    ['system:masters spelt another way', 'System:Masters', /reserved namespace/],
  ])('a groups tag of %s: the group is dropped with a warning, the principal skipped, nothing else touched', (_what, value, reason) => {
    const p = plan(role('victim', { [TAG_GROUPS]: value }));
    nothingLost(p);
    expect(victimEntry(p, 'victim')).toBeUndefined();
    expect(p.warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'bad-group', arn: roleArn('victim'), message: expect.stringMatching(reason) }),
        expect.objectContaining({ code: 'no-groups-left', arn: roleArn('victim') }),
      ]),
    );
  });

  test('system:masters from a tag only when tags.allowedGroups lists it as such (a glob never matches it)', () => {
    const victim = role('victim', { [TAG_GROUPS]: 'system:masters dev' });
    expect(victimEntry(plan(victim), 'victim')!.groups).toEqual(['dev', 'system:masters']);
    for (const allowedGroups of [['*'], ['system:*', 'dev'], ['*masters', 'dev']]) {
      const p = plan(victim, basePolicy({ tags: { allowedGroups } }));
      expect(victimEntry(p, 'victim')!.groups).toEqual(['dev']);
      expect(p.warnings).toContainEqual(
        expect.objectContaining({ code: 'tag-group-not-allowed', arn: roleArn('victim'), message: expect.stringContaining('"system:masters"') }),
      );
    }
  });

  test('a 10 KB groups tag of valid groups is written whole, sorted, and reads back', () => {
    const groups = Array.from({ length: 1500 }, (_v, i) => `g${String(i).padStart(5, '0')}`);
    const p = plan(role('victim', { [TAG_GROUPS]: [...groups].reverse().join(' ') }));
    nothingLost(p);
    expect(victimEntry(p, 'victim')!.groups).toEqual(groups);
  });

  test.each([
    ['line separator', 'dev\u2028view'],
    ['paragraph separator', 'dev\u2029view'],
    ['next line', 'dev\u0085view'],
    ['no-break space', 'dev\u00a0view'],
    ['CR LF and tabs', 'dev\r\n\tview'],
    ['an injected entry', `dev\n- rolearn: ${roleArn('evil')}\n  groups: [system:masters]`],
  ])('a groups tag with a %s is split into groups; it can never start another entry', (_what, value) => {
    const p = plan(role('victim', { [TAG_GROUPS]: value }));
    nothingLost(p);
    const entry = victimEntry(p, 'victim')!;
    expect(entry.groups).toEqual(expect.arrayContaining(['dev']));
    expect(entry.groups).not.toContain('system:masters');
    // Its pieces may become (harmless) group names of the victim; never an entry of their own.
    expect(entriesOf(p.next).filter((e) => e.arn.endsWith('role/evil'))).toEqual([]);
    expect(entriesOf(p.next, 'mapRoles')).toHaveLength(3);
    expect(p.next.data!.mapRoles).not.toMatch(/[\u0085\u2028\u2029]/u);
  });

  test('unicode letters in groups and usernames are kept exactly; combining marks are refused with a warning', () => {
    const p = plan(user('zoe', { [TAG_GROUPS]: 'développeurs 開発 équipe e\u0301quipe', [TAG_USERNAME]: 'Zoë' }));
    nothingLost(p);
    expect(victimEntry(p, 'zoe')).toEqual({
      key: 'mapUsers',
      arn: `arn:aws:iam::${A}:user/zoe`,
      username: 'Zoë',
      groups: ['développeurs', 'équipe', '開発'].sort(),
    });
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'bad-group', message: expect.stringContaining('e\u0301quipe') })]);
  });

  test.each([
    ['system:admin', 'bad-username', /claims the reserved "system:" namespace/],
    ['system:node:ip-10-0-0-1', 'bad-username', /claims the reserved "system:" namespace/],
    ['SYSTEM:masters', 'bad-username', /claims the reserved "system:" namespace/],
    ['eks:cluster-admin', 'bad-username', /claims the reserved "eks:" namespace/],
    ['aws:x', 'tag-username-refused', /reserved "aws:" prefix/],
    ['{{SessionName}}', 'tag-username-refused', /needs a prefix with a colon/],
    ['admin', 'tag-username-refused', /an entry the syncer does not own \(mapUsers\[0\]\) uses admin, which it can be the same as/],
    [`arn:aws:sts::${A}:assumed-role/admin/{{SessionName}}`, 'tag-username-refused', /names the role admin, not this principal/],
    [roleArn('admin'), 'tag-username-refused', /shaped like the ARN of another principal/],
    ['a'.repeat(254), 'bad-username', /longer than 253/],
    ['x'.repeat(10 * 1024), 'bad-username', /longer than 253/],
    ['ops\u2028- rolearn: x', 'bad-username', /has characters outside/],
    ['', 'bad-username', /username is empty/],
  ])('a username tag %j that could impersonate someone (or is unusable) falls back to the default username, with a warning', (name, code, reason) => {
    const p = plan(role('victim', { [TAG_GROUPS]: 'dev', [TAG_USERNAME]: name }));
    nothingLost(p);
    expect(victimEntry(p, 'victim')).toMatchObject({ username: `arn:aws:sts::${A}:assumed-role/victim/{{SessionName}}`, groups: ['dev'] });
    expect(p.warnings).toContainEqual(expect.objectContaining({ code, arn: roleArn('victim'), message: expect.stringMatching(reason) }));
  });

  test.each([['on'], ['yes'], ['null'], ['0o17'], ['1:20'], ['1e3'], ['.inf'], ['team:{{SessionName}}'], ['-'], ['='], ['ſ'], ['2024-03-01']])(
    'a username tag %j that YAML would misread is quoted and reads back as the same string',
    (name) => {
      const p = plan(role('victim', { [TAG_GROUPS]: 'dev', [TAG_USERNAME]: name }));
      nothingLost(p);
      expect(victimEntry(p, 'victim')!.username).toBe(name);
    },
  );

  test.each([
    ['a DEL in a user path', '/a\u007fb/'],
    ['a C1 character in a user path', '/a\u0085b/'],
    ['a quote in a user path', '/it"s/'],
  ])('%s: the user is skipped with a warning, or written so that it reads back; never a byte go-yaml rejects', (_what, path) => {
    const p = plan(user('zoe', { [TAG_GROUPS]: 'dev' }, { path }));
    nothingLost(p);
    // eslint-disable-next-line no-control-regex
    expect(p.next.data!.mapUsers).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/u);
    const entry = victimEntry(p, 'zoe');
    if (entry) expect(entry.arn).toBe(`arn:aws:iam::${A}:user${path}zoe`);
    else expect(p.warnings).toContainEqual(expect.objectContaining({ arn: `arn:aws:iam::${A}:user${path}zoe` }));
  });
});

describe('ARNs from another partition or account in the IAM snapshot', () => {
  test('another account is written for its own account; another partition is skipped (its callers never reach this cluster)', () => {
    const s = snap([
      role('dev', { [TAG_GROUPS]: 'dev' }),
      role('dev', { [TAG_GROUPS]: 'ops' }, { arn: roleArn('dev', A, 'aws-cn') }),
      role('dev', { [TAG_GROUPS]: 'view' }, { arn: roleArn('dev', '444455556666') }),
    ]);
    const p = planSync({ current: null, snapshot: s, policy: basePolicy() });
    expect(p.refusals).toEqual([]);
    expect(entriesOf(p.next)).toEqual([
      { key: 'mapRoles', arn: roleArn('dev'), username: `arn:aws:sts::${A}:assumed-role/dev/{{SessionName}}`, groups: ['dev'] },
      { key: 'mapRoles', arn: roleArn('dev', '444455556666'), username: 'arn:aws:sts::444455556666:assumed-role/dev/{{SessionName}}', groups: ['view'] },
    ]);
    expect(p.warnings).toContainEqual(expect.objectContaining({ code: 'other-partition', arn: roleArn('dev', A, 'aws-cn') }));
  });

  test('a role with a path is written without it (the authenticator compares the path-less ARN)', () => {
    const r: IamRole = { arn: `arn:aws:iam::${A}:role/team/dev`, roleName: 'dev', path: '/team/', tags: { [TAG_GROUPS]: 'dev' } };
    const p = planSync({ current: null, snapshot: snap([r]), policy: basePolicy() });
    expect(entriesOf(p.next)).toEqual([{ key: 'mapRoles', arn: roleArn('dev'), username: expect.any(String), groups: ['dev'] }]);
  });

  test.each([
    ['a short account id', 'arn:aws:iam::12345:role/x'],
    ['an unknown partition', `arn:aws-mars:iam::${A}:role/x`],
    ['a user ARN in the role list', `arn:aws:iam::${A}:user/x`],
    ['an instance profile', `arn:aws:iam::${A}:instance-profile/x`],
    ['not an ARN', 'x'],
    ['an ARN with an empty path segment', `arn:aws:iam::${A}:role//x`],
  ])('%s is skipped with a bad-arn warning; everything else is written', (_what, arn) => {
    const s = snap([role('x', { [TAG_GROUPS]: 'dev' }, { arn }), role('ok', { [TAG_GROUPS]: 'dev' })]);
    const current = cm({ mapRoles: NODE });
    const p = planSync({ current, snapshot: s, policy: basePolicy() });
    expect(p.refusals).toEqual([]);
    expect(p.warnings).toEqual([expect.objectContaining({ code: 'bad-arn', arn, message: expect.stringContaining(`skipped ${arn}`) })]);
    expect(p.next.data!.mapRoles!.startsWith(NODE)).toBe(true);
    expect(entriesOf(p.next)).toEqual([expect.objectContaining({ arn: roleArn('NodeInstanceRole') }), expect.objectContaining({ arn: roleArn('ok') })]);
  });
});

describe('config with unknown or mistyped fields', () => {
  test.each([
    [{ cluster: 'prod', adoptUnmanged: true }, /unknown field\(s\) "adoptUnmanged"/],
    [{ Cluster: 'prod' }, /cluster: .*\n.*unknown field\(s\) "Cluster"/],
    [{ cluster: 'prod', guards: { maxRemoval: 3 } }, /guards: unknown field\(s\) "maxRemoval"/],
    [{ cluster: 'prod', guards: { maxRemovals: '3' } }, /guards\.maxRemovals: .*expected number/],
    [{ cluster: 'prod', adoptUnmanaged: 'yes' }, /adoptUnmanaged: .*expected boolean/],
    [{ cluster: 'prod', groupMappings: { iamGroup: 'a' } }, /groupMappings: .*expected array/],
    [
      { cluster: 'prod', groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'], k8sGroups: ['x'] }] },
      /groupMappings\[0\]: unknown field\(s\) "k8sGroups"/,
    ],
    [
      { cluster: 'prod', groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['eks:x'] }] },
      /groupMappings\[0\]\.kubernetesGroups\[0\]: group "eks:x" is in a reserved namespace/,
    ],
    [
      { cluster: 'prod', roleMappings: [{ roleName: 'a', ssoPermissionSet: 'b', kubernetesGroups: ['dev'] }] },
      /roleMappings\[0\]: must name exactly one of ssoPermissionSet and roleName/,
    ],
    [{ cluster: 'prod', tags: { allowedGroups: ['a b'] } }, /tags\.allowedGroups\[0\]: must be a Kubernetes group name or a glob of one/],
    [{ cluster: 'prod', kubernetes: { timeoutMs: 1.5 } }, /kubernetes\.timeoutMs: /],
    [{ cluster: 'prod', backup: { bucket: 'Bad_Bucket' } }, /backup\.bucket: must be an S3 bucket name/],
    [{ cluster: 'prod', selfArn: 'arn:aws:iam::1:role/x' }, /selfArn: must be an IAM role/],
    [{ cluster: 'prod', tagPrefix: 'a b' }, /tagPrefix: must be a tag key prefix/],
    [JSON.parse('{"cluster":"prod","__proto__":{"adoptUnmanaged":true}}'), /unknown field\(s\) "__proto__"/],
    [[], /\(top level\): .*expected object/],
    ['cluster: prod', /\(top level\): .*expected object/],
  ])('%j → ConfigError naming the field', (value, message) => {
    let err: unknown;
    try {
      validateConfig(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  test('every problem is named at once, not just the first', () => {
    expect(() => validateConfig({ cluster: 'bad name', guards: { maxRemovals: -1 }, extra: 1 })).toThrow(
      /cluster: must be an EKS cluster name[\s\S]*guards\.maxRemovals: [\s\S]*unknown field\(s\) "extra"/,
    );
  });

  test('any JSON value either validates or throws a ConfigError (never another error) (numRuns 200)', () => {
    const near = fc.record(
      {
        cluster: fc.oneof(fc.constantFrom('prod', '', 'bad name', 'x'.repeat(101)), fc.jsonValue()),
        groupMappings: fc.oneof(
          fc.array(fc.record({ iamGroup: fc.oneof(fc.string(), fc.jsonValue()), kubernetesGroups: fc.oneof(fc.array(fc.string()), fc.jsonValue()) }), {
            maxLength: 2,
          }),
          fc.jsonValue(),
        ),
        roleMappings: fc.oneof(
          fc.array(
            fc.record(
              { roleName: fc.string(), ssoPermissionSet: fc.string(), kubernetesGroups: fc.array(fc.string()), username: fc.string() },
              { requiredKeys: [] },
            ),
            { maxLength: 2 },
          ),
          fc.jsonValue(),
        ),
        tags: fc.oneof(fc.record({ allowedGroups: fc.oneof(fc.array(fc.string()), fc.jsonValue()) }), fc.jsonValue()),
        usernames: fc.oneof(fc.record({ role: fc.string(), user: fc.string() }, { requiredKeys: [] }), fc.jsonValue()),
        guards: fc.oneof(fc.record({ maxRemovals: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()) }), fc.jsonValue()),
        adoptUnmanaged: fc.jsonValue(),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(near, fc.jsonValue()), (value) => {
        try {
          const c = validateConfig(value);
          expect(typeof c.cluster).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect((e as Error).message).toMatch(/^invalid config:\n {2}\S/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('a result over the 1 MiB ConfigMap limit', () => {
  test('many tagged principals: refused as too-large with the size and what to do, even with force', () => {
    const longGroups = Array.from({ length: 8 }, (_v, i) => `${String(i)}${'g'.repeat(250)}`).join(' ');
    const roles = Array.from({ length: 550 }, (_v, i) => role(`r${i}`, { [TAG_GROUPS]: longGroups }));
    const current = cm({ mapRoles: NODE, mapAccounts: ACCOUNTS });
    for (const force of [false, true]) {
      const p = planSync({ current, snapshot: snap(roles), policy: basePolicy(), force });
      expect(p.refusals.map((r) => r.code)).toEqual(['too-large']);
      expect(p.refusals[0]!.message).toMatch(/^the next aws-auth would hold \d{7} bytes of data, over the 1 MiB ConfigMap limit; .*EKS access entries/);
    }
  });

  test('a big unknown key plus one new entry: refused one byte over the limit, allowed exactly at it', () => {
    const s = snap([role('dev', { [TAG_GROUPS]: 'dev' })]);
    const probe = planSync({ current: cm({ mapRoles: NODE, filler: '' }), snapshot: s, policy: basePolicy() });
    const room = CONFIGMAP_MAX_BYTES - dataSize(probe.next);
    const at = planSync({ current: cm({ mapRoles: NODE, filler: 'x'.repeat(room) }), snapshot: s, policy: basePolicy() });
    expect(dataSize(at.next)).toBe(CONFIGMAP_MAX_BYTES);
    expect(at.refusals).toEqual([]);
    const over = planSync({ current: cm({ mapRoles: NODE, filler: 'é'.repeat(Math.ceil((room + 1) / 2)) }), snapshot: s, policy: basePolicy() });
    expect(dataSize(over.next)).toBeGreaterThan(CONFIGMAP_MAX_BYTES);
    expect(over.refusals.map((r) => r.code)).toEqual(['too-large']);
    // The unknown key is never touched, even to make room.
    expect(over.next.data!.filler).toBe('é'.repeat(Math.ceil((room + 1) / 2)));
  });
});
