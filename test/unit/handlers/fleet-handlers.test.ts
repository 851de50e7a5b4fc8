/**
 * The handlers with a configuration that lists clusters, over aws-sdk-client-mock (IAM, S3,
 * SQS): what the sync function queues and replies, which cluster a restore or a listing must
 * name, and how the cluster function treats messages it cannot use. The whole path on the real
 * stack (moto, two kube-apiservers) is test/integration/fleet.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { FLEET_METRIC } from '../../../lib/app/fleet-metrics.js';
import { captureStdout, emfOf, points } from '../../support/emf.js';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/111122223333/aws-auth-syncer-dev-clusters.fifo';
const CONFIG = JSON.stringify({
  groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'] }],
  clusters: [
    { cluster: 'prod', region: 'eu-west-1' },
    { cluster: 'staging', region: 'us-east-2', roleArn: 'arn:aws:iam::222233334444:role/aws-auth-syncer-access' },
  ],
});
const saved = { ...process.env };
const iamMock = mockClient(IAMClient);
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
type Handler = (event: unknown) => Promise<any>;
let sync: Handler;
let restore: Handler;
let backups: Handler;
let cluster: Handler;

const iamEvent = (id: string) => ({
  Records: [
    {
      messageId: `m-${id}`,
      body: JSON.stringify({
        id,
        source: 'aws.iam',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'AddUserToGroup', eventID: `ct-${id}` },
      }),
    },
  ],
});

beforeAll(async () => {
  Object.assign(process.env, {
    SYNCER_CONFIG: CONFIG,
    BACKUP_BUCKET: 'backups-1',
    BACKUP_MAC_KEY: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    SYNCER_CLUSTER_QUEUE_URL: QUEUE,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIA0000000000000000',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });
  delete process.env.SYNCER_CONFIG_PARAMETER;
  delete process.env.SYNCER_CONFIG_FILE;
  ({ handler: sync } = (await import('../../../handlers/sync.js')) as { handler: Handler });
  ({ handler: restore } = (await import('../../../handlers/restore.js')) as { handler: Handler });
  ({ handler: backups } = (await import('../../../handlers/backups.js')) as { handler: Handler });
  ({ handler: cluster } = (await import('../../../handlers/cluster.js')) as { handler: Handler });
});

afterAll(() => {
  process.env = saved;
});

beforeEach(() => {
  for (const m of [iamMock, s3Mock, sqsMock]) m.reset();
  iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [], RoleDetailList: [], GroupDetailList: [], IsTruncated: false });
  s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v1' });
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

describe('sync with a list of clusters', () => {
  test('an IAM event: IAM read once, the snapshot stored, one message per cluster; the reply says what was queued', async () => {
    const { lines, result } = await captureStdout(() => sync(iamEvent('e1')));
    expect(result).toMatchObject({
      outcome: 'queued',
      eventIds: ['e1', 'ct-e1'],
      clusters: ['prod', 'staging'],
      principals: { users: 0, roles: 0, groups: 0 },
    });
    expect(result.snapshot.key).toMatch(/^aws-auth-backups\/_iam-snapshots\/.*\.json$/);
    expect(iamMock.commandCalls(GetAccountAuthorizationDetailsCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Bucket)).toEqual(['backups-1']);
    const entries = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE);
    expect(entries.map((e) => [e.MessageGroupId, JSON.parse(e.MessageBody!).trigger, JSON.parse(e.MessageBody!).snapshot.versionId])).toEqual([
      ['prod', 'iam', 'v1'],
      ['staging', 'iam', 'v1'],
    ]);
    expect(points(emfOf(lines), FLEET_METRIC.clustersQueued).map((p) => [p.value, p.dims])).toEqual([[2, { service: 'aws-auth-syncer' }]]);
  });

  test('a person names one cluster: only that cluster is queued; an unknown name is a clear reply', async () => {
    const { result } = await captureStdout(() => sync({ cluster: 'staging', force: true }));
    expect(result).toMatchObject({ outcome: 'queued', clusters: ['staging'] });
    const [entry] = sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries!;
    expect(JSON.parse(entry!.MessageBody!)).toMatchObject({ cluster: 'staging', trigger: 'manual', force: true });
    const bad = await captureStdout(() => sync({ cluster: 'dev' }));
    expect(bad.result).toEqual({ outcome: 'error', error: { name: 'InputError', message: 'cluster "dev" is not in the configuration (prod, staging)' } });
  });

  test('force without a cluster is refused with a clear reply (it would waive the guards of every cluster); nothing is queued', async () => {
    const sent = sqsMock.commandCalls(SendMessageBatchCommand).length;
    const { result } = await captureStdout(() => sync({ force: true }));
    expect(result).toEqual({
      outcome: 'error',
      error: {
        name: 'InputError',
        message: '"force" needs "cluster" with a list of clusters (prod, staging): it waives guards for the one cluster whose dry run you reviewed',
      },
    });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(sent);
    // A dry run with force writes nothing: every cluster may be planned so.
    const dry = (await captureStdout(() => sync({ dryRun: true, force: true }))).result as { clusters: { cluster: string }[] };
    expect(dry.clusters.map((c) => c.cluster)).toEqual(['prod', 'staging']);
  });

  test('without the cluster queue an automatic run fails loudly (retried, dead-lettered), and nothing is queued', async () => {
    delete process.env.SYNCER_CLUSTER_QUEUE_URL;
    try {
      const { error } = await captureStdout(() => sync(iamEvent('e2')));
      expect((error as Error).message).toMatch(/^SYNCER_CLUSTER_QUEUE_URL: not set/);
      expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    } finally {
      process.env.SYNCER_CLUSTER_QUEUE_URL = QUEUE;
    }
  });
});

describe('restore and backups name their cluster', () => {
  test.each([
    [
      () => restore({ backup: 'latest' }),
      'the configuration lists 2 clusters (prod, staging): name one ("cluster" in the payload, --cluster on the command line)',
    ],
    [() => backups({ cluster: 'dev' }), 'cluster "dev" is not in the configuration (prod, staging)'],
  ])('%# → a reply naming the clusters', async (call, message) => {
    const { result } = await captureStdout(call);
    expect(result).toEqual({ outcome: 'error', error: { name: 'InputError', message } });
  });
});

describe('the cluster function', () => {
  const message = {
    version: 1,
    runId: 'r1',
    cluster: 'gone',
    trigger: 'iam',
    eventIds: ['e1'],
    snapshot: { bucket: 'backups-1', key: 'k', sha256: 'a'.repeat(64), size: 1 },
  };

  test('a record that is not a cluster message is thrown (it stays on the queue, then in its dead-letter queue)', async () => {
    const { error } = await captureStdout(() => cluster({ Records: [{ messageId: 'm1', body: '{"version": 2}' }] }));
    expect((error as Error).name).toBe('InputError');
    expect((error as Error).message).toMatch(/^SQS record m1 is not a cluster message: /);
  });

  test('a message for a cluster no longer configured is skipped, not retried', async () => {
    const { result } = await captureStdout(() => cluster({ Records: [{ messageId: 'm1', body: JSON.stringify(message) }] }));
    expect(result).toEqual({ clusters: [{ cluster: 'gone', outcome: 'skipped', reason: 'not in the configuration' }] });
  });
});
