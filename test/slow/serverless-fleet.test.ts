/**
 * Many clusters from one deployment, as CloudFormation: `serverless package` (offline) with
 * aws-auth-syncer.fleet.example.yaml — two clusters in this account, one in another (roleArn) —
 * and the member stack deploy/member-account.yaml. Conditions are evaluated, so each check says
 * what is really deployed: the cluster queue (FIFO, dead-letter queue, alarm), the cluster
 * function, each role's rights scoped to the listed clusters and the run's snapshot, the fleet
 * alarms and dashboard; the member stack's trust and forwarding. Every policy document of both
 * is linted by parliament. The one-cluster template is test/slow/serverless*.test.ts.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml, type Tags } from 'yaml';
import { IAM_EVENT_NAMES } from '../../lib/app/events.js';
import { FLEET_METRIC } from '../../lib/app/fleet-metrics.js';
import { METRIC, SYNC_OUTCOME_METRICS } from '../../lib/app/observe.js';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lib/adapters/metrics.js';
import { parseClusterSetText } from '../../lib/config-clusters.js';
import { lintPolicy, parliamentPath } from '../support/iam-policy.js';

type Cfn = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FLEET_CONFIG = 'aws-auth-syncer.fleet.example.yaml';
const MEMBER_ROLE = 'arn:aws:iam::222233334444:role/aws-auth-syncer-access';
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });
const sub = (text: string) => ({ 'Fn::Sub': text });
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true' };
}

/** A private copy to package in (serverless-esbuild works in <service>/.esbuild, which other slow tests use meanwhile). */
function privateCheckout(dir: string): string {
  const copy = join(dir, 'checkout');
  mkdirSync(copy, { recursive: true });
  for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'tsconfig.build.json', FLEET_CONFIG]) cpSync(join(ROOT, f), join(copy, f));
  for (const d of ['lib', 'handlers', 'deploy']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

function pack(cwd: string, out: string, params: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const args = ['--no', 'serverless', 'package', '--package', out, ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
  return new Promise((resolve) =>
    execFile('npx', args, { cwd, env: offlineEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}\n${stderr}` }),
    ),
  );
}

/** A template with its conditions evaluated (params are constants once packaged). */
class Template {
  readonly resources: Cfn;
  constructor(readonly t: Cfn) {
    this.resources = t.Resources as Cfn;
  }
  condition(name: string): boolean {
    const ev = (x: any): any => {
      if (typeof x !== 'object' || x === null) return x;
      if ('Fn::Equals' in x) return ev(x['Fn::Equals'][0]) === ev(x['Fn::Equals'][1]);
      if ('Fn::Not' in x) return !ev(x['Fn::Not'][0]);
      if ('Fn::And' in x) return x['Fn::And'].every(ev);
      if ('Condition' in x) return this.condition(x.Condition);
      throw new Error(`cannot evaluate ${JSON.stringify(x)}`);
    };
    return ev(this.t.Conditions[name]) as boolean;
  }
  deployed(id: string): Cfn | undefined {
    const r = this.resources[id] as Cfn | undefined;
    return r && (r.Condition === undefined || this.condition(r.Condition)) ? r : undefined;
  }
  resolve(x: any): any {
    if (Array.isArray(x)) return x.map((v) => this.resolve(v)).filter((v) => v !== undefined);
    if (typeof x !== 'object' || x === null) return x;
    if ('Fn::If' in x) return this.resolve(this.condition(x['Fn::If'][0]) ? x['Fn::If'][1] : x['Fn::If'][2]);
    if (x.Ref === 'AWS::NoValue') return undefined;
    return Object.fromEntries(
      Object.entries(x)
        .map(([k, v]) => [k, this.resolve(v)])
        .filter(([, v]) => v !== undefined),
    );
  }
  ofType(type: string): [string, Cfn][] {
    return Object.keys(this.resources)
      .map((id) => [id, this.deployed(id)] as [string, Cfn | undefined])
      .filter((e): e is [string, Cfn] => e[1]?.Type === type)
      .map(([id, r]) => [id, this.resolve(r)]);
  }
  /** Allowed statements of a role: its inline policies and every deployed AWS::IAM::Policy attached to it. */
  allowed(role: string): { Action: string[]; Resource: unknown[]; Condition?: Cfn; policy: string }[] {
    const out: { Action: string[]; Resource: unknown[]; Condition?: Cfn; policy: string }[] = [];
    const add = (policy: string, doc: Cfn) => {
      for (const s of asArray<Cfn>(this.resolve(doc).Statement))
        if (s.Effect === 'Allow') out.push({ Action: asArray(s.Action), Resource: asArray(s.Resource), Condition: s.Condition, policy });
    };
    for (const p of asArray<Cfn>(this.deployed(role)?.Properties.Policies)) add(`${role}/${p.PolicyName}`, p.PolicyDocument);
    for (const [id, p] of this.ofType('AWS::IAM::Policy'))
      if (asArray<Cfn>(p.Properties.Roles).some((x) => x.Ref === role)) add(id, p.Properties.PolicyDocument);
    return out;
  }
  actions(role: string): string[] {
    return [...new Set(this.allowed(role).flatMap((s) => s.Action))].sort();
  }
  resourcesFor(role: string, action: string): unknown[] {
    return this.allowed(role)
      .filter((s) => s.Action.includes(action))
      .flatMap((s) => s.Resource);
  }
}

/** CloudFormation's short-form tags, read as their long forms. */
const CFN_TAGS: Tags = ['Ref', 'Sub', 'GetAtt', 'Equals', 'Not', 'If', 'Join', 'Split'].flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  const wrap = (v: unknown) => ({ [key]: name === 'GetAtt' && typeof v === 'string' ? v.split('.') : v });
  return [
    { tag: `!${name}`, resolve: (v: string) => wrap(v) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (v: any) => wrap(v.toJSON()) },
  ];
}) as Tags;

let dir: string;
let fleet: Template;
let zipEntries: string[];
let member: Cfn;
const config = parseClusterSetText(readFileSync(join(ROOT, FLEET_CONFIG), 'utf8'), FLEET_CONFIG);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aws-auth-syncer-fleet-'));
  const copy = privateCheckout(dir);
  const r = await pack(copy, join(dir, 'fleet'), { configFile: FLEET_CONFIG, memberAccounts: '222233334444' });
  if (!r.ok) throw new Error(`serverless package failed:\n${r.output}`);
  fleet = new Template(JSON.parse(readFileSync(join(dir, 'fleet', 'cloudformation-template-update-stack.json'), 'utf8')) as Cfn);
  const { execFileSync } = await import('node:child_process');
  zipEntries = execFileSync(
    'python3',
    ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', join(dir, 'fleet', 'cluster.zip')],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n');
  member = parseYaml(readFileSync(join(ROOT, 'deploy/member-account.yaml'), 'utf8'), { customTags: CFN_TAGS }) as Cfn;
}, 400_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const dims = (m: Cfn): Record<string, any> => Object.fromEntries(asArray<Cfn>(m.Dimensions).map((d) => [d.Name, d.Value]));

describe('a config file with clusters deploys the fan-out', () => {
  it('the example lists two clusters here and one in another account', () => {
    expect(config.clusters.map((c) => [c.config.cluster, c.config.region, c.roleArn])).toEqual([
      ['example-prod', 'eu-west-1', undefined],
      ['example-staging', 'eu-west-1', undefined],
      ['example-data', 'us-east-2', MEMBER_ROLE],
    ]);
    expect(fleet.condition('Fleet')).toBe(true);
  });

  it('the cluster queue is FIFO (one message group per cluster), dead-letters to a FIFO queue, outlives retries', () => {
    const q = fleet.deployed('ClusterQueue')!.Properties;
    expect(q).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, SqsManagedSseEnabled: true });
    expect(q.QueueName).toMatch(/\.fifo$/);
    expect(q.RedrivePolicy.deadLetterTargetArn).toEqual(getAtt('ClusterDlq'));
    expect(q.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(3);
    const dlq = fleet.deployed('ClusterDlq')!.Properties;
    expect(dlq).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
    expect(dlq.QueueName).toMatch(/\.fifo$/);
    const fn = fleet.deployed('ClusterLambdaFunction')!.Properties;
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout);
  });

  it('only the sync role may put a message on it (a message names the snapshot a cluster plans from), over TLS', () => {
    const [, policy] = fleet.ofType('AWS::SQS::QueuePolicy').find(([, p]) => JSON.stringify(p.Properties.Queues) === JSON.stringify([ref('ClusterQueue')]))!;
    const statements = policy.Properties.PolicyDocument.Statement as Cfn[];
    expect(statements.find((s) => s.Sid === 'OnlyTheSyncFunctionSends')).toEqual({
      Sid: 'OnlyTheSyncFunctionSends',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:SendMessage',
      Resource: getAtt('ClusterQueue'),
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': getAtt('SyncRole') } },
    });
    expect(statements.find((s) => s.Sid === 'DenyInsecureTransport')).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('the cluster function takes one message per invocation, with its own role; sync is told the queue', () => {
    const fn = fleet.deployed('ClusterLambdaFunction')!.Properties;
    expect(fn).toMatchObject({ Handler: 'handlers/cluster.handler', Role: getAtt('ClusterRole'), Runtime: 'nodejs22.x', TracingConfig: { Mode: 'Active' } });
    expect(fn.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
    const mappings = fleet
      .ofType('AWS::Lambda::EventSourceMapping')
      .map(([, m]) => m.Properties)
      .filter((p) => p.FunctionName['Fn::GetAtt'][0] === 'ClusterLambdaFunction');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ EventSourceArn: getAtt('ClusterQueue'), BatchSize: 1 });
    expect(fleet.resolve(fleet.deployed('SyncLambdaFunction')!.Properties.Environment.Variables).SYNCER_CLUSTER_QUEUE_URL).toEqual(ref('ClusterQueue'));
    // every function protects the cluster function's role too (guard self-mapping)
    for (const f of ['SyncLambdaFunction', 'RestoreLambdaFunction', 'BackupsLambdaFunction', 'ClusterLambdaFunction']) {
      expect([f, fleet.resolve(fleet.deployed(f)!.Properties.Environment.Variables).SYNCER_SELF_ARNS]).toEqual([
        f,
        { 'Fn::Join': [',', [getAtt('SyncRole'), getAtt('RestoreRole'), getAtt('ClusterRole')]] },
      ]);
    }
    expect(zipEntries).toEqual(expect.arrayContaining(['handlers/cluster.mjs', FLEET_CONFIG]));
    // a first run may come at once: the functions are created after the rights they use
    for (const f of ['SyncLambdaFunction', 'RestoreLambdaFunction', 'ClusterLambdaFunction'])
      expect([f, fleet.deployed(f)!.DependsOn]).toEqual([f, expect.arrayContaining(['ClusterAccessPolicy'])]);
    expect(fleet.resolve(fleet.deployed('SyncLambdaFunction')!.Metadata.ConditionalDependencies)).toContainEqual(ref('FanOutPolicy'));
  });

  it("a run's IAM snapshots expire (they are input for an hour, not backups)", () => {
    const rules = fleet.deployed('BackupBucket')!.Properties.LifecycleConfiguration.Rules as Cfn[];
    expect(rules.find((r) => r.Id === 'expire-iam-snapshots')).toMatchObject({
      Status: 'Enabled',
      Prefix: 'aws-auth-backups/_iam-snapshots/',
      ExpirationInDays: 2,
    });
  });

  it("the central bus takes the member accounts' IAM events (memberAccounts)", () => {
    const p = fleet.deployed('MemberAccountsEventBusPolicy')!.Properties;
    expect(p.Statement).toEqual({
      Effect: 'Allow',
      Principal: { AWS: [sub('arn:${AWS::Partition}:iam::222233334444:root')] },
      Action: 'events:PutEvents',
      Resource: sub('arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default'),
    });
  });
});

describe('each role reaches the listed clusters and no further', () => {
  const local = config.clusters
    .filter((c) => !c.roleArn)
    .map((c) => sub(`arn:\${AWS::Partition}:eks:${c.config.region}:\${AWS::AccountId}:cluster/${c.config.cluster}`));
  const entries = config.clusters
    .filter((c) => !c.roleArn)
    .map((c) => sub(`arn:\${AWS::Partition}:eks:${c.config.region}:\${AWS::AccountId}:access-entry/${c.config.cluster}/*`));
  const objects = config.clusters.map((c) => sub(`\${BackupBucket.Arn}/aws-auth-backups/${c.config.cluster}/*`));
  const SNAPSHOTS = sub('${BackupBucket.Arn}/aws-auth-backups/_iam-snapshots/*');

  it("sync, restore and the cluster function describe this account's clusters and assume the member role; backups reaches none", () => {
    for (const role of ['SyncRole', 'RestoreRole', 'ClusterRole']) {
      expect([role, fleet.resourcesFor(role, 'eks:DescribeCluster')]).toEqual([role, local]);
      expect([role, fleet.resourcesFor(role, 'sts:AssumeRole')]).toEqual([role, [MEMBER_ROLE]]);
      // every role reads the access entries of this account's listed clusters
      expect([role, fleet.resourcesFor(role, 'eks:ListAccessEntries')]).toEqual([role, local]);
      for (const a of ['eks:DescribeAccessEntry', 'eks:ListAssociatedAccessPolicies'])
        expect([role, a, fleet.resourcesFor(role, a)]).toEqual([role, a, entries]);
    }
    // writes: only on the cluster whose target is access-entries (example-staging), only by the
    // roles that write with a list (the sync function only plans)
    const staging = config.clusters.find((c) => c.config.target === 'access-entries')!;
    expect(staging.config.cluster).toBe('example-staging');
    const stagingArn = sub(`arn:\${AWS::Partition}:eks:${staging.config.region}:\${AWS::AccountId}:cluster/example-staging`);
    const stagingEntries = sub(`arn:\${AWS::Partition}:eks:${staging.config.region}:\${AWS::AccountId}:access-entry/example-staging/*`);
    for (const role of ['RestoreRole', 'ClusterRole']) {
      expect([role, fleet.resourcesFor(role, 'eks:CreateAccessEntry')]).toEqual([role, [stagingArn]]);
      for (const a of ['eks:UpdateAccessEntry', 'eks:DeleteAccessEntry', 'eks:AssociateAccessPolicy', 'eks:DisassociateAccessPolicy', 'eks:TagResource'])
        expect([role, a, fleet.resourcesFor(role, a)]).toEqual([role, a, [stagingEntries]]);
    }
    expect(fleet.actions('SyncRole').filter((a) => /^eks:(Create|Update|Delete|Associate|Disassociate|Tag)/.test(a))).toEqual([]);
    expect(fleet.actions('BackupsRole').filter((a) => a.startsWith('eks:') || a.startsWith('sts:'))).toEqual([]);
  });

  it("sync reads IAM, writes only the run's snapshot and sends the cluster messages; it writes no backup", () => {
    expect(fleet.resourcesFor('SyncRole', 'iam:GetAccountAuthorizationDetails')).toEqual(['*']);
    for (const a of ['s3:PutObject', 's3:PutObjectTagging']) expect([a, fleet.resourcesFor('SyncRole', a)]).toEqual([a, [SNAPSHOTS]]);
    expect(fleet.actions('SyncRole').filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject', 's3:PutObjectTagging']);
    expect(fleet.resourcesFor('SyncRole', 'sqs:SendMessage')).toEqual([getAtt('FailedInvocationsQueue'), getAtt('ClusterQueue')]);
  });

  it("the cluster function reads the snapshot by version, writes backups under each cluster's prefix, consumes its queue, and never reads IAM", () => {
    expect(fleet.actions('ClusterRole').filter((a) => a.startsWith('iam:'))).toEqual([]);
    for (const a of ['s3:GetObject', 's3:GetObjectVersion']) expect([a, fleet.resourcesFor('ClusterRole', a)]).toEqual([a, [SNAPSHOTS]]);
    for (const a of ['s3:PutObject', 's3:PutObjectTagging']) expect([a, fleet.resourcesFor('ClusterRole', a)]).toEqual([a, objects]);
    const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];
    expect(fleet.actions('ClusterRole').filter((a) => a.startsWith('sqs:'))).toEqual(consume);
    for (const a of consume) expect([a, fleet.resourcesFor('ClusterRole', a)]).toEqual([a, [getAtt('ClusterQueue')]]);
  });

  it("restore and backups list and read only under the listed clusters' prefixes", () => {
    for (const role of ['RestoreRole', 'BackupsRole']) {
      const list = fleet.allowed(role).filter((s) => s.Action.includes('s3:ListBucket'));
      expect(list.map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': config.clusters.map((c) => `aws-auth-backups/${c.config.cluster}/*`) } }]);
    }
    expect(fleet.resourcesFor('RestoreRole', 's3:GetObject')).toEqual(objects);
  });

  it("the cluster function signs backups and may write them; nobody else beyond the syncer's roles", () => {
    const key = fleet.resolve(fleet.deployed('BackupMacKey')!.Properties).KeyPolicy.Statement as Cfn[];
    const writers = [getAtt('SyncRole'), getAtt('RestoreRole'), getAtt('ClusterRole')];
    expect(key.find((s) => s.Sid === 'SyncAndRestoreSignBackups')!.Principal.AWS).toEqual(writers);
    expect(key.find((s) => s.Sid === 'NobodyElseSigns')!.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(writers);
    const bucket = fleet.ofType('AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === 'BackupBucket')![1];
    expect(
      (bucket.Properties.PolicyDocument.Statement as Cfn[]).find((s) => s.Sid === 'OnlyTheSyncerWritesBackups')!.Condition.ArnNotEquals['aws:PrincipalArn'],
    ).toEqual(writers);
  });
});

describe('alarms and dashboard for any number of clusters', () => {
  const alarm = (id: string): Cfn => fleet.resolve(fleet.deployed(id)!.Properties);

  it('refused automatic syncs and "no successful sync" watch the fleet-wide totals (an alarm cannot SEARCH per cluster)', () => {
    const refused = (alarm('RefusedAutomaticSyncAlarm').Metrics as Cfn[])
      .filter((m) => m.MetricStat)
      .map((m) => [m.MetricStat.Metric.MetricName, dims(m.MetricStat.Metric)]);
    expect(refused).toEqual([
      [SYNC_OUTCOME_METRICS.refused, { service: METRICS_SERVICE, trigger: 'iam' }],
      [SYNC_OUTCOME_METRICS.refused, { service: METRICS_SERVICE, trigger: 'schedule' }],
    ]);
    const none = alarm('NoSuccessfulSyncAlarm');
    expect([none.Namespace, none.MetricName, dims(none)]).toEqual([METRICS_NAMESPACE, METRIC.syncSucceeded, { service: METRICS_SERVICE }]);
  });

  it("a cluster that fails on its own: the cluster function's errors and the cluster dead-letter queue raise alarms to the topic", () => {
    const errors = alarm('ClusterErrorsAlarm');
    expect([errors.Namespace, errors.MetricName, dims(errors)]).toEqual(['AWS/Lambda', 'Errors', { FunctionName: ref('ClusterLambdaFunction') }]);
    const dlq = alarm('ClusterDlqDepthAlarm');
    expect([dlq.Namespace, dlq.MetricName, dims(dlq), dlq.Threshold, dlq.ComparisonOperator]).toEqual([
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { QueueName: getAtt('ClusterDlq', 'QueueName') },
      0,
      'GreaterThanThreshold',
    ]);
    for (const a of [errors, dlq]) expect([a.AlarmActions, a.OKActions]).toEqual([[ref('AlarmTopic')], [ref('AlarmTopic')]]);
    const invalid = alarm('ConfigInvalidAlarm').Metrics as Cfn[];
    expect(invalid.filter((m) => m.MetricStat).map((m) => dims(m.MetricStat.Metric).function_name)).toContainEqual(ref('ClusterLambdaFunction'));
    expect(invalid.find((m) => m.ReturnData !== false)!.Expression).toBe('FILL(sync, 0) + FILL(restore, 0) + FILL(backups, 0) + FILL(cluster, 0)');
  });

  it('every deployed function has an Errors alarm; every dead-letter queue a depth alarm', () => {
    const alarms = fleet.ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const [f] of fleet.ofType('AWS::Lambda::Function'))
      expect([f, alarms.filter((a) => a.MetricName === 'Errors' && dims(a).FunctionName?.Ref === f).length]).toEqual([f, 1]);
    for (const q of ['EventsDlq', 'FailedInvocationsQueue', 'ClusterDlq']) {
      expect([
        q,
        alarms.filter((a) => a.Namespace === 'AWS/SQS' && JSON.stringify(dims(a)) === JSON.stringify({ QueueName: getAtt(q, 'QueueName') })).length,
      ]).toEqual([q, 1]);
    }
  });

  it('the fleet dashboard replaces the one-cluster one: every alarm, a line per cluster (SEARCH), the fan-out', () => {
    expect(fleet.deployed('Dashboard')).toBeUndefined();
    const [text, vars] = fleet.deployed('FleetDashboard')!.Properties.DashboardBody['Fn::Sub'] as [string, Record<string, string>];
    const body = JSON.parse(text.replace(/\$\{([^}]+)\}/g, (_, name: string) => vars[name] ?? `<${name}>`)) as Cfn;
    const shown = (body.widgets as Cfn[]).find((w) => w.type === 'alarm')!.properties.alarms as string[];
    expect(shown.sort()).toEqual(
      fleet
        .ofType('AWS::CloudWatch::Alarm')
        .map(([id]) => `<${id}.Arn>`)
        .sort(),
    );
    const all = JSON.stringify(body);
    for (const name of [
      FLEET_METRIC.clustersQueued,
      FLEET_METRIC.clusterQueueFailed,
      'SyncRefused',
      'SyncError',
      'Refusals',
      'IdentitiesAdded',
      'WriteDuration',
    ])
      expect([name, all.includes(name)]).toEqual([name, true]);
    expect(all).toContain("SEARCH('{AwsAuthSyncer,cluster,service}");
  });
});

describe('the member stack (deploy/member-account.yaml)', () => {
  const resources = () => member.Resources as Cfn;

  it("its role trusts only the central roles, only for the syncer's sessions, and may only describe the listed clusters", () => {
    const role = resources().AccessRole.Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'TheCentralSyncerOnly',
        Effect: 'Allow',
        Principal: { AWS: ref('SyncerRoleArns') },
        Action: 'sts:AssumeRole',
        Condition: { StringLike: { 'sts:RoleSessionName': 'aws-auth-syncer-*' } },
      },
    ]);
    const statements = (role.Policies as Cfn[]).flatMap((p) => p.PolicyDocument.Statement as Cfn[]);
    expect(statements[0]).toEqual({ Sid: 'DescribeTheClusters', Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: ref('ClusterArns') });
    // Access entries only with AccessEntryArns (clusters on target access-entries): the same calls as the central stack's own clusters get.
    expect(member.Conditions.ManageEntries).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', ref('AccessEntryArns')] }, ''] }] });
    expect(member.Parameters.AccessEntryArns.Default).toBe('');
    expect(statements.slice(1).map((st) => [st['Fn::If'][0], st['Fn::If'][1].Resource, st['Fn::If'][2]])).toEqual([
      ['ManageEntries', ref('ClusterArns'), ref('AWS::NoValue')],
      ['ManageEntries', ref('AccessEntryArns'), ref('AWS::NoValue')],
    ]);
    expect(
      statements
        .slice(1)
        .flatMap((st) => st['Fn::If'][1].Action)
        .sort(),
    ).toEqual(
      [
        'eks:ListAccessEntries',
        'eks:CreateAccessEntry',
        'eks:DescribeAccessEntry',
        'eks:ListAssociatedAccessPolicies',
        'eks:UpdateAccessEntry',
        'eks:DeleteAccessEntry',
        'eks:AssociateAccessPolicy',
        'eks:DisassociateAccessPolicy',
        'eks:TagResource',
      ].sort(),
    );
    expect(statements).toHaveLength(3);
    expect(member.Outputs.AccessRoleArn.Value).toEqual(getAtt('AccessRole'));
  });

  it('forwards the same IAM events as the central rule to the central bus in us-east-1, only when asked, through a role that may put there only', () => {
    const rule = resources().IamEventsToCentralBus;
    expect(rule.Condition).toBe('Forward');
    expect(member.Parameters.ForwardIamEvents.Default).toBe('false');
    const pattern = rule.Properties.EventPattern as Cfn;
    expect(pattern.source).toEqual(['aws.iam']);
    expect([...pattern.detail.eventName].sort()).toEqual([...IAM_EVENT_NAMES].sort());
    expect(pattern.detail.errorCode).toEqual([{ exists: false }]);
    const bus = sub('arn:${AWS::Partition}:events:us-east-1:${CentralAccountId}:event-bus/default');
    expect(rule.Properties.Targets).toEqual([{ Id: 'central-event-bus', Arn: bus, RoleArn: getAtt('ForwarderRole') }]);
    const forwarder = resources().ForwarderRole;
    expect(forwarder.Condition).toBe('Forward');
    expect(forwarder.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
    });
    expect(forwarder.Properties.Policies[0].PolicyDocument.Statement).toEqual([
      { Sid: 'PutOnTheCentralBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: bus },
    ]);
  });
});

describe('parliament lints every policy document of the fleet stack and the member stack', () => {
  let parliament: string;
  beforeAll(() => {
    parliament = parliamentPath();
  }, 300_000);
  const PSEUDO: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': '111122223333',
    'AWS::Region': 'us-east-1',
    CentralAccountId: '111122223333',
  };
  const FAKE: Record<string, string> = {
    SyncRole: 'arn:aws:iam::111122223333:role/sync',
    RestoreRole: 'arn:aws:iam::111122223333:role/restore',
    BackupsRole: 'arn:aws:iam::111122223333:role/backups',
    ClusterRole: 'arn:aws:iam::111122223333:role/cluster',
    ForwarderRole: 'arn:aws:iam::222233334444:role/forwarder',
    BackupBucket: 'arn:aws:s3:::aws-auth-syncer-backups',
    AlarmTopic: 'arn:aws:sns:us-east-1:111122223333:aws-auth-syncer-dev-AlarmTopic',
  };
  // Queues by logical id (FailedInvocationsQueue, ClusterQueue, …).
  const fake = (id: string) => FAKE[id] ?? `arn:aws:sqs:us-east-1:111122223333:${id}`;
  /** CloudFormation intrinsics → plausible literal ARNs, so the linter sees a real policy. */
  const literal = (x: any): any => {
    if (Array.isArray(x)) return x.map(literal);
    if (x && typeof x === 'object') {
      if (x['Fn::GetAtt']) return fake(x['Fn::GetAtt'][0]);
      // A conditional statement: lint what it grants when the condition holds.
      if (x['Fn::If']) return literal(x['Fn::If'][1]);
      if (x['Fn::Sub'] !== undefined) return String(x['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_m, k: string) => PSEUDO[k] ?? fake(k.split('.')[0]!));
      if (x.Ref === 'SyncerRoleArns') return [FAKE.SyncRole, FAKE.RestoreRole, FAKE.ClusterRole];
      if (x.Ref === 'ClusterArns') return ['arn:aws:eks:us-east-2:222233334444:cluster/data'];
      if (x.Ref === 'AccessEntryArns') return ['arn:aws:eks:us-east-2:222233334444:access-entry/data/*'];
      if (x.Ref) return PSEUDO[x.Ref] ?? fake(x.Ref);
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, literal(v)]));
    }
    return x;
  };
  /** Accepted findings, per document and issue, with the reason. */
  const EXPLAINED: { doc: RegExp; issue: string; why: string }[] = [
    // A cluster in another account is reached through its member stack's role: assuming it is
    // the point (the role may only describe that account's clusters; its trust names the
    // central roles and the syncer's session names).
    { doc: /^ClusterAccessPolicy$/, issue: 'CREDENTIALS_EXPOSURE', why: 'sts:AssumeRole of the member roles named in the config' },
  ];

  it('every finding is explained, every explanation still applies', () => {
    const docs: [string, Cfn][] = [];
    for (const [id, r] of fleet.ofType('AWS::IAM::Role'))
      for (const p of asArray<Cfn>(r.Properties.Policies)) docs.push([`${id}/${p.PolicyName}`, p.PolicyDocument]);
    for (const [id, p] of fleet.ofType('AWS::IAM::Policy')) docs.push([id, p.Properties.PolicyDocument]);
    for (const [id, r] of Object.entries(member.Resources as Cfn)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      for (const p of asArray<Cfn>(r.Properties.Policies)) docs.push([`member ${id}/${p.PolicyName}`, p.PolicyDocument]);
    }
    expect(docs.map(([n]) => n)).toEqual(
      expect.arrayContaining([
        'ClusterRole/cluster',
        'ClusterAccessPolicy',
        'FanOutPolicy',
        'member AccessRole/describe-the-clusters',
        'member ForwarderRole/put-on-the-central-bus',
      ]),
    );
    const findings = docs.flatMap(([name, doc]) => lintPolicy(parliament, literal(doc)).map((f) => ({ name, issue: f.issue, detail: f.detail })));
    expect(findings.filter((f) => !EXPLAINED.some((e) => e.doc.test(f.name) && e.issue === f.issue))).toEqual([]);
    expect(EXPLAINED.filter((e) => !findings.some((f) => e.doc.test(f.name) && e.issue === f.issue))).toEqual([]);
  }, 120_000);
});

describe('deploy/clusters.cjs refuses at package time what it cannot scope', () => {
  const { clustersOf, MAX_CLUSTERS } = createRequire(import.meta.url)('../../deploy/clusters.cjs') as {
    clustersOf: (doc: unknown, file: string, region: string) => unknown;
    MAX_CLUSTERS: number;
  };
  it.each([
    [{ cluster: 'a', clusters: [{ cluster: 'b' }] }, 'config file c.yaml: name either cluster (one cluster) or clusters (a list), not both or neither'],
    [{ clusters: [{ cluster: 'a' }, { cluster: 'a' }] }, 'config file c.yaml: clusters[1].cluster a is listed twice'],
    [{ clusters: [{ cluster: 'a', roleArn: 'nope' }] }, 'config file c.yaml: clusters[0].roleArn must be an IAM role ARN'],
    [{ clusters: Array.from({ length: 26 }, (_, i) => ({ cluster: `c${i}` })) }, /lists 26 clusters; one stack serves at most 25/],
    // the cluster without a region is in the stack's (us-east-1)
    [
      { clusters: [{ cluster: 'a' }, { cluster: 'b', region: 'cn-north-1' }] },
      'config file c.yaml: its clusters are in more than one partition (aws, aws-cn): one deployment reads the IAM of one partition',
    ],
    [{ clusters: [{ cluster: 'a', target: 'configmap' }] }, 'config file c.yaml: clusters[0].target must be one of aws-auth, access-entries'],
  ])('%j', (doc, message) => {
    expect(MAX_CLUSTERS).toBe(25);
    expect(() => clustersOf(doc, 'c.yaml', 'us-east-1')).toThrow(message);
  });
});
