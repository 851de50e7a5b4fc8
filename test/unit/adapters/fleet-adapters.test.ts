/**
 * The fleet's adapters over aws-sdk-client-mock: the S3 snapshot store (exact version, SHA-256
 * refused when it differs), the SQS FIFO cluster queue (message group = cluster, batches of 10,
 * per-entry failures), the assumed-role credentials of a cluster in another account — and the
 * IAM calls of one run over several clusters, counted against one discovery per cluster.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assumedRoleCredentials, sessionNameFor } from '../../../lib/adapters/assume-role.js';
import { SqsClusterQueue } from '../../../lib/adapters/cluster-queue.js';
import { IamAuthorizationDetailsDirectory } from '../../../lib/adapters/iam.js';
import { S3SnapshotStore, SNAPSHOT_FORMAT } from '../../../lib/adapters/snapshots-s3.js';
import { deduplicationId, fanOutClusters } from '../../../lib/app/fleet.js';
import type { ClusterMessage } from '../../../lib/app/ports.js';
import { BackupError, BackupIntegrityError, ClusterAccessError } from '../../../lib/errors.js';
import { fixedClock, iam, MemoryClusterQueue, MemoryLog, MemorySnapshotStore } from '../../support/memory.js';

const creds = { accessKeyId: 'a', secretAccessKey: 'b' };
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
const stsMock = mockClient(STSClient);
const iamMock = mockClient(IAMClient);
/** A GetObject body as the SDK hands it over (only transformToString is used). */
const body = (text: string) => ({ transformToString: async () => text }) as never;

beforeEach(() => {
  s3Mock.reset();
  sqsMock.reset();
  stsMock.reset();
  iamMock.reset();
});

describe('S3SnapshotStore', () => {
  const snapshot = iam({ groups: ['devs'], users: [{ name: 'alice', groups: ['devs'] }] });
  const store = () => new S3SnapshotStore(new S3Client({ region: 'us-east-1', credentials: creds }), { bucket: 'backups-1', prefix: 'aws-auth-backups' });

  test('writes under <prefix>/_iam-snapshots/ with its SHA-256 (S3 checks the upload too) and returns the version written', async () => {
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v7' });
    const ref = await store().put(snapshot, { runId: 'run-1', takenAt: new Date('2026-11-28T12:00:00.000Z') });
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Key).toBe('aws-auth-backups/_iam-snapshots/2026-11-28T12-00-00.000Z-run-1.json');
    expect(put.Metadata).toEqual({ format: SNAPSHOT_FORMAT, 'run-id': 'run-1', sha256: ref.sha256 });
    expect(Buffer.from(put.ChecksumSHA256!, 'base64').toString('hex')).toBe(ref.sha256);
    expect(ref).toEqual({ bucket: 'backups-1', key: put.Key, versionId: 'v7', sha256: ref.sha256, size: Buffer.byteLength(put.Body as string) });
  });

  test('reads exactly the version referenced; a body with another SHA-256 is refused', async () => {
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v7' });
    const ref = await store().put(snapshot, { runId: 'run-1', takenAt: new Date() });
    const text = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as string;
    s3Mock.on(GetObjectCommand, { Bucket: 'backups-1', Key: ref.key, VersionId: 'v7' }).callsFake(() => ({ Body: body(text), LastModified: new Date() }));
    expect(await store().get(ref)).toEqual(snapshot);
    const swapped = text.replace('alice', 'mallo');
    s3Mock.on(GetObjectCommand, { Bucket: 'backups-1', Key: ref.key, VersionId: 'v7' }).callsFake(() => ({ Body: body(swapped), LastModified: new Date() }));
    await expect(store().get(ref)).rejects.toThrow(BackupIntegrityError);
    await expect(store().get(ref)).rejects.toThrow(
      /is not the one the run stored \(SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}\); nothing was planned from it/,
    );
  });

  test('a snapshot written more than 6 hours ago is refused: an old message replayed cannot bring back removed access', async () => {
    s3Mock.on(PutObjectCommand).resolves({ VersionId: 'v7' });
    const now = new Date('2026-11-28T12:00:00.000Z');
    const s = new S3SnapshotStore(new S3Client({ region: 'us-east-1', credentials: creds }), {
      bucket: 'backups-1',
      prefix: 'aws-auth-backups',
      now: () => now,
    });
    const ref = await s.put(snapshot, { runId: 'run-1', takenAt: now });
    const text = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as string;
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: body(text), LastModified: new Date(now.getTime() - 5.9 * 3600_000) }));
    expect(await s.get(ref)).toEqual(snapshot);
    s3Mock.on(GetObjectCommand).callsFake(() => ({ Body: body(text), LastModified: new Date(now.getTime() - 6.1 * 3600_000) }));
    await expect(s.get(ref)).rejects.toThrow(BackupIntegrityError);
    await expect(s.get(ref)).rejects.toThrow(/was written 2026-11-28T05:54:00.000Z, more than 6 h before now: a run that old is not replayed/);
  });

  test('S3 failures name the object', async () => {
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(store().put(snapshot, { runId: 'r', takenAt: new Date('2026-11-28T12:00:00.000Z') })).rejects.toThrow(BackupError);
    await expect(store().put(snapshot, { runId: 'r', takenAt: new Date('2026-11-28T12:00:00.000Z') })).rejects.toThrow(
      'storing the IAM snapshot at s3://backups-1/aws-auth-backups/_iam-snapshots/2026-11-28T12-00-00.000Z-r.json failed: AccessDenied: Access Denied; no cluster was queued',
    );
  });
});

describe('SqsClusterQueue', () => {
  const URL = 'https://sqs.us-east-1.amazonaws.com/111122223333/aws-auth-syncer-clusters.fifo';
  const messages = (n: number): ClusterMessage[] =>
    Array.from({ length: n }, (_, i) => ({
      version: 1,
      runId: 'run-1',
      cluster: `c${i}`,
      trigger: 'iam',
      eventIds: ['e1'],
      snapshot: { bucket: 'b-1', key: 'k', sha256: 'a'.repeat(64), size: 1 },
    }));

  test('one message group per cluster, a deduplication id per run and cluster, 10 entries per call', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const r = await new SqsClusterQueue(new SQSClient({ region: 'us-east-1', credentials: creds }), URL).send(messages(12));
    expect(r.failed).toEqual([]);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 2]);
    const entry = calls[1]!.Entries![1]!;
    expect(entry).toEqual({
      Id: '1',
      MessageGroupId: 'c11',
      MessageDeduplicationId: deduplicationId({ runId: 'run-1', cluster: 'c11' }),
      MessageBody: JSON.stringify(messages(12)[11]),
    });
    expect(calls.every((c) => c.QueueUrl === URL)).toBe(true);
  });

  test('entries SQS refuses, and batches that fail as a whole, are reported by cluster', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '3', Code: 'InternalError', SenderFault: false, Message: 'try again' }] })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const r = await new SqsClusterQueue(new SQSClient({ region: 'us-east-1', credentials: creds }), URL).send(messages(11));
    expect(r.failed).toEqual([
      { cluster: 'c3', reason: 'InternalError: try again' },
      { cluster: 'c10', reason: 'ThrottlingException: Rate exceeded' },
    ]);
  });
});

describe('assumedRoleCredentials (a cluster in another account)', () => {
  const ROLE = 'arn:aws:iam::222233334444:role/aws-auth-syncer-access';
  test('one AssumeRole with a session name naming the syncer and the cluster, reused until 5 minutes before it expires', async () => {
    const clock = {
      t: Date.parse('2026-11-28T12:00:00.000Z'),
      now() {
        return new Date(this.t);
      },
    };
    let n = 0;
    stsMock.on(AssumeRoleCommand).callsFake(() => ({
      Credentials: { AccessKeyId: `ASIA${++n}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(clock.t + 15 * 60 * 1000) },
    }));
    const provider = assumedRoleCredentials(new STSClient({ region: 'us-east-1', credentials: creds }), ROLE, 'prod', clock);
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.t += 9 * 60 * 1000;
    expect((await provider()).accessKeyId).toBe('ASIA1');
    clock.t += 2 * 60 * 1000; // 4 minutes left: renewed
    expect((await provider()).accessKeyId).toBe('ASIA2');
    expect(stsMock.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'aws-auth-syncer-prod', DurationSeconds: 900 },
      { RoleArn: ROLE, RoleSessionName: 'aws-auth-syncer-prod', DurationSeconds: 900 },
    ]);
    expect(sessionNameFor('x'.repeat(100))).toHaveLength(64);
  });

  test('a role that cannot be assumed is a cluster access error naming the role and the cluster; the next call asks again', async () => {
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }))
      .resolves({
        Credentials: { AccessKeyId: 'ASIA9', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3600_000) },
      });
    const provider = assumedRoleCredentials(new STSClient({ region: 'us-east-1', credentials: creds }), ROLE, 'prod', fixedClock(new Date().toISOString()));
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect((err as Error).message).toBe(`could not assume ${ROLE} for cluster prod: AccessDenied: not authorized to perform sts:AssumeRole`);
    expect((await provider()).accessKeyId).toBe('ASIA9');
  });
});

describe('IAM calls per run: one discovery for every cluster', () => {
  test('5 clusters, IAM in 3 pages: 3 GetAccountAuthorizationDetails calls per run, against 15 for one discovery per cluster', async () => {
    const page = (i: number, last: boolean) => ({
      UserDetailList: [
        { UserName: `u${i}`, UserId: `AIDA${i}`, Arn: `arn:aws:iam::111122223333:user/u${i}`, Path: '/', CreateDate: new Date(), GroupList: [], Tags: [] },
      ],
      RoleDetailList: [],
      GroupDetailList: [],
      IsTruncated: !last,
      ...(last ? {} : { Marker: `m${i}` }),
    });
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .callsFake((input: { Marker?: string }) => (input.Marker === undefined ? page(0, false) : input.Marker === 'm0' ? page(1, false) : page(2, true)));
    const client = new IAMClient({ region: 'us-east-1', credentials: creds });
    const clusters = ['a', 'b', 'c', 'd', 'e'];

    const queue = new MemoryClusterQueue();
    await fanOutClusters(
      { iam: new IamAuthorizationDetailsDirectory(client), snapshots: new MemorySnapshotStore(), queue, clock: fixedClock(), log: new MemoryLog() },
      { clusters, trigger: 'schedule', eventIds: ['s1'], runId: 'r1' },
    );
    const fleetCalls = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand).length;
    expect(queue.sent).toHaveLength(5);

    // The same account, one stack per cluster: each does its own discovery.
    iamMock.resetHistory();
    for (const _ of clusters) await new IamAuthorizationDetailsDirectory(client).readSnapshot();
    const perClusterCalls = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand).length;

    console.log(
      `IAM GetAccountAuthorizationDetails calls for ${clusters.length} clusters, 3 pages: ${fleetCalls} per fleet run, ${perClusterCalls} with one discovery per cluster`,
    );
    expect([fleetCalls, perClusterCalls]).toEqual([3, 15]);
  });
});
