/**
 * The deployment, as CloudFormation: runs `serverless package` offline (no AWS credentials, no
 * params — the defaults must be enough) and checks the generated template and the function
 * zips. Each check names the property it protects, so a regression says what went missing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { parseConfigText } from '../../lib/config.js';
import { IAM_EVENT_NAMES } from '../../lib/app/events.js';

type Cfn = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE_CONFIG = 'aws-auth-syncer.config.example.yaml';
const MAX_ZIP_BYTES = 5 * 1024 * 1024;
const FUNCTIONS = ['sync', 'restore', 'backups'] as const;
/** The rule must deliver exactly the events the sync handler acts on. */
const EXPECTED_EVENT_NAMES: string[] = [...IAM_EVENT_NAMES];

let outDir: string;
let template: Cfn;
let resources: Cfn;
let state: Cfn;

/** Environment without any AWS credential, profile or region: packaging must not need them. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true' };
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'aws-auth-syncer-package-'));
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npx',
      ['--no', 'serverless', 'package', '--package', outDir],
      { cwd: ROOT, env: offlineEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`serverless package failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve()),
    );
  });
  template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Cfn;
  resources = template.Resources as Cfn;
  state = JSON.parse(readFileSync(join(outDir, 'serverless-state.json'), 'utf8')) as Cfn;
}, 300_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

// ----------------------------------------------------------------------------- helpers

/** Evaluates a condition of the packaged template (its params are constants by then). */
const holds = (expr: any): boolean => {
  if (expr['Fn::Equals']) return expr['Fn::Equals'][0] === expr['Fn::Equals'][1];
  if (expr['Fn::Not']) return !holds(expr['Fn::Not'][0]);
  if (expr['Fn::And']) return (expr['Fn::And'] as any[]).every(holds);
  if (expr.Condition) return holds(template.Conditions[expr.Condition]);
  throw new Error(`unexpected condition ${JSON.stringify(expr)}`);
};
/** Resources of a type that these params deploy (no condition, or one that holds: not the cluster queue and function of a list of clusters). */
const ofType = (type: string): [string, Cfn][] =>
  Object.entries(resources).filter(
    ([, r]) => (r as Cfn).Type === type && ((r as Cfn).Condition === undefined || holds(template.Conditions[(r as Cfn).Condition])),
  ) as [string, Cfn][];
const one = (type: string, pred: (r: Cfn) => boolean = () => true): Cfn => {
  const found = ofType(type).filter(([, r]) => pred(r));
  expect(found).toHaveLength(1);
  return found[0]![1];
};
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const getAtt = (logicalId: string, attr = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attr] });
const fn = (name: (typeof FUNCTIONS)[number]): Cfn => {
  const logicalId = `${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`;
  const r = resources[logicalId] as Cfn | undefined;
  expect(r?.Type).toBe('AWS::Lambda::Function');
  return r!.Properties as Cfn;
};

interface Statement {
  role: string;
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Cfn;
}

/** Every statement of every inline or managed IAM policy in the template. */
function iamStatements(): Statement[] {
  const out: Statement[] = [];
  const add = (role: string, doc: Cfn | undefined) => {
    for (const s of asArray<Cfn>(doc?.Statement))
      out.push({ role, Effect: s.Effect, Action: asArray(s.Action), Resource: asArray(s.Resource), Condition: s.Condition });
  };
  for (const [id, r] of ofType('AWS::IAM::Role')) for (const p of asArray<Cfn>(r.Properties.Policies)) add(id, p.PolicyDocument);
  for (const [id, r] of [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')]) {
    // Policies behind a param (VPC, config parameter, change notices) are checked with their
    // conditions evaluated, for both param sets, in test/unit/serverless-ops.test.ts.
    if (r.Condition !== undefined) continue;
    for (const roleRef of asArray<Cfn>(r.Properties.Roles)) add(roleRef.Ref ?? id, r.Properties.PolicyDocument);
  }
  return out;
}
const allowed = (role: string): Statement[] => iamStatements().filter((s) => s.role === role && s.Effect === 'Allow');
const actionsOf = (role: string): string[] =>
  allowed(role)
    .flatMap((s) => s.Action)
    .sort();
const resourcesFor = (role: string, action: string): unknown[] =>
  allowed(role)
    .filter((s) => s.Action.includes(action))
    .flatMap((s) => s.Resource);

const BUCKET_ARN = getAtt('BackupBucket');
const BUCKET_OBJECTS = { 'Fn::Sub': '${BackupBucket.Arn}/*' };
/** This cluster's backups only (<prefix>/<cluster>/, from the example config). */
const CLUSTER_OBJECTS = { 'Fn::Sub': '${BackupBucket.Arn}/aws-auth-backups/example-cluster/*' };

interface ZipEntry {
  name: string;
  size: number;
  read(): Buffer;
}

/** Minimal zip reader (central directory + stored/deflate), so the test needs no zip library. */
function readZip(path: string): ZipEntry[] {
  const buf = readFileSync(path);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${path}: not a zip (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      size,
      read() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const data = buf.subarray(start, start + compressed);
        if (method === 0) return Buffer.from(data);
        if (method === 8) return inflateRawSync(data);
        throw new Error(`${path}: ${name} uses compression method ${method}`);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

// ----------------------------------------------------------------------------- tests

describe('serverless package (offline, default params)', () => {
  it('deploys to us-east-1 by default, where IAM CloudTrail events reach EventBridge', () => {
    expect(state.service.provider.region).toBe('us-east-1');
  });

  it('runs every function on nodejs22.x with its own handler', () => {
    for (const name of FUNCTIONS) {
      const props = fn(name);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Handler).toBe(`handlers/${name}.handler`);
    }
  });

  it("gives each function the bundled config file, the created bucket, the syncer's own role ARNs and Powertools settings", () => {
    for (const name of FUNCTIONS) {
      const vars = fn(name).Environment.Variables as Cfn;
      expect(vars.SYNCER_CONFIG_FILE).toBe(EXAMPLE_CONFIG);
      expect(vars.BACKUP_BUCKET).toEqual({ Ref: 'BackupBucket' });
      expect(vars.SYNCER_SELF_ARNS).toEqual({ 'Fn::Join': [',', [{ 'Fn::GetAtt': ['SyncRole', 'Arn'] }, { 'Fn::GetAtt': ['RestoreRole', 'Arn'] }]] });
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe('aws-auth-syncer');
      expect(vars.POWERTOOLS_LOG_LEVEL).toBe('INFO');
    }
  });

  it('bundles a valid example config', () => {
    const config = parseConfigText(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8'), EXAMPLE_CONFIG);
    expect(config.cluster).toBe('example-cluster');
    expect(config.region).toBeDefined();
  });

  it('lets one sync and one restore run at a time (reserved concurrency 1)', () => {
    expect(fn('sync').ReservedConcurrentExecutions).toBe(1);
    expect(fn('restore').ReservedConcurrentExecutions).toBe(1);
  });

  describe('IAM change events', () => {
    const rule = (): Cfn => one('AWS::Events::Rule', (r) => r.Properties.EventPattern !== undefined);

    it('matches successful IAM CloudTrail calls that can change a mapping', () => {
      const pattern = rule().Properties.EventPattern as Cfn;
      expect(pattern.source).toEqual(['aws.iam']);
      expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
      expect(pattern.detail.eventSource).toEqual(['iam.amazonaws.com']);
      expect([...pattern.detail.eventName].sort()).toEqual([...EXPECTED_EVENT_NAMES].sort());
      // the handler's own list (lib/app/events.ts) and the rule must agree
      expect([...pattern.detail.eventName].sort()).toEqual([...IAM_EVENT_NAMES].sort());
      expect(pattern.detail.errorCode).toEqual([{ exists: false }]);
      expect(rule().Properties.State ?? 'ENABLED').toBe('ENABLED');
    });

    it('delivers to the sync queue, with undeliverable events dead-lettered', () => {
      const targets = rule().Properties.Targets as Cfn[];
      expect(targets).toHaveLength(1);
      expect(targets[0]!.Arn).toEqual(getAtt('SyncEventsQueue'));
      expect(targets[0]!.DeadLetterConfig.Arn).toEqual(getAtt('EventsDlq'));
    });

    it('accepts messages on the queue only from that rule, encrypted', () => {
      const policy = one('AWS::SQS::QueuePolicy', (r) => JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: 'SyncEventsQueue' }]));
      const allows = (policy.Properties.PolicyDocument.Statement as Cfn[]).filter((s) => s.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      expect(allows[0]!.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(asArray(allows[0]!.Action)).toEqual(['sqs:SendMessage']);
      expect(allows[0]!.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': getAtt('IamChangeRule') } });
      const queue = resources.SyncEventsQueue.Properties as Cfn;
      expect(queue.SqsManagedSseEnabled === true || queue.KmsMasterKeyId !== undefined).toBe(true);
    });

    it('batches bursts: one sync per batch of up to 100 events, waiting up to a window', () => {
      const mapping = one('AWS::Lambda::EventSourceMapping').Properties as Cfn;
      expect(mapping.EventSourceArn).toEqual(getAtt('SyncEventsQueue'));
      expect(mapping.FunctionName).toEqual(getAtt('SyncLambdaFunction'));
      expect(mapping.BatchSize).toBe(100);
      expect(mapping.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(5);
      expect(mapping.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(60);
      // a batch must not become visible again while the function may still be working on it
      const queue = resources.SyncEventsQueue.Properties as Cfn;
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn('sync').Timeout + mapping.MaximumBatchingWindowInSeconds);
    });

    it('moves repeatedly failing messages to a dead-letter queue', () => {
      const redrive = resources.SyncEventsQueue.Properties.RedrivePolicy as Cfn;
      expect(redrive.deadLetterTargetArn).toEqual(getAtt('EventsDlq'));
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(3);
      expect(resources.EventsDlq.Type).toBe('AWS::SQS::Queue');
    });
  });

  it('runs sync on a schedule as a drift backstop', () => {
    const schedule = one('AWS::Events::Rule', (r) => r.Properties.ScheduleExpression !== undefined).Properties as Cfn;
    expect(schedule.ScheduleExpression).toMatch(/^(rate|cron)\(/);
    expect(schedule.State ?? 'ENABLED').toBe('ENABLED');
    expect(asArray<Cfn>(schedule.Targets).map((t) => t.Arn)).toEqual([getAtt('SyncLambdaFunction')]);
    const permission = one('AWS::Lambda::Permission', (r) => r.Properties.Principal === 'events.amazonaws.com').Properties as Cfn;
    expect(permission.FunctionName).toEqual(getAtt('SyncLambdaFunction'));
  });

  it('records failed async invocations of the writers; restore is never retried', () => {
    for (const name of ['Sync', 'Restore']) {
      const config = resources[`${name}LambdaEvConf`] as Cfn | undefined;
      expect(config?.Type).toBe('AWS::Lambda::EventInvokeConfig');
      expect(config!.Properties.DestinationConfig.OnFailure.Destination).toEqual(getAtt('FailedInvocationsQueue'));
    }
    expect(resources.RestoreLambdaEvConf.Properties.MaximumRetryAttempts).toBe(0);
  });

  it('creates no CloudTrail trail unless asked to', () => {
    expect(template.Conditions.CreateTrail).toEqual({ 'Fn::Equals': ['false', 'true'] });
    // every resource in the template, whatever its condition
    const inTemplate = (type: string) => Object.entries(resources).filter(([, r]) => (r as Cfn).Type === type) as [string, Cfn][];
    const trail = [...inTemplate('AWS::CloudTrail::Trail'), ...inTemplate('AWS::S3::Bucket').filter(([bid]) => bid === 'TrailBucket')];
    expect(trail.map(([id]) => id).sort()).toEqual(['Trail', 'TrailBucket']);
    for (const [id, r] of trail) {
      expect([id, r.Condition]).toEqual([id, 'CreateTrail']);
    }
  });

  describe('backup bucket', () => {
    const bucket = (): Cfn => resources.BackupBucket as Cfn;

    it('is versioned, encrypted, private, owner-enforced and retained', () => {
      const b = bucket();
      expect(b.Type).toBe('AWS::S3::Bucket');
      expect(b.DeletionPolicy).toBe('Retain');
      expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const sse = b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm;
      expect(['AES256', 'aws:kms', 'aws:kms:dsse']).toContain(sse);
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.OwnershipControls.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    });

    it('expires noncurrent versions and aborts incomplete uploads', () => {
      const rules = bucket().Properties.LifecycleConfiguration.Rules as Cfn[];
      const enabled = rules.filter((r) => r.Status === 'Enabled');
      expect(enabled.some((r) => r.NoncurrentVersionExpiration?.NoncurrentDays > 0)).toBe(true);
      expect(enabled.some((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation > 0)).toBe(true);
    });

    it('refuses every request that is not over TLS', () => {
      const policy = one('AWS::S3::BucketPolicy', (r) => JSON.stringify(r.Properties.Bucket) === JSON.stringify({ Ref: 'BackupBucket' })).Properties as Cfn;
      const deny = (policy.PolicyDocument.Statement as Cfn[]).find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(deny).toBeDefined();
      expect(deny!.Principal).toBe('*');
      expect(asArray(deny!.Action)).toEqual(['s3:*']);
      expect(asArray(deny!.Resource)).toEqual(expect.arrayContaining([BUCKET_ARN, BUCKET_OBJECTS]));
    });
  });

  describe('least privilege', () => {
    it('gives each function its own role and creates no shared default role', () => {
      expect(resources.IamRoleLambdaExecution).toBeUndefined();
      expect(fn('sync').Role).toEqual(getAtt('SyncRole'));
      expect(fn('restore').Role).toEqual(getAtt('RestoreRole'));
      expect(fn('backups').Role).toEqual(getAtt('BackupsRole'));
    });

    it('uses Resource "*" only where IAM allows nothing else (discovery, X-Ray), and no wildcard actions', () => {
      const statements = iamStatements().filter((s) => s.Effect === 'Allow');
      expect(statements.length).toBeGreaterThan(0);
      // X-Ray's Put* actions have no resource-level permissions (TracingPolicy, test/unit/serverless-ops.test.ts).
      const anyResource = [['iam:GetAccountAuthorizationDetails'], ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']].map((a) => JSON.stringify(a));
      for (const s of statements) {
        if (s.Resource.includes('*')) expect([s.role, s.Action, anyResource.includes(JSON.stringify(s.Action))]).toEqual([s.role, s.Action, true]);
        for (const a of s.Action) expect(a).not.toMatch(/\*/);
      }
      // and the discovery statement is there, read-only
      expect(resourcesFor('SyncRole', 'iam:GetAccountAuthorizationDetails')).toEqual(['*']);
      expect(actionsOf('SyncRole').filter((a) => a.startsWith('iam:'))).toEqual(['iam:GetAccountAuthorizationDetails']);
    });

    it("describes one cluster only: the config file's cluster in its region; reads its access entries, writes none (target aws-auth)", () => {
      const config = parseYaml(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8')) as Cfn;
      expect(config.target ?? 'aws-auth').toBe('aws-auth');
      const expected = { 'Fn::Sub': `arn:\${AWS::Partition}:eks:${config.region}:\${AWS::AccountId}:cluster/${config.cluster}` };
      const entries = { 'Fn::Sub': `arn:\${AWS::Partition}:eks:${config.region}:\${AWS::AccountId}:access-entry/${config.cluster}/*` };
      const reads = ['eks:DescribeAccessEntry', 'eks:ListAssociatedAccessPolicies'];
      const writes = [
        'eks:CreateAccessEntry',
        'eks:UpdateAccessEntry',
        'eks:DeleteAccessEntry',
        'eks:AssociateAccessPolicy',
        'eks:DisassociateAccessPolicy',
        'eks:TagResource',
      ];
      for (const role of ['SyncRole', 'RestoreRole']) {
        for (const a of ['eks:DescribeCluster', 'eks:ListAccessEntries']) expect([a, resourcesFor(role, a)]).toEqual([a, [expected]]);
        for (const a of reads) expect([a, resourcesFor(role, a)]).toEqual([a, [entries]]);
        expect(
          actionsOf(role)
            .filter((a) => a.startsWith('eks:'))
            .sort(),
        ).toEqual(['eks:DescribeCluster', 'eks:ListAccessEntries', ...reads].sort());
        // and the writes are denied outright: a target switched without a redeploy fails loudly
        const denied = iamStatements().filter((s) => s.role === role && s.Effect === 'Deny' && s.Resource.includes('*'));
        expect([role, denied.flatMap((s) => s.Action).sort()]).toEqual([role, [...writes].sort()]);
      }
      expect(actionsOf('BackupsRole').filter((a) => a.startsWith('eks:'))).toEqual([]);
    });

    it("scopes S3 to the backup bucket: listing on the bucket, objects under this cluster's prefix", () => {
      expect(actionsOf('SyncRole')).not.toContain('s3:ListBucket');
      for (const role of ['SyncRole', 'RestoreRole', 'BackupsRole']) {
        if (role !== 'SyncRole') expect(resourcesFor(role, 's3:ListBucket')).toEqual([BUCKET_ARN]);
        for (const a of actionsOf(role).filter((x) => x.startsWith('s3:') && x !== 's3:ListBucket')) {
          expect([a, resourcesFor(role, a)]).toEqual([a, [CLUSTER_OBJECTS]]);
        }
      }
      // sync only writes backups; restore reads one and writes one; backups only lists.
      expect(actionsOf('SyncRole').filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject', 's3:PutObjectTagging']);
      expect(actionsOf('RestoreRole').filter((a) => a.startsWith('s3:'))).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject', 's3:PutObjectTagging']);
    });

    it('keeps the backups function read-only', () => {
      expect(actionsOf('BackupsRole').filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual(['s3:ListBucket']);
    });

    it('lets only sync consume the event queue, and only that queue', () => {
      const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];
      for (const a of consume) expect([a, resourcesFor('SyncRole', a)]).toEqual([a, [getAtt('SyncEventsQueue')]]);
      for (const role of ['RestoreRole', 'BackupsRole']) expect(actionsOf(role).filter((a) => consume.includes(a))).toEqual([]);
      for (const role of ['SyncRole', 'RestoreRole']) expect(resourcesFor(role, 'sqs:SendMessage')).toEqual([getAtt('FailedInvocationsQueue')]);
    });

    it("writes logs only to the function's own log group", () => {
      for (const name of FUNCTIONS) {
        const role = `${name[0]!.toUpperCase()}${name.slice(1)}Role`;
        const res = resourcesFor(role, 'logs:PutLogEvents') as Cfn[];
        expect(res).toHaveLength(1);
        expect(res[0]!['Fn::Sub']).toMatch(new RegExp(`:log-group:/aws/lambda/aws-auth-syncer-dev-${name}:\\*$`));
      }
    });
  });

  it('outputs the bucket name and the sync role ARN', () => {
    expect(template.Outputs.BackupBucketName.Value).toEqual({ Ref: 'BackupBucket' });
    expect(template.Outputs.SyncRoleArn.Value).toEqual(getAtt('SyncRole'));
  });

  describe('function zips', () => {
    it.each(FUNCTIONS)('%s.zip is under 5 MB and holds the bundle and the config file', (name) => {
      const path = join(outDir, `${name}.zip`);
      expect(existsSync(path)).toBe(true);
      const bytes = statSync(path).size;
      const entries = readZip(path);
      const bundle = entries.find((e) => e.name === `handlers/${name}.mjs`);

      console.log(
        `${name}.zip: ${(bytes / 1024).toFixed(0)} KB zipped, bundle ${((bundle?.size ?? 0) / 1024).toFixed(0)} KB; entries: ${entries.map((e) => e.name).join(', ')}`,
      );
      expect(bytes).toBeLessThan(MAX_ZIP_BYTES);

      // the file SYNCER_CONFIG_FILE names is in the zip, byte for byte
      const config = entries.find((e) => e.name === fn(name).Environment.Variables.SYNCER_CONFIG_FILE);
      expect(config?.read().equals(readFileSync(join(ROOT, EXAMPLE_CONFIG)))).toBe(true);

      // no node_modules shipped next to the bundle: everything is inside it
      expect(entries.filter((e) => e.name.startsWith('node_modules/'))).toEqual([]);
      expect(bundle).toBeDefined();
    });

    it.each(FUNCTIONS)(
      '%s bundle loads on its own (no node_modules) and exports handler',
      async (name) => {
        // Unpack into an empty directory and import it there, as Lambda would: a dependency left
        // out of the bundle, or CommonJS code needing `require`, fails right here.
        const dir = mkdtempSync(join(tmpdir(), `aws-auth-syncer-${name}-`));
        try {
          for (const e of readZip(join(outDir, `${name}.zip`))) {
            mkdirSync(dirname(join(dir, e.name)), { recursive: true });
            writeFileSync(join(dir, e.name), e.read());
          }
          const script = `const m = await import('./handlers/${name}.mjs'); console.log(typeof m.handler);`;
          const stdout = await new Promise<string>((resolve, reject) => {
            execFile(
              process.execPath,
              ['--input-type=module', '-e', script],
              {
                cwd: dir,
                env: { PATH: process.env.PATH ?? '', SYNCER_CONFIG_FILE: EXAMPLE_CONFIG, BACKUP_BUCKET: 'example-bucket', AWS_REGION: 'us-east-1' },
                timeout: 60_000,
              },
              (err, out, errOut) => (err ? reject(new Error(`${name} bundle failed to load: ${err.message}\n${errOut}`)) : resolve(out)),
            );
          });
          expect(stdout.trim()).toBe('function');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      90_000,
    );
  });
});
