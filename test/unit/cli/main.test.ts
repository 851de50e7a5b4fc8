/**
 * The CLI contract in-process, through main(argv, io): what goes to stdout and stderr, and the
 * exit code. No subprocess, no network (live commands are stopped by bad input before any AWS
 * call, or run over aws-sdk-client-mock). The built command in its own process is covered by
 * test/slow/cli-process.test.ts.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeClusterCommand, EKSClient, ListAccessEntriesCommand } from '@aws-sdk/client-eks';
import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { decodeText, main } from '../../../cli/main.js';

const F = 'test/fixtures/cli';
const tmp = mkdtempSync(join(tmpdir(), 'aas-cli-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => (stdout += t), err: (t) => (stderr += t), readFile: (p) => decodeText(readFileSync(p)) });
  return { code, stdout, stderr };
}

const PLAN = ['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`];
const liveConfig = file('live.yaml', 'cluster: demo\nbackup:\n  bucket: demo-backups\n  macKey: alias/aws-auth-syncer\n');

describe('version and help', () => {
  test('--version prints the version from package.json, exit 0', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await run('--version')).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  test.each([
    ['plan', ['--iam <file>', '--current <file|none>', '--self-arn <arn>', '--output <format>'], ['--backup', '--kubeconfig', '--limit']],
    ['sync', ['--dry-run', '--kubeconfig <file>', '--context <name>', '--profile <name>'], ['--iam', '--backup', '--limit']],
    ['restore', ['--backup <key|latest>', '--kubeconfig <file>', '--dry-run'], ['--iam', '--limit']],
    ['backups', ['--limit <n>', '--bucket <name>', '--profile <name>'], ['--kubeconfig', '--backup', '--dry-run']],
  ])('%s --help prints that command’s own options (and not the others’), exit 0', async (command, has, hasNot) => {
    const r = await run(command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: aws-auth-syncer ${command} [options]`);
    for (const o of has) expect(r.stdout).toContain(o);
    for (const o of hasNot) expect(r.stdout).not.toContain(o);
  });

  test("help plan prints plan's help, as plan --help does; exit 0", async () => {
    const r = await run('help', 'plan');
    expect(r).toEqual(await run('plan', '--help'));
    expect(r.code).toBe(0);
  });

  test('no arguments: the command list on stderr, exit 1', async () => {
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/plan \[options\][\s\S]*sync \[options\][\s\S]*restore \[options\][\s\S]*backups \[options\]/);
  });
});

describe('options belong to commands', () => {
  test.each([
    [['plan', '--backup', 'x', '--limit', 'foo'], /unknown option '--backup'/],
    [['plan', '--bogus'], /unknown option '--bogus'/],
    [['backups', '--config', liveConfig, '--kubeconfig', 'k'], /unknown option '--kubeconfig'/],
    [['backups', '--config', liveConfig, '--dry-run'], /unknown option '--dry-run'/],
    [['sync', '--config', liveConfig, '--backup', 'latest'], /unknown option '--backup'/],
    [['restore', '--config', liveConfig, '--iam', 'x'], /unknown option '--iam'/],
    [['backups', '--config', liveConfig, '--limit', 'foo'], /'--limit <n>' argument 'foo' is invalid\. must be a whole number from 1 to 10000/],
    [['backups', '--config', liveConfig, '--limit', '0'], /must be a whole number from 1 to 10000/],
    [['backups', '--config', liveConfig, '--limit', '2.5'], /must be a whole number from 1 to 10000/],
    [['backups', '--config', liveConfig, '--limit', '99999999999999999999'], /must be a whole number from 1 to 10000/],
    [
      ['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', 'none', '--output', 'xml'],
      /argument 'xml' is invalid\. Allowed choices are text, json/,
    ],
    [['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`], /required option '--current <file\|none>' not specified/],
    [['restore', '--config', liveConfig], /required option '--backup <key\|latest>' not specified/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('%j → exit 1 and a message naming the offending option, nothing on stdout', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('plan --output json', () => {
  test('changes: one JSON document with the diff, summary and complete next manifest; exit 2', async () => {
    const r = await run(...PLAN, '--output', 'json');
    expect(r.code).toBe(2);
    const reply = JSON.parse(r.stdout);
    expect(reply).toMatchObject({ outcome: 'planned', cluster: 'demo', create: false, refusals: [], summary: { added: 4, removed: 0 } });
    expect(reply.diff).toContain('+ mapUsers arn:aws:iam::111122223333:user/eng/bob username="bob" groups=[dev-edit, dev-view, system:masters]');
    expect(parse(reply.manifest).metadata.resourceVersion).toBe('4711');
    expect(r.stderr).toBe('');
  });

  test('nothing to change: outcome unchanged, no manifest, exit 0', async () => {
    const first = await run(...PLAN);
    const next = file('next.yaml', first.stdout);
    const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', next, '--output', 'json');
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout);
    expect(reply.outcome).toBe('unchanged');
    expect(reply.manifest).toBeUndefined();
  });

  test('refused: the refusals in the document, exit 3', async () => {
    const owned = file('owned.yaml', (await run(...PLAN)).stdout);
    const empty = file('empty-iam.json', JSON.stringify({ UserDetailList: [], GroupDetailList: [], RoleDetailList: [] }));
    const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', empty, '--current', owned, '--output', 'json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'refused', refusals: [{ code: 'empty-discovery' }] });
  });

  test('invalid input: an {"outcome": "error"} document on stdout, the message on stderr, exit 1', async () => {
    const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', file('roles.json', '{"Roles": []}'), '--current', 'none', '--output', 'json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'error', error: { name: 'InputError' } });
    expect(r.stderr).toMatch(/has none of UserDetailList/);
  });
});

describe('--iam must be GetAccountAuthorizationDetails output', () => {
  const roles = JSON.stringify({ Roles: [{ RoleName: 'admin', Arn: 'arn:aws:iam::111122223333:role/admin', Path: '/' }] });
  test.each([
    ['aws iam list-roles output', roles, /--iam .*: page 0 has none of UserDetailList, RoleDetailList, GroupDetailList \(its fields: Roles\)/],
    ['an empty object', '{}', /page 0 has none of UserDetailList, RoleDetailList, GroupDetailList \(it is an empty object\)/],
    ['an empty list', '[]', /is an empty list/],
    ['a list of something else', '["alice", "bob"]', /page 0 is not an object/],
    ['a list of users', JSON.stringify([{ UserName: 'alice' }]), /page 0 has none of .* \(its fields: UserName\)/],
  ])('%s → exit 1 saying what was expected, never read as an empty account', async (_what, text, message) => {
    const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', file('iam-bad.json', text), '--current', `${F}/current.yaml`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(
      'expected the output of `aws iam get-account-authorization-details` (a JSON object with UserDetailList, RoleDetailList and GroupDetailList',
    );
  });
});

describe('--current must be the one ConfigMap kube-system/aws-auth', () => {
  const cm = (name: string, ns = 'kube-system') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: {} });
  test.each([
    [
      'a ConfigMap list (kubectl get cm -o yaml)',
      { apiVersion: 'v1', kind: 'List', items: [cm('aws-auth'), cm('coredns')] },
      /is a List of 2 object\(s\), not one ConfigMap: name the one ConfigMap/,
    ],
    ['another ConfigMap', cm('coredns'), /is ConfigMap kube-system\/coredns, not kube-system\/aws-auth/],
    ['aws-auth of another namespace', cm('aws-auth', 'default'), /is ConfigMap default\/aws-auth, not kube-system\/aws-auth/],
    ['a Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-auth' } }, /is not a ConfigMap/],
  ])('%s → exit 1 naming the expected kubectl command', async (_what, value, message) => {
    const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', file('current-bad.json', JSON.stringify(value)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('kubectl -n kube-system get configmap aws-auth -o yaml');
  });
});

describe('--kubeconfig / --context are checked before any AWS call', () => {
  const kubeconfig = (clusterName: string) =>
    file(
      `kubeconfig-${clusterName.replace(/\W/g, '_')}`,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: ${clusterName}`,
        '  cluster: { server: "https://127.0.0.1:1" }',
        'users:',
        '- name: me',
        '  user: { token: t }',
        'contexts:',
        '- name: ctx',
        `  context: { cluster: "${clusterName}", user: me }`,
        'current-context: ctx',
        '',
      ].join('\n'),
    );

  test.each([
    [['--kubeconfig', join(tmp, 'missing-kubeconfig')], /kubeconfig .*missing-kubeconfig cannot be read \(ENOENT\)/],
    [['--kubeconfig', kubeconfig('plain'), '--context', 'nope'], /--context nope: no such context in .* \(contexts: ctx\)/],
    [['--kubeconfig', kubeconfig('arn:aws:eks:eu-west-1:111122223333:cluster/prod')], /points at EKS cluster prod, but the config is for cluster demo/],
    [['--kubeconfig', kubeconfig('prod.eu-west-1.eksctl.io')], /points at EKS cluster prod, but the config is for cluster demo/],
    [['--kubeconfig', `${F}/iam.json`], /iam\.json is not a kubeconfig \(it has no contexts\)/],
  ])('sync %j → exit 1, one line naming the problem', async (extra, message) => {
    const r = await run('sync', '--config', liveConfig, '--dry-run', ...extra);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

test("--context without any kubeconfig names the missing file (not client-node's made-up context)", async () => {
  const saved = { HOME: process.env.HOME, KUBECONFIG: process.env.KUBECONFIG };
  try {
    process.env.HOME = mkdtempSync(join(tmp, 'home-'));
    delete process.env.KUBECONFIG;
    const r = await run('sync', '--config', liveConfig, '--dry-run', '--context', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no kubeconfig: ~\/\.kube\/config does not exist and KUBECONFIG is not set/);
  } finally {
    process.env.HOME = saved.HOME;
    if (saved.KUBECONFIG !== undefined) process.env.KUBECONFIG = saved.KUBECONFIG;
  }
});

test('--current holding several YAML documents says so in words', async () => {
  const two = file('two.yaml', `${readFileSync(`${F}/current.yaml`, 'utf8')}\n---\n${readFileSync(`${F}/current.yaml`, 'utf8')}`);
  const r = await run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', two);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/holds several YAML documents \(---\): give the one ConfigMap kube-system\/aws-auth/);
});

describe('AWS profile: region and credentials as the aws CLI finds them', () => {
  const saved = { ...process.env };
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    process.env.AWS_CONFIG_FILE = file('aws-config', '[default]\nregion = eu-west-1\n\n[profile dev]\nregion = ap-south-2\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = file('aws-credentials', '[dev]\naws_access_key_id = AKIADEVPROFILE000001\naws_secret_access_key = dev-secret\n');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    s3.reset();
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  afterAll(() => s3.restore());

  /** The region and credentials of the S3 client the command really called. */
  async function clientUsed() {
    const client = s3.send.getCall(0).thisValue as S3Client;
    return { region: await client.config.region(), accessKeyId: (await client.config.credentials()).accessKeyId };
  }

  test('--profile dev: region and keys from that profile when neither the config nor AWS_REGION names a region', async () => {
    const r = await run('backups', '--config', liveConfig, '--profile', 'dev', '--output', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ outcome: 'listed', cluster: 'demo', count: 0, backups: [] });
    expect(await clientUsed()).toEqual({ region: 'ap-south-2', accessKeyId: 'AKIADEVPROFILE000001' });
  });

  test('AWS_PROFILE=dev works like --profile dev', async () => {
    process.env.AWS_PROFILE = 'dev';
    expect((await run('backups', '--config', liveConfig)).code).toBe(0);
    expect(await clientUsed()).toEqual({ region: 'ap-south-2', accessKeyId: 'AKIADEVPROFILE000001' });
  });

  test('AWS_REGION wins over the profile region, and the config region over both', async () => {
    process.env.AWS_REGION = 'us-west-2';
    await run('backups', '--config', liveConfig, '--profile', 'dev');
    expect((await clientUsed()).region).toBe('us-west-2');
    s3.resetHistory();
    await run(
      'backups',
      '--config',
      file('live-region.yaml', 'cluster: demo\nregion: ca-central-1\nbackup:\n  bucket: demo-backups\n  macKey: alias/aws-auth-syncer\n'),
      '--profile',
      'dev',
    );
    expect((await clientUsed()).region).toBe('ca-central-1');
  });

  test('no profile named: the default profile’s region', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENV0000000000001';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    await run('backups', '--config', liveConfig);
    expect(await clientUsed()).toEqual({ region: 'eu-west-1', accessKeyId: 'AKIAENV0000000000001' });
  });

  test('an unknown --profile is exit 1 naming it and the profiles there are, before any AWS call', async () => {
    const r = await run('backups', '--config', liveConfig, '--profile', 'prod');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--profile prod: no such profile in the AWS config or credentials file \(profiles: default, dev\)/);
    expect(s3.send.callCount).toBe(0);
  });

  test('no region anywhere: exit 1 naming the places a region can come from', async () => {
    process.env.AWS_CONFIG_FILE = file('aws-config-empty', '[profile dev]\noutput = json\n');
    const r = await run('backups', '--config', liveConfig, '--profile', 'dev');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no region: set `region` in .*live\.yaml, AWS_REGION, or a region in the AWS profile dev/);
  });
});

describe('plan --target access-entries: the offline contract', () => {
  const E = `${F}/access-entries`;
  const ENTRIES = ['plan', '--config', `${E}/config.yaml`, '--iam', `${E}/iam.json`];
  const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';

  test('--output json: {target, calls, refusals, warnings}, calls in a safe order, exit 2', async () => {
    const r = await run(...ENTRIES, '--current-entries', `${E}/entries.json`, '--output', 'json');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ target: 'access-entries', outcome: 'planned', refusals: [], warnings: [] });
    expect(doc.calls).toEqual([
      {
        op: 'CreateAccessEntry',
        principalArn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_0123456789abcdef',
        kubernetesGroups: ['dev-view'],
        username: 'sso-readonly:{{SessionName}}',
      },
      { op: 'CreateAccessEntry', principalArn: 'arn:aws:iam::111122223333:user/alice', kubernetesGroups: [], username: 'alice' },
      { op: 'AssociateAccessPolicy', principalArn: 'arn:aws:iam::111122223333:user/alice', policyArn: ADMIN, accessScope: { type: 'cluster' } },
      { op: 'CreateAccessEntry', principalArn: 'arn:aws:iam::111122223333:user/carol', kubernetesGroups: ['dev-view'], username: 'carol' },
      { op: 'UpdateAccessEntry', principalArn: 'arn:aws:iam::111122223333:user/eng/bob', kubernetesGroups: ['dev-edit', 'dev-view'], username: 'bob' },
      { op: 'AssociateAccessPolicy', principalArn: 'arn:aws:iam::111122223333:user/eng/bob', policyArn: ADMIN, accessScope: { type: 'cluster' } },
      {
        op: 'AssociateAccessPolicy',
        principalArn: 'arn:aws:iam::111122223333:user/eng/bob',
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
        accessScope: { type: 'namespace', namespaces: ['dev'] },
      },
      // dave's IAM user is gone (the entry granted nothing); the creator's and the node entry are not the syncer's.
      { op: 'DeleteAccessEntry', principalArn: 'arn:aws:iam::111122223333:user/dave' },
    ]);
    expect(doc.access).toContain(
      'arn:aws:iam::111122223333:user/eng/bob: "bob" [dev-view] → "bob" [dev-edit, dev-view] + AmazonEKSClusterAdminPolicy (cluster), AmazonEKSViewPolicy (namespaces dev)',
    );
  });

  test('text: the calls on stdout (one JSON per line), the report on stderr; the result planned again is unchanged (exit 0)', async () => {
    const r = await run(...ENTRIES, '--current-entries', `${E}/entries.json`);
    expect(r.code).toBe(2);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).op),
    ).toEqual([
      'CreateAccessEntry',
      'CreateAccessEntry',
      'AssociateAccessPolicy',
      'CreateAccessEntry',
      'UpdateAccessEntry',
      'AssociateAccessPolicy',
      'AssociateAccessPolicy',
      'DeleteAccessEntry',
    ]);
    expect(r.stderr).toMatch(/3 to create, 1 to update, 1 to delete, 0 to recreate, 3 to associate, 0 to disassociate, 0 conflicts, 2 unmanaged entries kept/);
    const { applyCalls, entriesFromDocument } = await import('../../../lib/core/access-entries.js');
    const { planEntriesSync } = await import('../../../lib/core/access-entries.js');
    const { readIam, readCurrentEntries } = await import('../../../cli/main.js');
    const before = readCurrentEntries(readFileSync(`${E}/entries.json`, 'utf8'), 'e');
    const first = planEntriesSync({
      current: before,
      snapshot: readIam(readFileSync(`${E}/iam.json`, 'utf8'), 'i'),
      policy: (await import('../../../lib/config.js')).toPolicy((await import('../../../lib/config.js')).readConfigFile(`${E}/config.yaml`)),
    });
    const after = applyCalls(before, first.calls);
    const doc = {
      accessEntries: after.entries.map((e) => ({ ...e, createdAt: new Date('2026-01-01T00:00:00Z').toISOString() })),
      associatedPolicies: Object.fromEntries(
        Object.entries(after.policies).map(([k, v]) => [k, v.map((p) => ({ policyArn: p.policyArn, accessScope: p.scope }))]),
      ),
    };
    expect(entriesFromDocument(doc).entries).toHaveLength(6);
    const again = await run(...ENTRIES, '--current-entries', file('after.json', JSON.stringify(doc)), '--output', 'json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'unchanged', calls: [] });
  });

  test('--current-entries none plans every create; a guard refusal is exit 3', async () => {
    const r = await run(...ENTRIES, '--current-entries', 'none', '--output', 'json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).calls.filter((c: { op: string }) => c.op === 'CreateAccessEntry')).toHaveLength(4);
    // Only admin today is owned, and IAM no longer maps anyone to it: the last admin is kept.
    const lonely = file(
      'lonely.json',
      JSON.stringify({
        accessEntries: [{ principalArn: 'arn:aws:iam::111122223333:user/alice', username: 'alice', tags: { 'aws-auth-syncer.io/owned': 'demo' } }],
        associatedPolicies: { 'arn:aws:iam::111122223333:user/alice': [{ policyArn: ADMIN, accessScope: { type: 'cluster' } }] },
      }),
    );
    const noAdmins = file(
      'no-admins.json',
      JSON.stringify({
        UserDetailList: [{ Path: '/', UserName: 'alice', UserId: 'AIDA1', Arn: 'arn:aws:iam::111122223333:user/alice', GroupList: ['developers'] }],
        GroupDetailList: [{ Path: '/', GroupName: 'developers', Arn: 'arn:aws:iam::111122223333:group/developers' }],
        RoleDetailList: [],
      }),
    );
    const refused = await run('plan', '--config', `${E}/config.yaml`, '--iam', noAdmins, '--current-entries', lonely, '--output', 'json');
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout).refusals.map((x: { code: string }) => x.code)).toEqual(['last-cluster-admin']);
  });

  test('bad input names the problem (exit 1); --target overrides the config; the options belong to their target', async () => {
    const bad = await run(...ENTRIES, '--current-entries', file('bad-entries.json', '{"accessEntries": [{"principalArn": "a"}, {"principalArn": "a"}]}'));
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/--current-entries .*bad-entries.json: accessEntries: a is listed twice.*expected \{"accessEntries"/);
    expect((await run(...ENTRIES, '--current-entries', file('x.json', 'nope'))).stderr).toMatch(/is not JSON/);
    expect((await run(...ENTRIES)).stderr).toMatch(/required option '--current-entries <file\|none>' not specified/);
    expect((await run(...ENTRIES, '--current-entries', 'none', '--current', 'none')).stderr).toMatch(/reads --current-entries .* not --current/);
    const viaFlag = await run(
      'plan',
      '--config',
      `${F}/config.yaml`,
      '--iam',
      `${E}/iam.json`,
      '--target',
      'access-entries',
      '--current-entries',
      'none',
      '--output',
      'json',
    );
    expect(JSON.parse(viaFlag.stdout)).toMatchObject({ target: 'access-entries', outcome: 'planned' });
    expect((await run(...PLAN, '--current-entries', 'none')).stderr).toMatch(/--current-entries is for --target access-entries/);
  });
});

describe('a config that lists clusters', () => {
  const fleetConfig = file(
    'fleet.yaml',
    [
      'groupMappings:',
      '  - iamGroup: platform-admins',
      '    kubernetesGroups: [system:masters]',
      'clusters:',
      '  - cluster: demo',
      '  - cluster: other',
      '    groupMappings:',
      '      - iamGroup: developers',
      '        kubernetesGroups: [system:masters]',
      '',
    ].join('\n'),
  );

  test('--cluster picks the cluster to plan, with its own mappings', async () => {
    const one = await run('plan', '--config', fleetConfig, '--cluster', 'demo', '--iam', `${F}/iam.json`, '--current', 'none', '--output', 'json');
    const other = await run('plan', '--config', fleetConfig, '--cluster', 'other', '--iam', `${F}/iam.json`, '--current', 'none', '--output', 'json');
    expect([one.code, other.code]).toEqual([2, 2]);
    const [a, b] = [JSON.parse(one.stdout), JSON.parse(other.stdout)];
    expect([a.cluster, b.cluster]).toEqual(['demo', 'other']);
    // demo maps the platform admins, other the developers (its own groupMappings replace the shared ones)
    expect(a.diff).not.toEqual(b.diff);
    expect(a.diff.filter((l: string) => l.startsWith('+ mapUsers')).length).toBeGreaterThan(0);
    expect(b.diff.filter((l: string) => l.startsWith('+ mapUsers')).length).toBeGreaterThan(0);
  });

  test('without --cluster, or with a name not listed: exit 1 naming the clusters', async () => {
    const none = await run('plan', '--config', fleetConfig, '--iam', `${F}/iam.json`, '--current', 'none');
    expect(none).toMatchObject({ code: 1, stdout: '' });
    expect(none.stderr).toBe(
      'aws-auth-syncer: the configuration lists 2 clusters (demo, other): name one ("cluster" in the payload, --cluster on the command line)\n',
    );
    const wrong = await run('backups', '--config', fleetConfig, '--cluster', 'prod');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('aws-auth-syncer: cluster "prod" is not in the configuration (demo, other)\n');
  });
});

describe('migrate on a cluster in another account, aws-auth read through a kubeconfig', () => {
  const saved = { ...process.env };
  const [eks, sts, iam] = [mockClient(EKSClient), mockClient(STSClient), mockClient(IAMClient)];
  const ROLE = 'arn:aws:iam::222233334444:role/aws-auth-syncer-access';
  afterAll(() => {
    for (const m of [eks, sts, iam]) m.restore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  test('the access entries and the authentication mode are asked of EKS as the cluster role; only aws-auth goes to the kubeconfig', async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAOPERATOR00000001',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_REGION: 'us-east-2',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const config = file(
      'member.yaml',
      JSON.stringify({
        groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'] }],
        backup: { bucket: 'b-1', macKey: 'alias/aws-auth-syncer' },
        clusters: [{ cluster: 'data', region: 'us-east-2', roleArn: ROLE }],
      }),
    );
    // A kubeconfig whose server answers nothing: reading aws-auth through it fails, after the EKS calls.
    const kubeconfig = file(
      'member.kubeconfig',
      'apiVersion: v1\nkind: Config\nclusters:\n- name: data\n  cluster: {server: "https://127.0.0.1:1"}\nusers:\n- name: me\n  user: {token: t}\ncontexts:\n- name: ctx\n  context: {cluster: data, user: me}\ncurrent-context: ctx\n',
    );
    const expiration = new Date(Date.now() + 3600_000);
    sts
      .on(AssumeRoleCommand)
      .resolves({ Credentials: { AccessKeyId: 'ASIAMEMBERROLE000001', SecretAccessKey: 'm', SessionToken: 't', Expiration: expiration } });
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::222233334444:assumed-role/aws-auth-syncer-access/aws-auth-syncer-data' });
    iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [], RoleDetailList: [], GroupDetailList: [], IsTruncated: false });
    eks.on(DescribeClusterCommand).resolves({
      cluster: {
        name: 'data',
        arn: 'arn:aws:eks:us-east-2:222233334444:cluster/data',
        endpoint: 'https://eks.invalid',
        status: 'ACTIVE',
        certificateAuthority: { data: Buffer.from('not used').toString('base64') },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      },
    });
    eks.on(ListAccessEntriesCommand).resolves({ accessEntries: [] });

    const r = await run('migrate', '--config', config, '--cluster', 'data', '--to', 'access-entries', '--kubeconfig', kubeconfig, '--output', 'json');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    expect(eks.commandCalls(ListAccessEntriesCommand)).toHaveLength(1);
    // the client those calls went through: the cluster's region, the member role's session
    // (the mock does not sign, so the credentials are resolved here: that is the AssumeRole)
    const client = eks.send.getCalls().find((c) => c.args[0] instanceof ListAccessEntriesCommand)!.thisValue as EKSClient;
    expect([await client.config.region(), (await client.config.credentials()).accessKeyId]).toEqual(['us-east-2', 'ASIAMEMBERROLE000001']);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([ROLE]);
    // aws-auth: through the kubeconfig's server (which refuses), named in a one-line error
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('input files a person gets wrong', () => {
  const iamPage = JSON.parse(readFileSync(`${F}/iam.json`, 'utf8')) as Record<string, unknown>;
  const page = Array.isArray(iamPage) ? (iamPage[0] as Record<string, unknown>) : iamPage;
  const bytes = (name: string, b: Uint8Array) => {
    const p = join(tmp, name);
    writeFileSync(p, b);
    return p;
  };
  const plan = (over: Record<string, string>) => {
    const args = [...PLAN];
    for (const [k, v] of Object.entries(over)) args[args.indexOf(k) + 1] = v;
    return run(...args);
  };

  test.each([
    ['one page of a paginated listing (IsTruncated, Marker)', { ...page, IsTruncated: true, Marker: 'm1' }, /the listing is truncated \(IsTruncated\)/],
    ['--max-items output (NextToken)', { ...page, NextToken: 'eyJ' }, /the listing is truncated \(NextToken\)/],
    ['the last of several pages truncated', [page, { ...page, IsTruncated: true, Marker: 'm2' }], /page 2 of 2: the listing is truncated/],
    [
      'a --filter Role listing (no UserDetailList, no GroupDetailList)',
      { RoleDetailList: page.RoleDetailList },
      /no UserDetailList or GroupDetailList, so it is not every principal \(was it run with --filter\?\)/,
    ],
  ])('--iam holding %s: exit 1, never read as the whole account (that would remove everyone left out)', async (_what, doc, message) => {
    const r = await plan({ '--iam': file('partial.json', JSON.stringify(doc)) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  test('a file that is not UTF-8 is refused, naming the byte (never decoded into a changed username)', async () => {
    const text = readFileSync(`${F}/current.yaml`, 'utf8').replace('kind: ConfigMap', 'kind: ConfigMap\n# caf\u00e9');
    const latin1 = Buffer.from(text, 'latin1');
    const r = await plan({ '--current': bytes('latin1.yaml', latin1) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read --current .*latin1\.yaml: it is not UTF-8 text \(byte \d+ is not; Latin-1\?\)/);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(`${F}/iam.json`, 'utf8'), 'utf16le')]);
    expect((await plan({ '--iam': bytes('utf16.json', utf16) })).stderr).toMatch(/it is UTF-16 text/);
  });

  test('a UTF-8 byte order mark is dropped (JSON too)', async () => {
    const bom = bytes('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(`${F}/iam.json`)]));
    expect((await plan({ '--iam': bom })).code).toBe((await run(...PLAN)).code);
  });

  test.each([
    ['', /--iam needs a file path \(it is empty\)/],
    [tmp, /it is a directory \(EISDIR\)/],
    [join(tmp, 'missing.json'), /no such file \(ENOENT\)/],
  ])('--iam %j: the problem in words', async (path, message) => {
    const r = await plan({ '--iam': path });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  test('plan takes the partition from the config region, else AWS_REGION, which must be a region', async () => {
    const saved = process.env.AWS_REGION;
    try {
      process.env.AWS_REGION = 'bogus';
      const r = await run(...PLAN);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/AWS_REGION=bogus is not an AWS region such as eu-west-1/);
      // A config that names its region does not look at AWS_REGION at all.
      const withRegion = file('with-region.yaml', `${readFileSync(`${F}/config.yaml`, 'utf8')}region: eu-west-1\n`);
      expect((await run('plan', '--config', withRegion, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`)).code).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
    }
  });

  test('--self-arn that the guards cannot key is a usage error (a typo would protect no one)', async () => {
    const r = await run(...PLAN, '--self-arn', 'notanarn');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--self-arn <arn>' argument 'notanarn' is invalid\. must be an IAM role or user ARN/);
  });
});
