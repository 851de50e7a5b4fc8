/**
 * The full flows on the real stack: IAM and S3 on moto, aws-auth on a real kube-apiserver.
 * Each test uses its own cluster name, IAM group names and backup prefix: fresh state.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import { syncAwsAuth } from '../../lib/app/sync.js';
import { restoreAwsAuth } from '../../lib/app/restore.js';
import { entriesOf } from '../support/entries.js';
import { validateConfig, toPolicy } from '../../lib/config.js';
import { GuardRefusedError } from '../../lib/errors.js';
import { clients, getAwsAuth, putAwsAuth, stack, unique } from './support/stack.js';
import { createGroup, createRole, createUser, createVersionedBucket, ACCOUNT } from './support/seed.js';
import { liveDeps, syncerEntry } from './support/live.js';
import { httpsConnection, KubeAwsAuthStore } from '../../lib/adapters/kube.js';

const NODE = `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
`;

/** Fresh state per scenario: its own IAM names, tag prefix and bucket, on the stack's cluster. */
async function scenario() {
  const cluster = stack().cluster as string;
  const run = unique('c');
  const tagPrefix = unique('t');
  const bucket = unique('flows');
  const { iam, s3 } = clients();
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-admins`);
  await createGroup(iam, `${run}-devs`);
  await createUser(iam, `${run}-alice`, { groups: [`${run}-admins`] });
  await createUser(iam, `${run}-bob`, { groups: [`${run}-devs`] });
  await createRole(iam, `${run}-sso`, { path: '/aws-reserved/sso.amazonaws.com/eu-west-1/', tags: { [`${tagPrefix}/${cluster}/groups`]: 'viewers' } });
  const config = validateConfig({
    cluster,
    tagPrefix,
    groupMappings: [
      { iamGroup: `${run}-admins`, kubernetesGroups: ['system:masters'] },
      { iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] },
    ],
    guards: { maxRemovals: 1 },
  });
  const backups = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `aws-auth-backups/${cluster}/` }))).Contents ?? []).map((o) => o.Key!);
  return { cluster, run, bucket, config, policy: toPolicy(config), deps: await liveDeps(bucket), backups };
}

/** The entries' ARNs, without the syncer's own bootstrap entry. */
const arns = (cm: any) =>
  entriesOf(cm)
    .map((e) => e.arn)
    .filter((a) => !a.includes('aws-auth-syncer-'));

describe('sync and restore flows on the real stack', () => {
  let s: Awaited<ReturnType<typeof scenario>>;
  beforeAll(async () => {
    s = await scenario();
  });

  test('first sync: node entry and mapAccounts kept, managed entries added, the previous version in S3', async () => {
    const before = await putAwsAuth({ mapRoles: NODE, mapAccounts: '- "444455556666"\n' });
    const r = await syncAwsAuth(s.deps, { policy: s.policy, eventIds: ['evt-1'] });
    expect(r.outcome).toBe('replaced');
    const now = await getAwsAuth();
    expect(now.data.mapAccounts).toBe('- "444455556666"\n');
    expect(arns(now)).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/eks-nodes`,
      `arn:aws:iam::${ACCOUNT}:role/${s.run}-sso`,
      `arn:aws:iam::${ACCOUNT}:user/${s.run}-alice`,
      `arn:aws:iam::${ACCOUNT}:user/${s.run}-bob`,
    ]);
    expect(await s.backups()).toEqual([r.backupKey]);
    const saved = await s.deps.backups.get(r.backupKey!);
    expect(saved.configMap.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(saved.configMap.data).toEqual(before.data);
    expect(saved.record.eventIds).toEqual(['evt-1']);
  });

  test('no-op: a second sync writes nothing and backs up nothing', async () => {
    const before = await getAwsAuth();
    const count = (await s.backups()).length;
    const r = await syncAwsAuth(s.deps, { policy: s.policy });
    expect(r.outcome).toBe('unchanged');
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(await s.backups()).toHaveLength(count);
  });

  test('dry run shows the change and writes nothing', async () => {
    const { iam } = clients();
    await createUser(iam, `${s.run}-carol`, { groups: [`${s.run}-devs`] });
    const before = await getAwsAuth();
    const r = await syncAwsAuth(s.deps, { policy: s.policy, dryRun: true });
    expect(r.outcome).toBe('planned');
    expect(r.plan.report).toContain(`+ mapUsers arn:aws:iam::${ACCOUNT}:user/${s.run}-carol username="${s.run}-carol" groups=[devs]`);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  test('membership change: added and removed users follow IAM', async () => {
    const { iam } = clients();
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: `${s.run}-devs`, UserName: `${s.run}-bob` }));
    const r = await syncAwsAuth(s.deps, { policy: s.policy });
    expect(r.outcome).toBe('replaced');
    const list = arns(await getAwsAuth());
    expect(list).toContain(`arn:aws:iam::${ACCOUNT}:user/${s.run}-carol`);
    expect(list).not.toContain(`arn:aws:iam::${ACCOUNT}:user/${s.run}-bob`);
  });

  test('guard refusal leaves aws-auth and S3 untouched', async () => {
    const { iam } = clients();
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: `${s.run}-devs`, UserName: `${s.run}-carol` }));
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: `${s.run}-admins`, UserName: `${s.run}-alice` }));
    const before = await getAwsAuth();
    const count = (await s.backups()).length;
    const err = await syncAwsAuth(s.deps, { policy: s.policy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusedError);
    expect((err as GuardRefusedError).reasons.map((r) => r.code).sort()).toEqual(['last-masters', 'too-many-removals']);
    const after = await getAwsAuth();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.data).toEqual(before.data);
    expect(await s.backups()).toHaveLength(count);
  });

  test('restore: after a bad manual edit, the first backup comes back; the bad version is backed up first', async () => {
    const first = (await s.backups()).sort()[0]!;
    const bad = await getAwsAuth();
    // The hand edit breaks mapRoles and drops every user but the syncer (which keeps its entry).
    bad.data = { mapRoles: '- rolearn: oops\n', mapUsers: await syncerEntry() };
    const { kube, stack } = await import('./support/stack.js');
    const put = await kube('PUT', '/api/v1/namespaces/kube-system/configmaps/aws-auth', stack().adminToken, bad);
    expect(put.status).toBe(200);
    const r = await restoreAwsAuth(s.deps, { cluster: s.cluster, partition: 'aws', backup: first });
    expect(r.outcome).toBe('replaced');
    const now = await getAwsAuth();
    expect(now.data).toEqual((await s.deps.backups.get(first)).configMap.data);
    const saved = await s.deps.backups.get(r.backupKey!);
    expect(saved.configMap.data).toEqual(bad.data);
    expect(saved.record.reason).toBe('restore');
  });
});

describe('missing ConfigMap', () => {
  test('sync creates aws-auth when there is none (with the opt-in deploy/rbac-create-aws-auth.yaml)', async () => {
    const s = await scenario();
    const { resetAwsAuth } = await import('./support/stack.js');
    // deploy/rbac.yaml grants no create; test/integration/rbac-admission.test.ts covers that case.
    const { allowSyncerCreate, disallowSyncerCreate } = await import('./support/rbac.js');
    await allowSyncerCreate();
    try {
      await resetAwsAuth();
      // Without aws-auth, no IAM identity maps to anything through the authenticator: on EKS the
      // syncer then gets in through its access entry. The local authenticator reads aws-auth only,
      // so this one test reaches the apiserver with the syncer's static token, bound to the same
      // least-privilege RBAC (never the admin token).
      const st = stack();
      s.deps.store = new KubeAwsAuthStore(async () => httpsConnection({ server: st.kubeEndpoint, caData: st.caData, token: st.syncerToken }), {
        timeoutMs: 10000,
      });
      const r = await syncAwsAuth(s.deps, { policy: s.policy });
      expect(r.outcome).toBe('created');
      expect(arns(await getAwsAuth())).toHaveLength(3);
      expect(await s.backups()).toEqual([]);
    } finally {
      await disallowSyncerCreate();
    }
  });
});
