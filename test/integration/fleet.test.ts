/**
 * Many clusters from one deployment, on the real stack (AAS_CLUSTERS=2): two kube-apiservers,
 * moto for IAM, S3, KMS, STS and a real SQS FIFO queue. One run of the sync handler reads IAM
 * once, stores the snapshot and queues one message per cluster; the messages are then handed to
 * the cluster function as Lambda's SQS event source would hand them (moto does not run event
 * source mappings), each on its own:
 *
 * - aas-local goes through the full EKS chain, reached through the role its config names
 *   (`roleArn`, assumed with STS; its aws-auth maps only that role, so nothing else gets in):
 *   written, backed up under aws-auth-backups/aas-local/;
 * - aas-local-2 is refused (its aws-auth holds an anchor, text the syncer will not interpret):
 *   nothing written, no backup — and aas-local is not held up by it.
 *
 * aas-local-2 has no token webhook (one aws-iam-authenticator serves one cluster id, and only
 * one can run here), so the syncer's STS token means nothing to it: through the real handler it
 * is the "unreachable" cluster (401), and for the refused and the later written run the test
 * binds its store to the syncer's static token (same RBAC, deploy/rbac.yaml), as the create test
 * in flows.test.ts does. IAM calls are counted with moto's request recorder.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateClusterCommand, ListAccessEntriesCommand } from '@aws-sdk/client-eks';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { METRIC } from '../../lib/app/observe.js';
import { FLEET_METRIC } from '../../lib/app/fleet-metrics.js';
import type { FleetCluster } from '../../lib/app/fleet.js';
import { httpsConnection, KubeAwsAuthStore } from '../../lib/adapters/kube.js';
import { entriesOf } from '../support/entries.js';
import { captureStdout, emfOf, points } from '../support/emf.js';
import { backupMacKey } from './support/kms.js';
import { actAsSyncer, eventually, whoami, type Identity } from './support/live.js';
import { ACCOUNT, createGroup, createRole, createUser, createVersionedBucket } from './support/seed.js';
import { AWS_AUTH_PATH, clients, getAwsAuth, kube, putAwsAuth, stack, unique } from './support/stack.js';

type Handler = (event: unknown) => Promise<any>;

const s = stack();
const second = s.secondCluster as { name: string; arn: string; kubeEndpoint: string } | undefined;
if (!second)
  throw new Error(
    "test/integration/fleet.test.ts needs the stack's second cluster: start it with AAS_CLUSTERS=2 (the global setup does unless AAS_CLUSTERS=1)",
  );
const C1 = s.cluster as string;
const C2 = second.name;
const run = unique('fleet');
const tagPrefix = unique('t');
const bucket = unique('fleet');
const admin = { accessKeyId: 'AKIAADMIN0000000TEST', secretAccessKey: 'admin-secret' };
const saved = { ...process.env };
const NODES = `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
`;
/** An anchor: the syncer will not interpret this key, so a sync that would change aws-auth is refused. */
const UNREADABLE = `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-nodes
  username: &u system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
`;

let sync: Handler;
let cluster: Handler;
let sqs: SQSClient;
let queueUrl: string;
let roleArn: string;
const records: Record<string, { messageId: string; body: string; attributes: Record<string, string> }> = {};
let snapshotKey: string;

const users = (cm: any) => entriesOf(cm, 'mapUsers').map((e) => e.arn.replace(/.*:user\//, ''));
const backupsOf = async (name: string) =>
  ((await clients().s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `aws-auth-backups/${name}/` }))).Contents ?? []).map((o) => o.Key!);
const getAwsAuth2 = async () => (await kube('GET', AWS_AUTH_PATH, s.adminToken, undefined, second.kubeEndpoint)).json;

/** Replace aws-auth on the second apiserver (admin). */
async function putAwsAuth2(data: Record<string, string>): Promise<any> {
  await kube('DELETE', AWS_AUTH_PATH, s.adminToken, undefined, second!.kubeEndpoint);
  const r = await kube(
    'POST',
    '/api/v1/namespaces/kube-system/configmaps',
    s.adminToken,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data },
    second!.kubeEndpoint,
  );
  if (r.status !== 201) throw new Error(`create aws-auth on ${C2}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** moto's request recorder: the AWS calls made while `fn` runs, as "service:Action" (query protocol) or "service" lines. */
async function recorded<T>(fn: () => Promise<T>): Promise<{ calls: string[]; value: T }> {
  const api = `${s.motoEndpoint}/moto-api/recorder`;
  await fetch(`${api}/reset-recording`, { method: 'POST' });
  await fetch(`${api}/start-recording`, { method: 'POST' });
  let value: T;
  try {
    value = await fn();
  } finally {
    await fetch(`${api}/stop-recording`, { method: 'POST' });
  }
  const lines = (await (await fetch(`${api}/download-recording`)).text()).split('\n').filter(Boolean);
  const calls = lines.map((l) => {
    const r = JSON.parse(l) as { headers: Record<string, string>; body?: string; body_encoded?: boolean };
    const service = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(r.headers.Authorization ?? '')?.[1] ?? 'unsigned';
    const body = r.body ? (r.body_encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body) : '';
    const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1];
    return action ? `${service}:${action}` : service;
  });
  return { calls, value: value! };
}

/** The cluster function's binding, with aas-local-2 reached through the syncer's static token (see the header). */
async function bindings() {
  const { fleetCluster } = await import('../../lib/adapters/fleet-wire.js');
  return (rt: any): FleetCluster =>
    rt.policy.cluster === C2
      ? fleetCluster({
          ...rt,
          deps: {
            ...rt.deps,
            store: new KubeAwsAuthStore(async () => httpsConnection({ server: second!.kubeEndpoint, caData: s.caData, token: s.syncerToken }), {
              timeoutMs: 10000,
            }),
          },
        })
      : fleetCluster(rt);
}

/** One message through the cluster function's own code, aas-local-2 on its static token; the run's metrics flushed as the handler would. */
async function runWithStaticSecond(record: unknown) {
  const { runClusterEvent } = await import('../../lib/adapters/fleet-wire.js');
  const { liveClusters, metrics } = await import('../../lib/adapters/lambda.js');
  const bind = await bindings();
  return captureStdout(async () => {
    try {
      return await runClusterEvent({ Records: [record] }, await liveClusters(), bind);
    } finally {
      metrics.flush();
    }
  });
}

beforeAll(async () => {
  const { iam, s3 } = clients();
  sqs = new SQSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: admin });
  await createVersionedBucket(s3, bucket);
  await createGroup(iam, `${run}-admins`);
  await createGroup(iam, `${run}-devs`);
  await createUser(iam, `${run}-alice`, { groups: [`${run}-admins`] });
  await createUser(iam, `${run}-bob`, { groups: [`${run}-devs`] });
  // "Another account"'s role: moto has one account, so it lives in this one; the syncer reaches
  // aas-local only through it (AssumeRole, as for a member account).
  roleArn = await createRole(iam, `${run}-access`);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${run}-clusters.fifo`, Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } })))
    .QueueUrl!;

  const syncer = await actAsSyncer();
  // aas-local maps the role only (not the syncer's own user): only the assumed session gets in.
  await putAwsAuth({ mapRoles: `${NODES}- rolearn: ${roleArn}\n  username: aws-auth-syncer\n  groups:\n    - aws-auth-syncer\n` }, undefined, false);
  const sts = new STSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: syncer.credentials });
  const session = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'aws-auth-syncer-probe' }))).Credentials!;
  const viaRole: Identity = {
    arn: roleArn,
    credentials: { accessKeyId: session.AccessKeyId!, secretAccessKey: session.SecretAccessKey!, sessionToken: session.SessionToken! },
  };
  const me = await eventually(
    () => whoami(viaRole),
    (v) => v.status === 201,
  );
  if (me.status !== 201) throw new Error(`the role's session is not accepted by ${C1} (${me.status})`);
  expect((await whoami(syncer)).status).toBe(401);
  await putAwsAuth2({ mapRoles: UNREADABLE });

  // The Lambda environment serverless.yml sets up for a list of clusters.
  process.env.SYNCER_CONFIG = JSON.stringify({
    tagPrefix,
    groupMappings: [
      { iamGroup: `${run}-admins`, kubernetesGroups: ['system:masters'] },
      { iamGroup: `${run}-devs`, kubernetesGroups: ['devs'] },
    ],
    clusters: [{ cluster: C1, roleArn }, { cluster: C2 }],
  });
  process.env.BACKUP_BUCKET = bucket;
  process.env.BACKUP_MAC_KEY = (await backupMacKey()).id;
  process.env.SYNCER_CLUSTER_QUEUE_URL = queueUrl;
  delete process.env.SYNCER_CONFIG_PARAMETER;
  delete process.env.SYNCER_CONFIG_FILE;
  sync = (await import('../../handlers/sync.js')).handler as Handler;
  cluster = (await import('../../handlers/cluster.js')).handler as Handler;
}, 120000);

afterAll(() => {
  process.env = saved;
});

describe('two clusters from one run', () => {
  test('an IAM event: IAM read once, the snapshot stored, one message per cluster on the FIFO queue (message group = cluster)', async () => {
    const event = {
      Records: [
        {
          messageId: unique('m'),
          body: JSON.stringify({
            id: `${run}-e1`,
            source: 'aws.iam',
            'detail-type': 'AWS API Call via CloudTrail',
            detail: { eventName: 'AddUserToGroup', eventID: `${run}-ct1` },
          }),
        },
      ],
    };
    const { calls, value } = await recorded(() => captureStdout(() => sync(event)));
    const reply = value.result;
    expect(reply).toMatchObject({ outcome: 'queued', clusters: [C1, C2], eventIds: [`${run}-e1`, `${run}-ct1`] });
    expect(calls.filter((c) => c.startsWith('iam:'))).toEqual(['iam:GetAccountAuthorizationDetails']);
    expect(points(emfOf(value.lines), FLEET_METRIC.clustersQueued).map((p) => p.value)).toEqual([2]);
    snapshotKey = reply.snapshot.key;
    expect(snapshotKey).toMatch(/^aws-auth-backups\/_iam-snapshots\//);

    const got: Message[] = [];
    for (let i = 0; i < 5 && got.length < 2; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['MessageGroupId'] }),
      );
      got.push(...(r.Messages ?? []));
    }
    expect(got.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual([C1, C2].sort());
    for (const m of got) {
      const body = JSON.parse(m.Body!);
      expect(body).toMatchObject({
        version: 1,
        cluster: m.Attributes!.MessageGroupId,
        trigger: 'iam',
        snapshot: { key: snapshotKey, sha256: reply.snapshot.sha256 },
      });
      expect(body.snapshot.versionId).toBeTruthy();
      // As Lambda's event source does once the function succeeds or the message is dead-lettered.
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      records[body.cluster] = { messageId: m.MessageId!, body: m.Body!, attributes: { MessageGroupId: m.Attributes!.MessageGroupId! } };
    }
  });

  test(`${'aas-local'} written through its assumed role, ${'aas-local-2'} refused: each with its own backups and metrics, neither holding up the other, no IAM call`, async () => {
    const before2 = await getAwsAuth2();
    const { calls, value } = await recorded(async () => ({
      one: await captureStdout(() => cluster({ Records: [records[C1]] })),
      two: await runWithStaticSecond(records[C2]),
    }));
    const { one, two } = value;
    // aas-local: replaced, through the role's session (aws-auth maps nothing else)
    expect(one.error).toBeUndefined();
    expect(one.result.clusters).toEqual([expect.objectContaining({ cluster: C1, outcome: 'replaced' })]);
    const backupKey = one.result.clusters[0].backupKey as string;
    expect(backupKey.startsWith(`aws-auth-backups/${C1}/`)).toBe(true);
    expect(await backupsOf(C1)).toEqual([backupKey]);
    expect(users(await getAwsAuth()).sort()).toEqual([`${run}-alice`, `${run}-bob`]);
    expect(calls).toContain('sts:AssumeRole');
    // aas-local-2: refused — final: the reply (the message is done, not retried against the same snapshot); nothing written
    expect(two.error).toBeUndefined();
    expect(two.result!.clusters).toEqual([
      expect.objectContaining({ cluster: C2, outcome: 'refused', refusals: [expect.objectContaining({ code: 'current-unreadable' })] }),
    ]);
    const after2 = await getAwsAuth2();
    expect(after2.metadata.resourceVersion).toBe(before2.metadata.resourceVersion);
    expect(after2.data).toEqual(before2.data);
    expect(await backupsOf(C2)).toEqual([]);
    // the clusters read the stored snapshot; nobody read IAM again
    expect(calls.filter((c) => c.startsWith('iam:'))).toEqual([]);
    // metrics per cluster (and the fleet-wide totals the alarms watch)
    const replaced = points(emfOf(one.lines), 'SyncReplaced');
    expect(replaced.map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: C1, trigger: 'iam' }]);
    expect(replaced[0]!.dimensionSets).toEqual([['service', 'cluster'], ['service', 'cluster', 'trigger'], ['service'], ['service', 'trigger']]);
    expect(points(emfOf(one.lines), METRIC.identitiesAdded).map((p) => [p.value, p.dims])).toEqual([[2, { service: 'aws-auth-syncer', cluster: C1 }]]);
    expect(points(emfOf(two.lines), 'SyncRefused').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: C2, trigger: 'iam' }]);
    expect(points(emfOf(two.lines), METRIC.refusals).map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: C2, code: 'current-unreadable' }]);
  }, 60000);

  test(`through the real handler ${'aas-local-2'} is unreachable (no token webhook there: 401): its run fails on its own`, async () => {
    const before1 = await getAwsAuth();
    const { error, lines } = await captureStdout(() => cluster({ Records: [records[C2]] }));
    expect((error as Error).name).toBe('ClusterAccessError');
    expect((error as Error).message).toMatch(/rejected the syncer's token \(401 Unauthorized\)/);
    expect(points(emfOf(lines), 'SyncError').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: C2, trigger: 'iam' }]);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before1.metadata.resourceVersion);
  }, 60000);

  test(`once its aws-auth is fixed, ${'aas-local-2'} is synced from the same message, with its own backup; it reads the snapshot version the run wrote`, async () => {
    await putAwsAuth2({ mapRoles: NODES });
    // Someone overwrites the snapshot's key (the bucket policy forbids it in AWS; moto does not
    // enforce bucket policies): the message names the version the run wrote, so this is ignored.
    const planted = JSON.stringify({
      users: [{ arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, userName: 'mallory', path: '/', groups: [`${run}-admins`], tags: {} }],
      roles: [],
      groups: [],
    });
    await clients().s3.send(new PutObjectCommand({ Bucket: bucket, Key: snapshotKey, Body: planted }));
    const { result, error } = await runWithStaticSecond(records[C2]);
    expect(error).toBeUndefined();
    expect(result!.clusters).toEqual([expect.objectContaining({ cluster: C2, outcome: 'replaced' })]);
    const now = await getAwsAuth2();
    expect(users(now).sort()).toEqual([`${run}-alice`, `${run}-bob`]);
    expect(await backupsOf(C2)).toEqual([(result!.clusters[0] as { backupKey?: string }).backupKey]);
    expect(await backupsOf(C1)).toHaveLength(1);
  }, 60000);

  test("a person's dry run: IAM read once, one reply with a report per cluster; nothing written", async () => {
    const before1 = await getAwsAuth();
    const before2 = await getAwsAuth2();
    const { calls, value } = await recorded(() => captureStdout(() => sync({ dryRun: true })));
    const reply = value.result;
    expect(calls.filter((c) => c.startsWith('iam:'))).toEqual(['iam:GetAccountAuthorizationDetails']);
    expect(reply.outcome).toBe('error');
    expect(reply.clusters.map((c: any) => [c.cluster, c.outcome])).toEqual([
      [C1, 'unchanged'],
      [C2, 'error'],
    ]);
    expect(reply.clusters[1].error.message).toMatch(/401 Unauthorized/);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before1.metadata.resourceVersion);
    expect((await getAwsAuth2()).metadata.resourceVersion).toBe(before2.metadata.resourceVersion);
  }, 60000);
});

describe('a list mixing targets', () => {
  // A third cluster, in ministack only: the access-entries target calls the EKS API, not an
  // apiserver, so it needs none. It sits next to aas-local (aws-auth) in one list.
  const E = unique('entries');
  const arnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
  const receiveAll = async (n: number) => {
    const got: Message[] = [];
    for (let i = 0; i < 5 && got.length < n; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['MessageGroupId'] }),
      );
      got.push(...(r.Messages ?? []));
    }
    for (const m of got) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    return Object.fromEntries(
      got.map((m) => [
        m.Attributes!.MessageGroupId!,
        { messageId: m.MessageId!, body: m.Body!, attributes: { MessageGroupId: m.Attributes!.MessageGroupId! } },
      ]),
    );
  };

  let noticesUrl: string;
  beforeAll(async () => {
    // Change notices on (notifyChanges): moto SNS → an SQS queue read back.
    const sns = new SNSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: admin });
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: `${run}-changes` }))).TopicArn!;
    noticesUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${run}-notices` }))).QueueUrl!;
    const noticesArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: noticesUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: noticesArn, Attributes: { RawMessageDelivery: 'true' } }));
    process.env.SYNCER_CHANGE_TOPIC_ARN = topicArn;
    await clients().eks.send(
      new CreateClusterCommand({
        name: E,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${E}`,
        resourcesVpcConfig: { subnetIds: ['subnet-1'] },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      }),
    );
    process.env.SYNCER_CONFIG = JSON.stringify({
      ...JSON.parse(process.env.SYNCER_CONFIG!),
      clusters: [
        { cluster: C1, roleArn },
        { cluster: E, target: 'access-entries' },
      ],
    });
  });

  test('the dry run plans each cluster with its own target; the cluster function writes access entries for one and leaves the other as it is', async () => {
    const dry = await captureStdout(() => sync({ dryRun: true }));
    expect(dry.error).toBeUndefined();
    expect(dry.result.clusters.map((c: any) => [c.cluster, c.outcome])).toEqual([
      [C1, 'unchanged'],
      [E, 'planned'],
    ]);
    const creates = dry.result.clusters[1].calls.filter((c: any) => c.op === 'CreateAccessEntry').map((c: any) => c.principalArn);
    expect(creates.sort()).toEqual([arnOf(`${run}-alice`), arnOf(`${run}-bob`)]);
    expect((await clients().eks.send(new ListAccessEntriesCommand({ clusterName: E }))).accessEntries ?? []).toEqual([]);

    const event = {
      Records: [
        {
          messageId: unique('m'),
          body: JSON.stringify({
            id: `${run}-e2`,
            source: 'aws.iam',
            'detail-type': 'AWS API Call via CloudTrail',
            detail: { eventName: 'AddUserToGroup', eventID: `${run}-ct2` },
          }),
        },
      ],
    };
    const out = await captureStdout(() => sync(event));
    expect(out.result).toMatchObject({ outcome: 'queued', clusters: [C1, E] });
    const queued = await receiveAll(2);
    expect(Object.keys(queued).sort()).toEqual([C1, E].sort());
    const before1 = await getAwsAuth();

    const ran = await captureStdout(() => cluster({ Records: [queued[E]] }));
    expect(ran.error).toBeUndefined();
    expect(ran.result.clusters).toEqual([expect.objectContaining({ cluster: E, outcome: 'applied', target: 'access-entries' })]);
    const listed = (await clients().eks.send(new ListAccessEntriesCommand({ clusterName: E }))).accessEntries ?? [];
    expect([...listed].sort()).toEqual([arnOf(`${run}-alice`), arnOf(`${run}-bob`)]);
    const backupKey = ran.result.clusters[0].backupKey as string;
    expect(await backupsOf(E)).toEqual([backupKey]);
    expect(points(emfOf(ran.lines), 'SyncReplaced').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: E, trigger: 'iam' }]);
    expect(points(emfOf(ran.lines), METRIC.entriesAdded).map((p) => p.value)).toEqual([2]);
    // its change notice, as SNS delivers it
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: noticesUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    const notices = (got.Messages ?? []).map((m) => JSON.parse(m.Body!));
    expect(notices).toEqual([
      expect.objectContaining({
        cluster: E,
        target: 'access-entries',
        outcome: 'applied',
        trigger: 'iam',
        backupKey,
        summary: expect.objectContaining({ entriesAdded: 2, identitiesAdded: 2 }),
      }),
    ]);
    expect(notices[0].diff.join('\n')).toContain(arnOf(`${run}-alice`));
    // The same message again (SQS redelivers): nothing left to do.
    const again = await captureStdout(() => cluster({ Records: [queued[E]] }));
    expect(again.result.clusters).toEqual([expect.objectContaining({ cluster: E, outcome: 'unchanged' })]);
    expect(await backupsOf(E)).toEqual([backupKey]);
    // aas-local's message runs its aws-auth target: nothing to change there.
    const one = await captureStdout(() => cluster({ Records: [queued[C1]] }));
    expect(one.result.clusters).toEqual([expect.objectContaining({ cluster: C1, outcome: 'unchanged' })]);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before1.metadata.resourceVersion);
  }, 90000);
});
