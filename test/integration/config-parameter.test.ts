/**
 * Configuration without redeploys, on the real stack: the config lives in moto's SSM Parameter
 * Store (String and SecureString), the sync handler — one warm "container" (this process's
 * module) — reads and validates it on every invocation, a bad edit writes nothing and is
 * counted (ConfigInvalid, EMF), the next good edit is applied without a restart, and every
 * applied change is published to a topic (moto SNS → an SQS queue we read back).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CONFIG_CACHE_MS } from '../../lib/adapters/ssm-config.js';
import { METRIC } from '../../lib/app/observe.js';
import { getAwsAuth, putAwsAuth, stack, unique } from './support/stack.js';
import { clients } from './support/stack.js';
import { createGroup, createUser, createVersionedBucket, ACCOUNT } from './support/seed.js';
import { actAsSyncer } from './support/live.js';
import { backupMacKey } from './support/kms.js';
import { captureStdout, emfOf, logsOf, points } from '../support/emf.js';

type Handler = (event: unknown, context?: unknown) => Promise<any>;

const run = unique('cfg');
const tagPrefix = unique('t');
const bucket = unique('cfg');
const parameter = `/eks/aws-auth-syncer/${run}`;
const saved = { ...process.env };
const admin = { accessKeyId: 'AKIAADMIN0000000TEST', secretAccessKey: 'admin-secret' };
let sync: Handler;
let ssm: SSMClient;
let sqs: SQSClient;
let queueUrl: string;

const config = (group: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cluster: stack().cluster, tagPrefix, groupMappings: [{ iamGroup: group, kubernetesGroups: ['devs'] }], ...extra });
const putConfig = (value: string, type: 'String' | 'SecureString' = 'String') =>
  ssm.send(new PutParameterCommand({ Name: parameter, Value: value, Type: type, Overwrite: true }));
const sqsBatch = () => ({
  Records: [
    {
      messageId: unique('m'),
      body: JSON.stringify({
        id: unique('e'),
        source: 'aws.iam',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'AddUserToGroup', eventID: unique('ct') },
      }),
    },
  ],
});
const userArns = async () =>
  ((await getAwsAuth()).data.mapUsers as string)
    .split('\n')
    .filter((l) => l.includes(`:user/${run}-`))
    .map((l) => l.replace(/.*:user\//, ''));
/** Past the parameter cache, so the next invocation must ask SSM again. */
const pastCache = () => new Promise((r) => setTimeout(r, CONFIG_CACHE_MS + 200));

async function notices(): Promise<any[]> {
  const out: any[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of r.Messages ?? []) out.push(JSON.parse(m.Body!));
    if (out.length > 0 && !(r.Messages ?? []).length) break;
  }
  return out;
}

beforeAll(async () => {
  const s = stack();
  const { iam, s3 } = clients();
  ssm = new SSMClient({ region: s.region, endpoint: s.motoEndpoint, credentials: admin });
  sqs = new SQSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: admin });
  const sns = new SNSClient({ region: s.region, endpoint: s.motoEndpoint, credentials: admin });
  await createVersionedBucket(s3, bucket);
  for (const g of ['a', 'b']) await createGroup(iam, `${run}-${g}`);
  await createUser(iam, `${run}-alice`, { groups: [`${run}-a`] });
  await createUser(iam, `${run}-bob`, { groups: [`${run}-b`] });
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: `${run}-changes` }))).TopicArn!;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${run}-notices` }))).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' } }));

  // The Lambda environment serverless.yml sets up (configParameter and notifyChanges on).
  await actAsSyncer();
  process.env.SYNCER_CONFIG_PARAMETER = parameter;
  process.env.SYNCER_CHANGE_TOPIC_ARN = topicArn;
  process.env.BACKUP_BUCKET = bucket;
  process.env.BACKUP_MAC_KEY = (await backupMacKey()).id;
  delete process.env.SYNCER_CONFIG;
  delete process.env.SYNCER_CONFIG_FILE;
  sync = (await import('../../handlers/sync.js')).handler as Handler;
}, 120000);

afterAll(async () => {
  await ssm.send(new DeleteParameterCommand({ Name: parameter })).catch(() => undefined);
  process.env = saved;
});

describe('config from SSM Parameter Store (moto), read on every invocation', () => {
  test('a good parameter is applied, and the change is published with its diff', async () => {
    await putAwsAuth({});
    await putConfig(config(`${run}-a`));
    const { lines, result } = await captureStdout(() => sync({}));
    expect(result).toMatchObject({ outcome: 'replaced' });
    expect(await userArns()).toEqual([`${run}-alice`]);
    // metrics of the run, per cluster
    const emf = emfOf(lines);
    expect(points(emf, 'SyncReplaced')[0]!.dims).toEqual({ service: 'aws-auth-syncer', cluster: stack().cluster, trigger: 'manual' });
    expect(points(emf, METRIC.identitiesAdded)[0]!.value).toBe(1);
    // the notice, as delivered by SNS
    const [notice] = await notices();
    expect(notice).toMatchObject({ cluster: stack().cluster, outcome: 'replaced', trigger: 'manual', summary: { entriesAdded: 1, identitiesAdded: 1 } });
    expect(notice.diff[0]).toBe(`+ mapUsers arn:aws:iam::${ACCOUNT}:user/${run}-alice username="${run}-alice" groups=[devs]`);
  }, 60000);

  test('a bad edit: the automatic run fails and writes nothing, ConfigInvalid is counted; a person gets a reply naming the field', async () => {
    const before = await getAwsAuth();
    await putConfig(config(`${run}-b`, { guards: { maxRemovals: 'ten' } }));
    await pastCache();
    const auto = await captureStdout(() => sync(sqsBatch()));
    expect((auto.error as Error).name).toBe('ConfigError');
    expect((auto.error as Error).message).toBe(`invalid SSM parameter ${parameter}:\n  guards.maxRemovals: Invalid input: expected number, received string`);
    expect(points(emfOf(auto.lines), METRIC.configInvalid).map((p) => p.value)).toEqual([1]);
    expect(logsOf(auto.lines).some((l) => l.level === 'ERROR' && String(l.message).startsWith('sync failed: invalid SSM parameter'))).toBe(true);
    const manual = await captureStdout(() => sync({ dryRun: true }));
    expect(manual.result).toEqual({ outcome: 'error', error: { name: 'ConfigError', message: (auto.error as Error).message } });
    const after = await getAwsAuth();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(await notices()).toEqual([]);
  }, 60000);

  test('the next good edit (a SecureString) is applied by the same warm handler, without a restart', async () => {
    await putConfig(config(`${run}-b`), 'SecureString');
    await pastCache();
    const { result } = await captureStdout(() => sync(sqsBatch()));
    expect(result).toMatchObject({ outcome: 'replaced' });
    // alice's group is no longer mapped, bob's is
    expect(await userArns()).toEqual([`${run}-bob`]);
    const [notice] = await notices();
    expect(notice).toMatchObject({ trigger: 'iam', summary: { entriesAdded: 1, entriesRemoved: 1, identitiesAdded: 1, identitiesRemoved: 1 } });
  }, 60000);

  test('a deleted parameter: a clear error naming it, nothing written', async () => {
    const before = await getAwsAuth();
    await ssm.send(new DeleteParameterCommand({ Name: parameter }));
    await pastCache();
    const { result, lines } = await captureStdout(() => sync({}));
    expect(result).toEqual({
      outcome: 'error',
      error: { name: 'ConfigError', message: `SSM parameter ${parameter} (SYNCER_CONFIG_PARAMETER) does not exist` },
    });
    expect(points(emfOf(lines), METRIC.configInvalid).map((p) => p.value)).toEqual([1]);
    expect((await getAwsAuth()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  }, 60000);
});
