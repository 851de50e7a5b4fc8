/**
 * The access-entries target end to end on the real stack: the syncer as in Lambda (its own IAM
 * identity in moto, the adapters of lib/adapters/wire.ts, EKS through the EKS proxy to ministack,
 * signed backups in S3), and login proof through the chain: an identity's own STS-presigned token
 * → kube-apiserver → aws-iam-authenticator (DynamicFile: the access entries as EKS serves them,
 * rendered from ministack by test/stack/entries_renderer.py, keyed by principal id; then aws-auth)
 * → RBAC. ministack accepts `system:` groups and does not paginate: nothing here relies on either.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, DeleteRoleCommand, RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreateClusterCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  ListAssociatedAccessPoliciesCommand,
} from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createLiveDeps, type LiveDeps } from '../../lib/adapters/wire.js';
import { restoreAccessEntries, syncAccessEntries } from '../../lib/app/access-entries.js';
import { silentLog, systemClock } from '../../lib/app/ports.js';
import { syncAwsAuth } from '../../lib/app/sync.js';
import { toPolicy, validateConfig } from '../../lib/config.js';
import { OWNED_TAG, PRINCIPAL_ID_TAG } from '../../lib/core/access-entries.js';
import { ConfigError, GuardRefusedError } from '../../lib/errors.js';
import { clients, putAwsAuth, stack, unique } from './support/stack.js';
import { ACCOUNT, createGroup, createRole, createUser, createVersionedBucket } from './support/seed.js';
import { actAsSyncer, eventually, syncerIdentity, whoami, type Identity } from './support/live.js';
import { backupMacKey } from './support/kms.js';

const run = unique('ae');
const tagPrefix = unique('t');
const bucket = unique('entries');
const permissionSet = `PS${run.replace(/-/g, '')}`.slice(0, 32);
const ssoName = `AWSReservedSSO_${permissionSet}_0123456789abcdef`;
const ssoPath = '/aws-reserved/sso.amazonaws.com/';
const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const creatorArn = `arn:aws:iam::${ACCOUNT}:role/${run}-creator`;
const accepted = (v: { status: number }) => v.status === 201;
const refused = (v: { status: number }) => v.status === 401;

let deps: LiveDeps;
let syncer: Identity;
const ids: Record<string, Identity> = {};

const config = (over: Record<string, unknown> = {}) =>
  toPolicy(
    validateConfig({
      cluster: stack().cluster,
      target: 'access-entries',
      tagPrefix,
      groupMappings: [{ iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] }],
      roleMappings: [{ ssoPermissionSet: permissionSet, kubernetesGroups: ['system:masters'], username: 'sso-admin:{{SessionName}}' }],
      ...over,
    }),
    { region: stack().region },
  );

async function userWithKey(name: string, groups: string[]): Promise<Identity> {
  const { iam } = clients();
  const arn = await createUser(iam, name, { groups });
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { arn, credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } };
}

async function assume(who: Identity, roleArn: string, session: string): Promise<Identity> {
  const sts = new STSClient({ region: stack().region, endpoint: stack().motoEndpoint, credentials: who.credentials });
  const c = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }))).Credentials!;
  return { arn: roleArn, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

const sync = (policy = config(), opts: { dryRun?: boolean; force?: boolean } = {}) => syncAccessEntries(deps, { policy, selfArns: [syncer.arn], ...opts });
const describeEntry = (principalArn: string) => clients().eks.send(new DescribeAccessEntryCommand({ clusterName: stack().cluster as string, principalArn }));

beforeAll(async () => {
  const { iam, s3 } = clients();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-devs`);
  ids.alice = await userWithKey(`${run}-alice`, [`${run}-devs`]);
  ids.bob = await userWithKey(`${run}-bob`, [`${run}-devs`]);
  await createRole(iam, ssoName, { path: ssoPath });
  await createRole(iam, `${run}-creator`);
  syncer = await syncerIdentity();
  // The cluster creator's entry, as EKS bootstraps it: an admin the syncer does not own.
  const eks = clients().eks;
  await eks.send(new CreateAccessEntryCommand({ clusterName: stack().cluster as string, principalArn: creatorArn, type: 'STANDARD' }));
  await eks.send(
    new AssociateAccessPolicyCommand({ clusterName: stack().cluster as string, principalArn: creatorArn, policyArn: ADMIN, accessScope: { type: 'cluster' } }),
  );
  await actAsSyncer();
  const s = stack();
  deps = createLiveDeps({
    cluster: s.cluster as string,
    region: s.region,
    bucket,
    prefix: 'aws-auth-backups',
    macKey: await backupMacKey(),
    timeoutMs: 10000,
    clock: systemClock,
    log: silentLog,
  });
});

afterAll(async () => {
  // Leave aas-local's entries as other test files expect them: none of this file's.
  for (const e of (await deps.entries.read()).entries) {
    if (e.tags[OWNED_TAG] === stack().cluster || e.principalArn.includes(run)) {
      await clients()
        .eks.send(new DeleteAccessEntryCommand({ clusterName: stack().cluster as string, principalArn: e.principalArn }))
        .catch(() => undefined);
    }
  }
});

describe('access-entries target on the real stack', () => {
  test('a group member gets in through an access entry the syncer creates, is removed and is refused', async () => {
    expect(await whoami(ids.alice!)).toMatchObject({ status: 401 });
    const r = await sync();
    expect(r.outcome).toBe('applied');
    expect(r.authenticationMode).toBe('API_AND_CONFIG_MAP');
    expect(r.backupKey).toMatch(new RegExp(`^aws-auth-backups/${stack().cluster}/access-entries/.*-rve0-sync\\.json$`));
    const entry = (await describeEntry(ids.alice!.arn)).accessEntry!;
    expect(entry).toMatchObject({ type: 'STANDARD', kubernetesGroups: ['devs'], username: `${run}-alice`, tags: { [OWNED_TAG]: stack().cluster } });
    expect(entry.tags![PRINCIPAL_ID_TAG]).toMatch(/\w/);
    const me = await eventually(() => whoami(ids.alice!), accepted);
    expect(me).toEqual({ status: 201, username: `${run}-alice`, groups: ['devs'] });

    // The second run changes nothing.
    expect((await sync()).outcome).toBe('unchanged');

    await clients().iam.send(new RemoveUserFromGroupCommand({ GroupName: `${run}-devs`, UserName: `${run}-alice` }));
    const removed = await sync();
    expect(removed.plan.calls.map((c) => `${c.op} ${c.principalArn}`)).toEqual([`DeleteAccessEntry ${ids.alice!.arn}`]);
    expect(removed.report).toContain(`  ${ids.alice!.arn}: "${run}-alice" [devs] → none`);
    expect(await eventually(() => whoami(ids.alice!), refused)).toEqual({ status: 401 });

    // Restore: the backup taken before that run holds alice's entry; she gets in again.
    const restored = await restoreAccessEntries(deps, { cluster: stack().cluster as string, backup: removed.backupKey!, selfArns: [syncer.arn] });
    expect(restored.plan.calls.map((c) => c.op)).toEqual(['CreateAccessEntry']);
    expect(await eventually(() => whoami(ids.alice!), accepted)).toMatchObject({ status: 201, groups: ['devs'] });
    // IAM still says no: the next sync takes her out again.
    expect((await sync()).plan.calls.map((c) => c.op)).toEqual(['DeleteAccessEntry']);
    expect(await eventually(() => whoami(ids.alice!), refused)).toEqual({ status: 401 });
  });

  test('an IAM Identity Center role gets in by its permission set, as cluster admin (the role ARN keeps its path in the entry)', async () => {
    const ssoArn = `arn:aws:iam::${ACCOUNT}:role${ssoPath}${ssoName}`;
    const policies = await clients().eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: stack().cluster as string, principalArn: ssoArn }));
    expect(policies.associatedAccessPolicies?.map((p) => [p.policyArn, p.accessScope?.type])).toEqual([[ADMIN, 'cluster']]);
    expect((await describeEntry(ssoArn)).accessEntry).toMatchObject({ kubernetesGroups: [], username: 'sso-admin:{{SessionName}}' });
    const session = await assume(ids.bob!, ssoArn, 'jane');
    const me = await eventually(() => whoami(session), accepted);
    expect(me).toEqual({ status: 201, username: 'sso-admin:jane', groups: ['eks-access-policy:AmazonEKSClusterAdminPolicy'] });
  });

  test('an entry the syncer does not own is never touched: bob’s hand-made entry, the creator’s admin entry', async () => {
    const eks = clients().eks;
    // bob is in the mapped group, but someone made his entry by hand.
    await eks.send(new DeleteAccessEntryCommand({ clusterName: stack().cluster as string, principalArn: ids.bob!.arn }));
    await eks.send(
      new CreateAccessEntryCommand({
        clusterName: stack().cluster as string,
        principalArn: ids.bob!.arn,
        kubernetesGroups: ['by-hand'],
        username: 'bob-by-hand',
      }),
    );
    const r = await sync();
    expect(r.plan.conflicts).toEqual([{ principalArn: ids.bob!.arn, reason: expect.stringContaining('does not own') }]);
    expect(r.plan.calls).toEqual([]);
    expect((await describeEntry(ids.bob!.arn)).accessEntry).toMatchObject({ kubernetesGroups: ['by-hand'], username: 'bob-by-hand', tags: {} });
    expect(
      await eventually(
        () => whoami(ids.bob!),
        (v) => v.username === 'bob-by-hand',
      ),
    ).toMatchObject({ status: 201, groups: ['by-hand'] });
    const creator = await eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName: stack().cluster as string, principalArn: creatorArn }));
    expect(creator.associatedAccessPolicies?.map((p) => p.policyArn)).toEqual([ADMIN]);
  });

  test('the last cluster admin is kept: the SSO admin entry stays when the config drops it, and still logs in', async () => {
    const ssoArn = `arn:aws:iam::${ACCOUNT}:role${ssoPath}${ssoName}`;
    const withoutSso = config({ roleMappings: [] });
    // With the creator's admin entry there, dropping the SSO mapping would be allowed (dry run).
    expect((await sync(withoutSso, { dryRun: true })).outcome).toBe('planned');
    await clients().eks.send(new DeleteAccessEntryCommand({ clusterName: stack().cluster as string, principalArn: creatorArn }));
    const err = await sync(withoutSso, { force: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusedError);
    expect((err as GuardRefusedError).reasons.map((x) => x.code)).toEqual(['last-cluster-admin']);
    expect((err as GuardRefusedError).message).toContain(ssoArn);
    expect((await describeEntry(ssoArn)).accessEntry?.principalArn).toBe(ssoArn);
    const session = await assume(ids.bob!, ssoArn, 'still-here');
    expect(await eventually(() => whoami(session), accepted)).toMatchObject({ username: 'sso-admin:still-here' });
  });

  test('a role deleted and recreated under the same ARN loses its entry; the next sync (its CreateRole event) recreates it', async () => {
    const ssoArn = `arn:aws:iam::${ACCOUNT}:role${ssoPath}${ssoName}`;
    const { iam } = clients();
    const before = (await describeEntry(ssoArn)).accessEntry!.tags![PRINCIPAL_ID_TAG];
    await iam.send(new DeleteRoleCommand({ RoleName: ssoName }));
    await createRole(iam, ssoName, { path: ssoPath });
    const session = await assume(ids.bob!, ssoArn, 'after-recreate');
    // Same ARN, new role id: the entry (keyed by the old id) no longer lets it in.
    expect(await eventually(() => whoami(session), refused, 3000)).toEqual({ status: 401 });
    const r = await sync();
    expect(r.plan.calls.map((c) => c.op)).toEqual(['DeleteAccessEntry', 'CreateAccessEntry', 'AssociateAccessPolicy']);
    expect(r.plan.summary).toMatchObject({ recreate: 1 });
    expect(r.plan.warnings.map((w) => w.code)).toContain('recreate');
    const after = (await describeEntry(ssoArn)).accessEntry!.tags![PRINCIPAL_ID_TAG];
    expect(after).not.toBe(before);
    expect(await eventually(() => whoami(session), accepted)).toMatchObject({
      username: 'sso-admin:after-recreate',
      groups: ['eks-access-policy:AmazonEKSClusterAdminPolicy'],
    });
  });
});

describe('authentication modes', () => {
  const cluster = (name: string, mode?: 'API' | 'CONFIG_MAP') =>
    clients().eks.send(
      new CreateClusterCommand({
        name,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
        ...(mode ? { accessConfig: { authenticationMode: mode } } : {}),
      }),
    );
  const depsFor = async (name: string) => {
    await actAsSyncer();
    const s = stack();
    return createLiveDeps({
      cluster: name,
      region: s.region,
      bucket,
      prefix: 'aws-auth-backups',
      macKey: await backupMacKey(),
      timeoutMs: 5000,
      clock: systemClock,
      log: silentLog,
    });
  };

  test('aws-auth target on an API-mode cluster: a clear error before anything is read or written', async () => {
    const name = unique('api');
    await cluster(name, 'API');
    const d = await depsFor(name);
    const err = await syncAwsAuth(d, { policy: { ...config(), cluster: name } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      new RegExp(`cluster ${name} uses authentication mode API: EKS ignores the aws-auth ConfigMap.*target: access-entries`),
    );
  });

  test('access-entries target on a CONFIG_MAP cluster (no accessConfig: one from before access entries): a clear error', async () => {
    const name = unique('cm');
    await cluster(name);
    const d = await depsFor(name);
    await expect(syncAccessEntries(d, { policy: { ...config(), cluster: name } })).rejects.toThrow(
      /uses authentication mode CONFIG_MAP: EKS does not use access entries there/,
    );
  });

  test('API_AND_CONFIG_MAP: an aws-auth mapping shadowed by an access entry is a warning in the aws-auth plan', async () => {
    await putAwsAuth({});
    const policy = { ...config(), tagPrefix };
    const r = await syncAwsAuth(deps, { policy, dryRun: true, selfArns: [syncer.arn] });
    // bob has both: the hand-made access entry wins.
    expect(r.warnings.filter((w) => w.code === 'shadowed').map((w) => w.arn)).toContain(ids.bob!.arn);
    expect(r.plan.report.join('\n')).toMatch(new RegExp(`${ids.bob!.arn}: its aws-auth entry is shadowed by the access entry`));
    // alice has no access entry (she left the group): nothing shadows her (she is not mapped either).
    expect(r.warnings.some((w) => w.code === 'shadowed' && w.arn === ids.alice!.arn)).toBe(false);
  });
});
