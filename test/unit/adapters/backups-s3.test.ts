import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { keyTime, S3BackupStore } from '../../../lib/adapters/backups-s3.js';
import { BackupError, BackupIntegrityError } from '../../../lib/errors.js';

const s3Mock = mockClient(S3Client);
const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '42' }, data: { mapRoles: '[]\n' } };
/** The part of the SDK's stream body the adapter uses. */
const body = (text: string) => ({ transformToString: async () => text });

beforeEach(() => {
  s3Mock.reset();
});

describe('S3BackupStore', () => {
  test('save: time-sortable key under the cluster prefix, checksum and event ids in metadata', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3BackupStore(client, 'bucket', 'backups/');
    const rec = await store.save({ cluster: 'demo', configMap: cm, reason: 'sync', eventIds: ['e1', 'e2'], takenAt: new Date('2026-11-28T01:02:03.004Z') });
    expect(rec.key).toBe('backups/demo/2026-11-28T01-02-03.004Z-rv42-sync.json');
    const input = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(JSON.parse(input.Body as string)).toEqual(cm);
    expect(input.Metadata).toMatchObject({ cluster: 'demo', 'resource-version': '42', 'event-ids': 'e1,e2', sha256: rec.sha256 });
    expect(Buffer.from(input.ChecksumSHA256!, 'base64').toString('hex')).toBe(rec.sha256);
  });

  test('save failure is a BackupError naming the key', async () => {
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const store = new S3BackupStore(client, 'bucket', 'p');
    await expect(store.save({ cluster: 'demo', configMap: cm, reason: 'sync', eventIds: [], takenAt: new Date(0) })).rejects.toBeInstanceOf(BackupError);
  });

  test('list: newest first across pages; get: refuses a body that no longer matches its checksum', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: `p/demo/${keyTime(new Date(1000))}-rv1-sync.json`, Size: 5 }], IsTruncated: true, NextContinuationToken: 't' })
      .on(ListObjectsV2Command, { ContinuationToken: 't' })
      .resolves({ Contents: [{ Key: `p/demo/${keyTime(new Date(2000))}-rv2-restore.json`, Size: 6 }], IsTruncated: false });
    const store = new S3BackupStore(client, 'bucket', 'p');
    const list = await store.list('demo');
    expect(list.map((b) => [b.resourceVersion, b.reason, b.takenAt])).toEqual([
      ['2', 'restore', '1970-01-01T00:00:02.000Z'],
      ['1', 'sync', '1970-01-01T00:00:01.000Z'],
    ]);

    const text = `${JSON.stringify(cm, null, 2)}\n`;
    s3Mock.on(PutObjectCommand).resolves({});
    const rec = await store.save({ cluster: 'demo', configMap: cm, reason: 'sync', eventIds: [], takenAt: new Date(0) });
    const meta = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.Metadata;
    s3Mock.on(GetObjectCommand).resolves({ Body: body(text), Metadata: meta } as never);
    expect((await store.get(rec.key)).configMap).toEqual(cm);
    s3Mock.on(GetObjectCommand).resolves({ Body: body(text.replace('[]', '[ ]')), Metadata: meta } as never);
    await expect(store.get(rec.key)).rejects.toBeInstanceOf(BackupIntegrityError);
  });
});
