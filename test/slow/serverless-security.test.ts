/**
 * The security-relevant parts of serverless.yml, as the framework resolves them
 * (`serverless print`, offline, no credentials; it neither bundles nor packages, so it can run
 * beside test/unit/serverless.test.ts): role path and permissions boundary on every role, with
 * and without the params; S3 rights scoped to <prefix>/<cluster>/; the bucket policy that lets
 * only the syncer's roles write backups; the KMS key that signs them and who may use it; and every
 * policy document linted by parliament, each finding explained.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { iamLike, lintPolicy, parliamentPath } from '../support/iam-policy.js';

type Cfn = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BOUNDARY = 'arn:aws:iam::111122223333:policy/org/developer-boundary';
const ROLE_PATH = '/platform/aws-auth-syncer/';
/** The example config: cluster example-cluster, default backup.prefix. */
const BACKUP_OBJECTS = 'aws-auth-backups/example-cluster';
const CLI_ROLES = ['arn:aws:iam::111122223333:role/ops/aws-auth-operator', 'arn:aws:iam::111122223333:role/break-glass'];

function print(params: Record<string, string>): Promise<Cfn> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_EC2_METADATA_DISABLED: 'true' });
  const args = ['--no', 'serverless', 'print', '--format', 'json', ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
  return new Promise((resolve, reject) =>
    execFile('npx', args, { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`serverless print failed: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Cfn),
    ),
  );
}

let withParams: Cfn;
let defaults: Cfn;
let parliament: string;
beforeAll(async () => {
  [withParams, defaults] = await Promise.all([print({ permissionsBoundary: BOUNDARY, rolePath: ROLE_PATH, cliRoleArns: CLI_ROLES.join(',') }), print({})]);
  parliament = parliamentPath();
}, 300_000);

const resources = (c: Cfn): Cfn => c.resources.Resources as Cfn;
const ofType = (c: Cfn, type: string): [string, Cfn][] => Object.entries(resources(c)).filter(([, r]) => r.Type === type);
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Evaluates the few condition functions this template uses, over literal values. */
function evalCondition(c: Cfn, expr: any): boolean {
  if (expr['Fn::Not']) return !evalCondition(c, expr['Fn::Not'][0]);
  if (expr['Fn::Equals']) return expr['Fn::Equals'][0] === expr['Fn::Equals'][1];
  if (expr.Condition) return evalCondition(c, c.resources.Conditions[expr.Condition]);
  throw new Error(`unexpected condition ${JSON.stringify(expr)}`);
}
/** A property value with Fn::If resolved (undefined for AWS::NoValue). */
function resolveIf(c: Cfn, v: any): unknown {
  if (v && typeof v === 'object' && v['Fn::If']) {
    const [cond, yes, no] = v['Fn::If'];
    const picked = evalCondition(c, c.resources.Conditions[cond]) ? yes : no;
    return picked && typeof picked === 'object' && picked.Ref === 'AWS::NoValue' ? undefined : picked;
  }
  return v;
}

/** A list of principal ARNs as CloudFormation will compute it (Fn::If, Fn::Split of Fn::Join);
 * a role's Fn::GetAtt stays symbolic: `SyncRole.Arn`. */
function principals(c: Cfn, v: any): string[] {
  const value = resolveIf(c, v) as any;
  const atom = (x: any): string => (typeof x === 'string' ? x : `${x['Fn::GetAtt'][0]}.${x['Fn::GetAtt'][1]}`);
  if (value && typeof value === 'object' && value['Fn::Split']) {
    const [sep, joined] = value['Fn::Split'];
    const [joinSep, items] = joined['Fn::Join'];
    return (items as any[]).map(atom).join(joinSep).split(sep);
  }
  return asArray<any>(value).map(atom);
}

/** Roles deployed with these params (the cluster function's exists only for a list of clusters). */
const deployedRoles = (c: Cfn): [string, Cfn][] =>
  ofType(c, 'AWS::IAM::Role').filter(([, r]) => r.Condition === undefined || evalCondition(c, c.resources.Conditions[r.Condition]));
const roleStatements = (c: Cfn): Cfn[] =>
  deployedRoles(c).flatMap(([id, r]) =>
    asArray<Cfn>(r.Properties.Policies).flatMap((p) => asArray<Cfn>(p.PolicyDocument.Statement).map((s): Cfn => ({ role: id, ...s }))),
  );

describe('every IAM role the stack creates', () => {
  test('the functions bring their own roles: the framework creates none of its own', () => {
    for (const [name, f] of Object.entries(withParams.functions as Cfn)) expect({ name, role: f.role }).toEqual({ name, role: expect.anything() });
    expect(ofType(withParams, 'AWS::IAM::Role').length).toBeGreaterThanOrEqual(3);
  });

  test('--param rolePath / permissionsBoundary reach every role', () => {
    for (const [id, r] of ofType(withParams, 'AWS::IAM::Role')) {
      expect({ id, path: r.Properties.Path, boundary: resolveIf(withParams, r.Properties.PermissionsBoundary) }).toEqual({
        id,
        path: ROLE_PATH,
        boundary: BOUNDARY,
      });
    }
  });

  test('defaults: path / and no boundary (the property is left out, not empty)', () => {
    for (const [id, r] of ofType(defaults, 'AWS::IAM::Role')) {
      expect({ id, path: r.Properties.Path, boundary: resolveIf(defaults, r.Properties.PermissionsBoundary) }).toEqual({ id, path: '/', boundary: undefined });
    }
  });
});

describe('S3 rights stop at <prefix>/<cluster>/', () => {
  test("object actions only on the cluster's own keys; listing only under its prefix", () => {
    const s3 = roleStatements(withParams).filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) {
      const actions = asArray<string>(s.Action);
      if (actions.includes('s3:ListBucket')) {
        expect(actions).toEqual(['s3:ListBucket']);
        expect(s.Resource).toEqual({ 'Fn::GetAtt': ['BackupBucket', 'Arn'] });
        expect(s.Condition).toEqual({ StringLike: { 's3:prefix': `${BACKUP_OBJECTS}/*` } });
      } else {
        expect({ role: s.role, resource: s.Resource }).toEqual({ role: s.role, resource: { 'Fn::Sub': `\${BackupBucket.Arn}/${BACKUP_OBJECTS}/*` } });
      }
    }
  });
});

describe('backups: only the syncer writes them, nobody deletes them, and they are signed', () => {
  const bucketPolicyOf = (c: Cfn) =>
    ofType(c, 'AWS::S3::BucketPolicy').find(([, r]) => r.Properties.Bucket?.Ref === 'BackupBucket')![1].Properties.PolicyDocument;
  const bucketPolicy = () => bucketPolicyOf(withParams);
  const sid = (doc: Cfn, id: string) => asArray<Cfn>(doc.Statement).find((s) => s.Sid === id)!;

  test('every principal but the sync and restore roles (and the CLI roles named by param) is denied object writes and relabelling', () => {
    for (const [c, exempt] of [
      [defaults, ['SyncRole.Arn', 'RestoreRole.Arn']],
      [withParams, ['SyncRole.Arn', 'RestoreRole.Arn', ...CLI_ROLES]],
    ] as const) {
      const s = sid(bucketPolicyOf(c), 'OnlyTheSyncerWritesBackups');
      expect(s).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: { 'Fn::Sub': '${BackupBucket.Arn}/*' } });
      expect(s.Action).toEqual(expect.arrayContaining(['s3:PutObject', 's3:PutObjectTagging', 's3:PutObjectAcl', 's3:DeleteObjectTagging']));
      expect(Object.keys(s.Condition)).toEqual(['ArnNotEquals']);
      expect(principals(c, s.Condition.ArnNotEquals['aws:PrincipalArn'])).toEqual(exempt);
    }
  });

  test('deletes are denied to everyone; bucket-level actions (the break-glass path) are not', () => {
    const doc = bucketPolicy();
    expect(sid(doc, 'NobodyDeletesBackups')).toEqual({
      Sid: 'NobodyDeletesBackups',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: { 'Fn::Sub': '${BackupBucket.Arn}/*' },
    });
    // Denying s3:PutBucketPolicy would break stack updates and could lock the account out.
    const denied = asArray<Cfn>(doc.Statement)
      .filter((s) => s.Effect === 'Deny')
      .flatMap((s) => asArray<string>(s.Action));
    for (const a of ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutLifecycleConfiguration'])
      expect(denied.some((d) => iamLike(d, a) && d !== 's3:*')).toBe(false);
  });

  test('the signing key is an HMAC key; only sync and restore (and the CLI roles) sign, only restore verifies, the account cannot use it', () => {
    for (const [c, extra] of [
      [defaults, []],
      [withParams, CLI_ROLES],
    ] as const) {
      const keys = ofType(c, 'AWS::KMS::Key');
      expect(keys).toHaveLength(1);
      const key = keys[0]![1];
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      expect(key.DeletionPolicy).toBe('Retain'); // a deleted key makes every backup unverifiable
      const stmts = asArray<Cfn>(key.Properties.KeyPolicy.Statement);
      const allowedTo = (action: string) =>
        stmts.filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).some((a) => iamLike(a, action))).flatMap((s) => principals(c, s.Principal.AWS));
      expect(allowedTo('kms:GenerateMac')).toEqual(['SyncRole.Arn', 'RestoreRole.Arn', ...extra]);
      expect(allowedTo('kms:VerifyMac')).toEqual(['RestoreRole.Arn', ...extra]);
      // The account administers the key; none of its actions (wildcards included) reaches the MAC
      // operations, so no IAM policy in the account can grant them.
      const account = stmts.find((s) => s.Sid === 'AccountAdministersButCannotUseTheKey')!;
      expect(account.Principal.AWS).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' });
      for (const op of ['kms:GenerateMac', 'kms:VerifyMac']) expect(asArray<string>(account.Action).filter((a) => iamLike(a, op))).toEqual([]);
      const deny = stmts.find((s) => s.Effect === 'Deny')!;
      expect(deny).toMatchObject({ Principal: '*', Action: 'kms:GenerateMac' });
      expect(principals(c, deny.Condition.ArnNotEquals['aws:PrincipalArn'])).toEqual(['SyncRole.Arn', 'RestoreRole.Arn', ...extra]);
    }
  });

  test('every function is told the key (BACKUP_MAC_KEY), and the stack outputs it for the CLI', () => {
    expect(withParams.provider.environment.BACKUP_MAC_KEY).toEqual({ 'Fn::GetAtt': ['BackupMacKey', 'Arn'] });
    expect(withParams.resources.Outputs.BackupMacKeyArn.Value).toEqual({ 'Fn::GetAtt': ['BackupMacKey', 'Arn'] });
  });
});

describe('parliament lints every policy document in the stack', () => {
  const FAKE: Record<string, string> = {
    SyncRole: `arn:aws:iam::111122223333:role${ROLE_PATH}sync`,
    RestoreRole: `arn:aws:iam::111122223333:role${ROLE_PATH}restore`,
    BackupsRole: `arn:aws:iam::111122223333:role${ROLE_PATH}backups`,
    BackupBucket: 'arn:aws:s3:::aws-auth-syncer-backups',
    TrailBucket: 'arn:aws:s3:::aws-auth-syncer-trail',
    BackupMacKey: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    // Ref of a topic is its ARN.
    AlarmTopic: 'arn:aws:sns:us-east-1:111122223333:aws-auth-syncer-dev-AlarmTopic',
  };
  const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': '111122223333', 'AWS::Region': 'us-east-1' };
  const fake = (id: string) => FAKE[id] ?? `arn:aws:sqs:us-east-1:111122223333:${id}`;
  /** CloudFormation intrinsics → plausible literal ARNs, so the linter sees a real policy. */
  const literal = (x: any): any => {
    if (Array.isArray(x)) return x.map(literal);
    if (x && typeof x === 'object' && x['Fn::If']) return literal(resolveIf(withParams, x));
    if (x && typeof x === 'object' && x['Fn::Split']) {
      const [sep, joined] = x['Fn::Split'];
      return (literal(joined) as string).split(sep);
    }
    if (x && typeof x === 'object' && x['Fn::Join']) return (literal(x['Fn::Join'][1]) as string[]).join(x['Fn::Join'][0]);
    if (x && typeof x === 'object') {
      if (x['Fn::GetAtt']) return fake(x['Fn::GetAtt'][0]);
      if (x['Fn::Sub']) return (x['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, k: string) => PSEUDO[k] ?? fake(k.split('.')[0]!));
      if (x.Ref) return PSEUDO[x.Ref] ?? FAKE[x.Ref] ?? x.Ref;
      return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, literal(v)]));
    }
    return x;
  };
  const documents = (): [string, Cfn][] =>
    Object.entries(resources(withParams)).flatMap(([id, r]): [string, Cfn][] => {
      if (r.Type === 'AWS::IAM::Role') return asArray<Cfn>(r.Properties.Policies).map((p) => [`${id}/${p.PolicyName}`, p.PolicyDocument]);
      if (r.Type === 'AWS::IAM::Policy') return [[id, r.Properties.PolicyDocument]];
      if (r.Type === 'AWS::S3::BucketPolicy' || r.Type === 'AWS::SQS::QueuePolicy' || r.Type === 'AWS::SNS::TopicPolicy')
        return [[id, r.Properties.PolicyDocument]];
      if (r.Type === 'AWS::KMS::Key') return [[id, r.Properties.KeyPolicy]];
      return [];
    });

  /** Accepted findings, per document and issue, with the reason. */
  const EXPLAINED: { doc: RegExp; issue: string; detail?: RegExp; why: string }[] = [
    // DenyOutdatedTls: NumericLessThan { s3:TlsVersion: '1.2' }. Policy condition values are
    // strings in the policy grammar (AWS's own example quotes it); the comparison is numeric.
    { doc: /Bucket(Policy)?$/, issue: 'MISMATCHED_TYPE', detail: /s3:TlsVersion/, why: "s3:TlsVersion '1.2' is a quoted number, as AWS documents it" },
    // The same statement denies s3:* under s3:TlsVersion; a few s3 actions (replication, access
    // point settings) do not document that key, so for them the deny never applies — harmless,
    // they are not object reads or writes; AWS's own example of this statement uses s3:*.
    {
      doc: /Bucket(Policy)?$/,
      issue: 'UNKNOWN_CONDITION_FOR_ACTION',
      detail: /^Unknown condition s3:TlsVersion for action s3:/,
      why: 's3:* with s3:TlsVersion',
    },
    // A key policy's Resource is always "*": it means this key, and no other value is allowed.
    { doc: /^BackupMacKey$/, issue: 'RESOURCE_STAR', why: 'key policies must say Resource "*" (this key)' },
    // The account administers the key (policy, grants, rotation, deletion) but may not use it;
    // whoever holds kms:PutKeyPolicy could change that, which SECURITY.md names as break-glass.
    { doc: /^BackupMacKey$/, issue: 'PERMISSIONS_MANAGEMENT_ACTIONS', why: 'account administers the key (break-glass), cannot use it' },
    // With vpcSubnetIds: Lambda creates and deletes the functions' network interfaces with the
    // role; they do not exist before (no ARN to name), as in AWSLambdaENIManagementAccess.
    { doc: /^LambdaVpcAccessPolicy$/, issue: 'RESOURCE_STAR', why: 'ENIs Lambda creates for VpcConfig have no ARN beforehand' },
  ];

  test('every finding is explained, every explanation still applies', () => {
    const seen = new Set<string>();
    const unexplained: unknown[] = [];
    const docs = documents();
    expect(docs.map(([n]) => n)).toEqual(
      expect.arrayContaining(['SyncRole/sync', 'RestoreRole/restore', 'BackupsRole/backups-read-only', 'BackupBucketPolicy', 'BackupMacKey']),
    );
    for (const [name, doc] of docs) {
      for (const f of lintPolicy(parliament, literal(doc))) {
        const e = EXPLAINED.find((x) => x.doc.test(name) && x.issue === f.issue && (!x.detail || x.detail.test(String(f.detail))));
        if (e) seen.add(`${e.doc}:${e.issue}`);
        else unexplained.push({ name, issue: f.issue, detail: f.detail });
      }
    }
    expect(unexplained).toEqual([]);
    expect(EXPLAINED.filter((e) => !seen.has(`${e.doc}:${e.issue}`))).toEqual([]);
  });
});
