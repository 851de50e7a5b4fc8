/**
 * The operations part of the deployment (issue 12), as CloudFormation: the alarm topic and its
 * alarms, the change notices, the dashboard, X-Ray, the config parameter and the VPC option.
 * `serverless package` runs offline twice — default params, and every option on — and the
 * conditions of each template are evaluated, so a check says what is really deployed. Metric
 * names and dimensions are compared with the ones the code publishes (lib/app/observe.ts).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METRIC, SYNC_OUTCOME_METRICS } from '../../lib/app/observe.js';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lib/adapters/metrics.js';

type Cfn = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLUSTER = 'example-cluster'; // aws-auth-syncer.config.example.yaml
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ALL_OPTIONS = {
  alarmEmail: 'ops@example.com',
  notifyChanges: 'true',
  configParameter: '/eks/aws-auth-syncer/dev',
  configParameterKmsKeyArn: KEY_ARN,
  vpcSubnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  vpcSecurityGroupIds: 'sg-0123456789abcdef0',
  schedule: 'rate(30 minutes)',
};
const FUNCTIONS = ['SyncLambdaFunction', 'RestoreLambdaFunction', 'BackupsLambdaFunction'];
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Environment without any AWS credential, profile or region: packaging must not need them. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true' };
}

/**
 * A private copy of the checkout to package in: serverless-esbuild works in <service>/.esbuild,
 * which test/unit/serverless.test.ts (another Jest worker) uses at the same time in the repo.
 */
function privateCheckout(dir: string): string {
  const copy = join(dir, 'checkout');
  mkdirSync(copy, { recursive: true });
  for (const f of ['serverless.yml', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'aws-auth-syncer.config.example.yaml'])
    cpSync(join(ROOT, f), join(copy, f));
  for (const d of ['lib', 'handlers', 'deploy']) cpSync(join(ROOT, d), join(copy, d), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

let checkout: string;

function pack(dir: string, params: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const args = ['--no', 'serverless', 'package', '--package', dir, ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
  return new Promise((resolve) => {
    execFile('npx', args, { cwd: checkout, env: offlineEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}\n${stderr}` }),
    );
  });
}

/** A packaged template with its constant conditions evaluated. */
class Template {
  readonly resources: Cfn;
  constructor(readonly t: Cfn) {
    this.resources = t.Resources as Cfn;
  }

  static async package(dir: string, params: Record<string, string> = {}): Promise<Template> {
    const r = await pack(dir, params);
    if (!r.ok) throw new Error(`serverless package failed:\n${r.output}`);
    return new Template(JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Cfn);
  }

  condition(name: string): boolean {
    const ev = (x: any): any => {
      if (typeof x !== 'object' || x === null) return x;
      if ('Fn::Equals' in x) return ev(x['Fn::Equals'][0]) === ev(x['Fn::Equals'][1]);
      if ('Fn::Not' in x) return !ev(x['Fn::Not'][0]);
      if ('Fn::And' in x) return x['Fn::And'].every(ev);
      if ('Fn::Or' in x) return x['Fn::Or'].some(ev);
      if ('Condition' in x) return this.condition(x.Condition);
      throw new Error(`cannot evaluate ${JSON.stringify(x)}`);
    };
    const c = this.t.Conditions?.[name];
    if (c === undefined) throw new Error(`no condition ${name}`);
    return ev(c) as boolean;
  }

  /** The resource if it is deployed with these params (no condition, or its condition is true). */
  deployed(id: string): Cfn | undefined {
    const r = this.resources[id] as Cfn | undefined;
    if (!r) return undefined;
    return r.Condition === undefined || this.condition(r.Condition) ? r : undefined;
  }

  /** Resolve Fn::If on this template's conditions (AWS::NoValue becomes undefined). */
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
      .filter((e): e is [string, Cfn] => e[1]?.Type === type);
  }

  alarms(): [string, Cfn][] {
    return this.ofType('AWS::CloudWatch::Alarm').map(([id, r]) => [id, this.resolve(r.Properties) as Cfn]);
  }

  /** Allowed IAM statements per role, from inline role policies and deployed AWS::IAM::Policy resources. */
  allowed(role: string): { Action: string[]; Resource: unknown[]; Condition?: Cfn; policy: string }[] {
    const out: { Action: string[]; Resource: unknown[]; Condition?: Cfn; policy: string }[] = [];
    const add = (policy: string, doc: Cfn) => {
      for (const s of asArray<Cfn>(this.resolve(doc).Statement))
        if (s.Effect === 'Allow') out.push({ Action: asArray(s.Action), Resource: asArray(s.Resource), Condition: s.Condition, policy });
    };
    const r = this.deployed(role);
    for (const p of asArray<Cfn>(r?.Properties.Policies)) add(`${role}/${p.PolicyName}`, p.PolicyDocument);
    for (const [id, p] of this.ofType('AWS::IAM::Policy'))
      if (asArray<Cfn>(p.Properties.Roles).some((x) => x.Ref === role)) add(id, p.Properties.PolicyDocument);
    return out;
  }
}

let dir: string;
let base: Template;
let all: Template;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aws-auth-syncer-ops-'));
  checkout = privateCheckout(dir);
  // One after the other: both use the copy's .esbuild directory.
  base = await Template.package(join(dir, 'default'));
  all = await Template.package(join(dir, 'all'), ALL_OPTIONS);
}, 400_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The dimensions of an alarm's metric as a plain object. */
const dims = (m: Cfn): Record<string, unknown> => Object.fromEntries(asArray<Cfn>(m.Dimensions).map((d) => [d.Name, d.Value]));

describe('alarm topic', () => {
  it("exists; only this stack's alarms may publish to it (service principal, source ARN), over TLS only", () => {
    expect(base.deployed('AlarmTopic')?.Type).toBe('AWS::SNS::Topic');
    const policy = base.ofType('AWS::SNS::TopicPolicy').find(([, p]) => JSON.stringify(p.Properties.Topics) === JSON.stringify([ref('AlarmTopic')]))![1];
    const statements = policy.Properties.PolicyDocument.Statement as Cfn[];
    const allow = statements.filter((s) => s.Effect === 'Allow');
    expect(allow).toEqual([
      {
        Sid: 'ThisStacksAlarms',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: ref('AlarmTopic'),
        Condition: {
          ArnLike: { 'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${AWS::StackName}-*' } },
        },
      },
    ]);
    expect(statements.find((s) => s.Effect === 'Deny')).toMatchObject({ Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  it('subscribes the alarmEmail address only when given', () => {
    expect(base.ofType('AWS::SNS::Subscription')).toEqual([]);
    const subs = all.ofType('AWS::SNS::Subscription');
    expect(subs.map(([, s]) => s.Properties)).toEqual([{ TopicArn: ref('AlarmTopic'), Protocol: 'email', Endpoint: 'ops@example.com' }]);
  });

  it('every alarm notifies the topic when it fires and when it recovers', () => {
    const alarms = base.alarms();
    expect(alarms.length).toBe(8);
    for (const [id, a] of alarms) expect([id, a.AlarmActions, a.OKActions]).toEqual([id, [ref('AlarmTopic')], [ref('AlarmTopic')]]);
  });
});

describe('alarms', () => {
  const alarm = (t: Template, id: string): Cfn => {
    const found = t.alarms().find(([i]) => i === id);
    expect(found).toBeDefined();
    return found![1];
  };

  it('a refused automatic sync: SyncRefused of the iam and schedule triggers, not manual runs', () => {
    const a = alarm(base, 'RefusedAutomaticSyncAlarm');
    const stats = (a.Metrics as Cfn[]).filter((m) => m.MetricStat);
    expect(stats.map((m) => [m.MetricStat.Metric.Namespace, m.MetricStat.Metric.MetricName, dims(m.MetricStat.Metric), m.MetricStat.Stat])).toEqual([
      [METRICS_NAMESPACE, SYNC_OUTCOME_METRICS.refused, { service: METRICS_SERVICE, cluster: CLUSTER, trigger: 'iam' }, 'Sum'],
      [METRICS_NAMESPACE, SYNC_OUTCOME_METRICS.refused, { service: METRICS_SERVICE, cluster: CLUSTER, trigger: 'schedule' }, 'Sum'],
    ]);
    const expression = (a.Metrics as Cfn[]).filter((m) => m.ReturnData !== false);
    expect(expression).toEqual([{ Id: 'automatic', Label: 'automatic syncs refused', Expression: 'FILL(iam, 0) + FILL(schedule, 0)', ReturnData: true }]);
    expect(a).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
  });

  it('no successful sync within two schedule periods: missing data is breaching; the period follows the schedule param', () => {
    for (const [t, period] of [
      [base, 6 * 3600],
      [all, 30 * 60],
    ] as const) {
      const a = alarm(t, 'NoSuccessfulSyncAlarm');
      expect(a).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.syncSucceeded,
        Statistic: 'Sum',
        Period: period,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      expect(dims(a)).toEqual({ service: METRICS_SERVICE, cluster: CLUSTER });
    }
  });

  it('an invalid configuration in any function', () => {
    const a = alarm(base, 'ConfigInvalidAlarm');
    const stats = (a.Metrics as Cfn[]).filter((m) => m.MetricStat);
    expect(stats.map((m) => [m.MetricStat.Metric.MetricName, dims(m.MetricStat.Metric)])).toEqual(
      FUNCTIONS.map((f) => [METRIC.configInvalid, { service: METRICS_SERVICE, function_name: ref(f) }]),
    );
    expect((a.Metrics as Cfn[]).find((m) => m.ReturnData !== false)?.Expression).toBe('FILL(sync, 0) + FILL(restore, 0) + FILL(backups, 0)');
  });

  it('every dead-letter queue in the template has a depth alarm (> 0)', () => {
    // Dead-letter targets: SQS redrive policies, EventBridge target DLQs, Lambda on-failure destinations.
    const targets = new Set<string>();
    for (const [, q] of base.ofType('AWS::SQS::Queue'))
      if (q.Properties.RedrivePolicy) targets.add(q.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]);
    for (const [, r] of base.ofType('AWS::Events::Rule'))
      for (const tg of asArray<Cfn>(r.Properties.Targets)) if (tg.DeadLetterConfig) targets.add(tg.DeadLetterConfig.Arn['Fn::GetAtt'][0]);
    for (const [, c] of base.ofType('AWS::Lambda::EventInvokeConfig')) targets.add(c.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0]);
    expect([...targets].sort()).toEqual(['EventsDlq', 'FailedInvocationsQueue']);
    for (const queue of targets) {
      const depth = base
        .alarms()
        .filter(([, a]) => a.Namespace === 'AWS/SQS' && JSON.stringify(dims(a)) === JSON.stringify({ QueueName: getAtt(queue, 'QueueName') }));
      expect([queue, depth.length]).toEqual([queue, 1]);
      expect(depth[0]![1]).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('every function has an Errors alarm', () => {
    const functions = base
      .ofType('AWS::Lambda::Function')
      .map(([id]) => id)
      .sort();
    expect(functions).toEqual([...FUNCTIONS].sort());
    for (const f of functions) {
      const errors = base
        .alarms()
        .filter(([, a]) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors' && JSON.stringify(dims(a)) === JSON.stringify({ FunctionName: ref(f) }));
      expect([f, errors.length]).toEqual([f, 1]);
      expect(errors[0]![1]).toMatchObject({
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('names only metrics the code publishes, in its namespace, with its service dimension', () => {
    const published = new Set<string>([...Object.values(SYNC_OUTCOME_METRICS), ...Object.values(METRIC)]);
    for (const [id, a] of base.alarms()) {
      const metrics = a.Metrics ? (a.Metrics as Cfn[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric) : [a];
      for (const m of metrics.filter((x) => x.Namespace === METRICS_NAMESPACE)) {
        expect([id, published.has(m.MetricName)]).toEqual([id, true]);
        expect([id, dims(m).service]).toEqual([id, METRICS_SERVICE]);
      }
    }
  });
});

describe('dashboard', () => {
  /** The body with Fn::Sub's variables filled in the way CloudFormation would (names stand in for values). */
  const body = (): Cfn => {
    const [text, vars] = base.deployed('Dashboard')!.Properties.DashboardBody['Fn::Sub'] as [string, Record<string, string>];
    return JSON.parse(text.replace(/\$\{([^}]+)\}/g, (_, name: string) => vars[name] ?? `<${name}>`)) as Cfn;
  };

  it('is valid JSON showing every alarm, the sync outcomes, refusals by guard, changes, drift, durations and the DLQs', () => {
    const widgets = body().widgets as Cfn[];
    const alarms = widgets.find((w) => w.type === 'alarm')!.properties.alarms as string[];
    expect(alarms.sort()).toEqual(
      base
        .alarms()
        .map(([id]) => `<${id}.Arn>`)
        .sort(),
    );
    const text = JSON.stringify(widgets);
    for (const name of [
      ...Object.values(SYNC_OUTCOME_METRICS),
      'Refusals',
      'EntriesAdded',
      'IdentitiesAdded',
      'DriftFound',
      'DiscoveryDuration',
      'PlanDuration',
      'WriteDuration',
    ]) {
      expect([name, text.includes(`"${name}`)]).toEqual([name, true]);
    }
    expect(text).toContain('<EventsDlq.QueueName>');
    expect(text).toContain('<FailedInvocationsQueue.QueueName>');
    expect(text).toContain(`"cluster","${CLUSTER}"`);
  });
});

describe('X-Ray tracing', () => {
  it('is active on every function, whose roles may send traces (the only form X-Ray allows: Resource "*")', () => {
    for (const f of FUNCTIONS) expect([f, base.deployed(f)!.Properties.TracingConfig]).toEqual([f, { Mode: 'Active' }]);
    for (const role of ['SyncRole', 'RestoreRole', 'BackupsRole']) {
      const xray = base.allowed(role).filter((s) => s.Action.some((a) => a.startsWith('xray:')));
      expect(xray).toEqual([{ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'], Condition: undefined, policy: 'TracingPolicy' }]);
    }
  });
});

describe('change notices (notifyChanges)', () => {
  const topicEnv = (t: Template, f: string) => t.resolve(t.deployed(f)!.Properties.Environment.Variables).SYNCER_CHANGE_TOPIC_ARN;

  it('off by default: no topic for the function, no publish permission', () => {
    expect(topicEnv(base, 'SyncLambdaFunction')).toBe('');
    expect(base.allowed('SyncRole').flatMap((s) => s.Action)).not.toContain('sns:Publish');
  });

  it('on: the sync and restore functions (a restore is an applied change too) get the topic and may publish to it, nowhere else', () => {
    for (const [f, role] of [
      ['SyncLambdaFunction', 'SyncRole'],
      ['RestoreLambdaFunction', 'RestoreRole'],
    ]) {
      expect(topicEnv(all, f!)).toEqual(ref('AlarmTopic'));
      expect(all.allowed(role!).filter((s) => s.Action.includes('sns:Publish'))).toEqual([
        { Action: ['sns:Publish'], Resource: [ref('AlarmTopic')], Condition: undefined, policy: 'ChangeNoticePublishPolicy' },
      ]);
      // the function is created after its permission
      expect(all.resolve(all.deployed(f!)!.Metadata.ConditionalDependencies)).toContainEqual(ref('ChangeNoticePublishPolicy'));
    }
    expect(all.allowed('BackupsRole').flatMap((s) => s.Action)).not.toContain('sns:Publish');
    expect(topicEnv(all, 'BackupsLambdaFunction')).toBeUndefined();
    expect(topicEnv(base, 'RestoreLambdaFunction')).toBe('');
  });
});

describe('config parameter (configParameter)', () => {
  it('off by default: empty SYNCER_CONFIG_PARAMETER (the bundled file is used), no SSM permission', () => {
    for (const f of FUNCTIONS) expect(base.deployed(f)!.Properties.Environment.Variables.SYNCER_CONFIG_PARAMETER).toBe('');
    for (const role of ['SyncRole', 'RestoreRole', 'BackupsRole'])
      expect(
        base
          .allowed(role)
          .flatMap((s) => s.Action)
          .filter((a) => a.startsWith('ssm:') || a.startsWith('kms:')),
      ).toEqual([]);
  });

  it('on: every function reads exactly that parameter; kms:Decrypt only for its key and only through SSM', () => {
    const arn = { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/eks/aws-auth-syncer/dev' };
    for (const f of FUNCTIONS) expect(all.deployed(f)!.Properties.Environment.Variables.SYNCER_CONFIG_PARAMETER).toBe('/eks/aws-auth-syncer/dev');
    for (const role of ['SyncRole', 'RestoreRole', 'BackupsRole']) {
      const statements = all.allowed(role).filter((s) => s.Action.some((a) => a.startsWith('ssm:') || a.startsWith('kms:')));
      expect(statements).toEqual([
        { Action: ['ssm:GetParameter'], Resource: [arn], Condition: undefined, policy: 'ConfigParameterReadPolicy' },
        {
          Action: ['kms:Decrypt'],
          Resource: [KEY_ARN],
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } },
          policy: 'ConfigParameterKeyPolicy',
        },
      ]);
    }
  });
});

describe('private clusters (vpcSubnetIds, vpcSecurityGroupIds)', () => {
  it('off by default: no VpcConfig, no network-interface permissions', () => {
    for (const f of FUNCTIONS) expect(base.resolve(base.deployed(f)!.Properties).VpcConfig).toBeUndefined();
    expect(base.deployed('LambdaVpcAccessPolicy')).toBeUndefined();
  });

  it('on: sync and restore run in the given subnets and security groups with the ENI permissions; backups stays out', () => {
    const vpc = { SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'], SecurityGroupIds: ['sg-0123456789abcdef0'] };
    for (const f of ['SyncLambdaFunction', 'RestoreLambdaFunction']) {
      expect([f, all.resolve(all.deployed(f)!.Properties).VpcConfig]).toEqual([f, vpc]);
      expect(all.resolve(all.deployed(f)!.Metadata.ConditionalDependencies)).toContainEqual(ref('LambdaVpcAccessPolicy'));
    }
    expect(all.resolve(all.deployed('BackupsLambdaFunction')!.Properties).VpcConfig).toBeUndefined();
    const eni = [
      'ec2:AssignPrivateIpAddresses',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:UnassignPrivateIpAddresses',
    ];
    for (const role of ['SyncRole', 'RestoreRole']) {
      const ec2 = all.allowed(role).filter((s) => s.Action.some((a) => a.startsWith('ec2:')));
      expect(ec2.map((s) => [[...s.Action].sort(), s.Resource, s.policy])).toEqual([[eni, ['*'], 'LambdaVpcAccessPolicy']]);
    }
    expect(
      all
        .allowed('BackupsRole')
        .flatMap((s) => s.Action)
        .filter((a) => a.startsWith('ec2:')),
    ).toEqual([]);
  });

  it('with every option on, Resource "*" is still only where IAM allows nothing else', () => {
    for (const role of ['SyncRole', 'RestoreRole', 'BackupsRole']) {
      for (const s of all.allowed(role).filter((x) => x.Resource.includes('*'))) {
        expect([role, s.policy, s.Action.every((a) => a === 'iam:GetAccountAuthorizationDetails' || a.startsWith('xray:Put') || a.startsWith('ec2:'))]).toEqual(
          [role, s.policy, true],
        );
      }
    }
  });
});

describe('params checked at package time (deploy/params.cjs)', () => {
  const params = createRequire(import.meta.url)('../../deploy/params.cjs') as {
    schedulePeriodSeconds(s: string): number;
    vpcConfig(s: string, g: string): unknown;
    configParameterArn(n: string): unknown;
    configParameterKmsKeyArn(a: string): unknown;
  };

  it.each([
    ['rate(1 minute)', 60],
    ['rate(6 hours)', 21600],
    ['rate(3 days)', 259200],
  ])('schedule %s has a period of %i s', (s, seconds) => {
    expect(params.schedulePeriodSeconds(s)).toBe(seconds);
  });

  it.each([
    ['cron(0 */6 * * ? *)', /use rate\(N minutes\|hours\|days\)/],
    ['rate(4 days)', /between 1 minute and 3\.5 days/],
  ])('schedule %s is refused: %s', (s, message) => {
    expect(() => params.schedulePeriodSeconds(s)).toThrow(message);
  });

  it('VPC: both lists or neither; ids are checked', () => {
    expect(params.vpcConfig('', '')).toEqual({ Ref: 'AWS::NoValue' });
    expect(params.vpcConfig(' subnet-0123456789abcdef0 , subnet-89abcdef ', 'sg-0123456789abcdef0')).toEqual({
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-89abcdef'],
      SecurityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(() => params.vpcConfig('subnet-0123456789abcdef0', '')).toThrow(
      'params vpcSubnetIds and vpcSecurityGroupIds: give both (comma-separated ids) or neither',
    );
    expect(() => params.vpcConfig('vpc-0123456789abcdef0', 'sg-0123456789abcdef0')).toThrow(
      'param vpcSubnetIds: "vpc-0123456789abcdef0" is not a subnet id (subnet-…)',
    );
  });

  it('config parameter names and ARNs become the ARN that ssm:GetParameter is scoped to', () => {
    expect(params.configParameterArn('aas.prod')).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/aas.prod' });
    expect(params.configParameterArn('arn:aws:ssm:eu-west-1:111122223333:parameter/a/b')).toBe('arn:aws:ssm:eu-west-1:111122223333:parameter/a/b');
    expect(() => params.configParameterArn('a//b')).toThrow(/not an SSM parameter name/);
    expect(() => params.configParameterArn('/aws-auth-syncer/prod')).toThrow(/SSM reserves names starting with "aws" or "ssm"/);
    expect(() => params.configParameterKmsKeyArn('alias/aws/ssm')).toThrow(/must be a KMS key ARN/);
  });

  it('a half VPC fails `serverless package` with that message', async () => {
    const r = await pack(join(dir, 'half-vpc'), { vpcSubnetIds: 'subnet-0123456789abcdef0' });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('params vpcSubnetIds and vpcSecurityGroupIds: give both (comma-separated ids) or neither');
  }, 120_000);
});
