/**
 * S3BackupStore over aws-sdk-client-mock: S3 as a small object map, KMS GenerateMac/VerifyMac as
 * real HMAC-SHA-256 with a local secret (KMS answers an invalid MAC with KMSInvalidMacException,
 * as the real service does). The same attacks run against moto in
 * test/integration/backups-authentic.test.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { keyTime, MAX_LATEST_CANDIDATES, S3BackupStore, signatureMessage } from '../../../lib/adapters/backups-s3.js';
import { BackupError, BackupIntegrityError } from '../../../lib/errors.js';

const s3Mock = mockClient(S3Client);
const kmsMock = mockClient(KMSClient);
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const kms = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/backup-mac';
const SECRET = Buffer.from('only-kms-knows-this');
const cm = (rv = '42') => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: rv },
  data: { mapRoles: '[]\n' },
});
const NOW = new Date('2026-11-28T12:00:00.000Z');

interface Stored {
  body: string;
  meta: Record<string, string>;
}
let objects: Map<string, Stored>;
let headCalls: string[];

const hmac = (message: Uint8Array) => createHmac('sha256', SECRET).update(message).digest();
const kmsError = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => {
  s3Mock.reset();
  kmsMock.reset();
  objects = new Map();
  headCalls = [];
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, { body: input.Body as string, meta: { ...(input.Metadata ?? {}) } });
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const o = objects.get(input.Key);
    if (!o) throw kmsError('NoSuchKey');
    return { Body: { transformToString: async () => o.body }, Metadata: o.meta } as never;
  });
  s3Mock.on(HeadObjectCommand).callsFake((input) => {
    headCalls.push(input.Key);
    const o = objects.get(input.Key);
    if (!o) throw kmsError('NotFound');
    return { Metadata: o.meta, ContentLength: o.body.length };
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input) => ({
    // As S3 does: with a Delimiter, keys in sub-folders of the prefix are not Contents.
    Contents: [...objects.keys()]
      .filter((k) => k.startsWith(input.Prefix!) && !(input.Delimiter && k.slice(input.Prefix!.length).includes(input.Delimiter)))
      .map((Key) => ({ Key, Size: objects.get(Key)!.body.length })),
    IsTruncated: false,
  }));
  kmsMock.on(GenerateMacCommand).callsFake((input) => {
    expect(input).toMatchObject({ KeyId: KEY_ID, MacAlgorithm: 'HMAC_SHA_256' });
    return { Mac: hmac(input.Message), KeyId: KEY_ID, MacAlgorithm: 'HMAC_SHA_256' };
  });
  kmsMock.on(VerifyMacCommand).callsFake((input) => {
    expect(input).toMatchObject({ KeyId: KEY_ID, MacAlgorithm: 'HMAC_SHA_256' });
    const want = hmac(input.Message);
    const got = Buffer.from(input.Mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) throw kmsError('KMSInvalidMacException');
    return { MacValid: true, KeyId: KEY_ID, MacAlgorithm: 'HMAC_SHA_256' };
  });
});

const store = (prefix = 'backups') => new S3BackupStore(s3, kms, { bucket: 'bucket', prefix, macKeyId: KEY_ID });
const save = (at: string, rv = '42', cluster = 'demo', s = store()) =>
  s.save({ cluster, configMap: cm(rv), reason: 'sync', eventIds: ['e1', 'e2'], takenAt: new Date(at) });
/** An object put there by someone else: same shape and a correct checksum, but no KMS behind it. */
function plant(key: string, meta: Record<string, string>, body = `${JSON.stringify(cm('666'), null, 2)}\n`): void {
  objects.set(key, { body, meta });
}

describe('save', () => {
  test('signs the canonical message (body SHA-256, cluster, key, time, resourceVersion, reason) with the configured KMS key', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    expect(rec.key).toBe('backups/demo/2026-11-28T01-02-03.004Z-rv42-sync.json');
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(JSON.parse(put.Body as string)).toEqual(cm());
    expect(Buffer.from(put.ChecksumSHA256!, 'base64').toString('hex')).toBe(rec.sha256);
    expect(put.Metadata).toMatchObject({
      cluster: 'demo',
      'resource-version': '42',
      'event-ids': 'e1,e2',
      sha256: rec.sha256,
      'signature-alg': 'HMAC_SHA_256',
    });
    const message = signatureMessage({
      cluster: 'demo',
      key: rec.key,
      takenAt: '2026-11-28T01:02:03.004Z',
      resourceVersion: '42',
      reason: 'sync',
      sha256: rec.sha256,
    });
    expect(Buffer.from(kmsMock.commandCalls(GenerateMacCommand)[0]!.args[0].input.Message!)).toEqual(message);
    expect(put.Metadata!.signature).toBe(hmac(message).toString('base64'));
  });

  test('the message cannot be shifted between fields (JSON array, not concatenation)', () => {
    const a = signatureMessage({ cluster: 'a', key: 'b/c', takenAt: 't', resourceVersion: '1', reason: 'sync', sha256: 'x' });
    const b = signatureMessage({ cluster: 'a/b', key: 'c', takenAt: 't', resourceVersion: '1', reason: 'sync', sha256: 'x' });
    expect(a.equals(b)).toBe(false);
  });

  test('signing fails (KMS AccessDenied): BackupError, and nothing is put in S3', async () => {
    kmsMock.on(GenerateMacCommand).rejects(kmsError('AccessDeniedException'));
    const err = await save('2026-11-28T01:02:03.004Z').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect((err as Error).message).toMatch(/signing the backup .* AccessDeniedException.*nothing was written to the cluster/);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('S3 refuses the put: BackupError naming the key', async () => {
    s3Mock.on(PutObjectCommand).rejects(kmsError('AccessDenied'));
    await expect(save('2026-11-28T01:02:03.004Z')).rejects.toBeInstanceOf(BackupError);
  });
});

describe('get refuses what the syncer did not write, or what changed since', () => {
  test('a backup as written verifies and reads back exactly', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    const got = await store().get(rec.key);
    expect(got.configMap).toEqual(cm());
    expect(got.record).toMatchObject({ cluster: 'demo', resourceVersion: '42', eventIds: ['e1', 'e2'], sha256: rec.sha256 });
  });

  test('no signature, even with a matching checksum', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    const { signature: _s, ...meta } = objects.get(rec.key)!.meta;
    objects.get(rec.key)!.meta = meta;
    await expect(store().get(rec.key)).rejects.toThrow(/not one the syncer wrote.*carries no signature.*refusing to restore it/);
  });

  test('a wrong signature', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    objects.get(rec.key)!.meta.signature = Buffer.alloc(32, 7).toString('base64');
    const err = await store()
      .get(rec.key)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupIntegrityError);
    expect((err as Error).message).toMatch(/signature does not verify/);
  });

  test('body altered and its checksum recomputed (checksum right, signature over the old one)', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    const o = objects.get(rec.key)!;
    o.body = `${JSON.stringify({ ...cm(), data: { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/evil\n  groups: [system:masters]\n' } }, null, 2)}\n`;
    o.meta.sha256 = (await import('node:crypto')).createHash('sha256').update(o.body).digest('hex');
    await expect(store().get(rec.key)).rejects.toThrow(/signature does not verify/);
  });

  test('body altered, metadata kept: the signed checksum catches it', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    objects.get(rec.key)!.body = objects.get(rec.key)!.body.replace('[]', '[ ]');
    await expect(store().get(rec.key)).rejects.toThrow(/altered after the syncer wrote it/);
  });

  test('signed metadata edited (resourceVersion, time, cluster)', async () => {
    for (const [field, value] of [
      ['resource-version', '1'],
      ['taken-at', '2030-01-01T00:00:00.000Z'],
      ['cluster', 'other'],
    ] as const) {
      const rec = await save('2026-11-28T01:02:03.004Z');
      objects.get(rec.key)!.meta[field] = value;
      await expect(store().get(rec.key)).rejects.toThrow(/signature does not verify/);
    }
  });

  test("another cluster's backup copied under this cluster's prefix (signature valid for its old key only)", async () => {
    const other = await save('2026-11-28T01:02:03.004Z', '42', 'other');
    const copyKey = other.key.replace('/other/', '/demo/');
    objects.set(copyKey, structuredClone(objects.get(other.key)!));
    await expect(store().get(copyKey)).rejects.toThrow(/signature does not verify/);
    // The original, under its own key, still verifies (restore then refuses it for the wrong cluster).
    expect((await store().get(other.key)).record.cluster).toBe('other');
  });

  test('KMS cannot be asked (AccessDenied): an error, never a verdict either way', async () => {
    const rec = await save('2026-11-28T01:02:03.004Z');
    kmsMock.on(VerifyMacCommand).rejects(kmsError('AccessDeniedException'));
    const err = await store()
      .get(rec.key)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupError);
    expect(err).not.toBeInstanceOf(BackupIntegrityError);
    expect((err as Error).message).toMatch(/could not verify the signature .* AccessDeniedException/);
  });

  test('a missing key', async () => {
    await expect(store().get('backups/demo/nope.json')).rejects.toThrow(/does not exist/);
  });
});

describe('latest: the newest backup the syncer wrote, never one dated in the future', () => {
  test('newest by key, across planted, future-dated and copied objects', async () => {
    const good = await save('2026-11-28T10:00:00.000Z', '10');
    await save('2026-11-28T09:00:00.000Z', '9');
    const other = await save('2026-11-28T11:30:00.000Z', '50', 'other');
    // A genuine backup with a clock far ahead (or planted with a date far ahead).
    const future = await save('2027-01-01T00:00:00.000Z', '99');
    plant(`backups/demo/2099-01-01T00-00-00.000Z-rv1-sync.json`, { format: 'aws-auth-syncer/configmap@1', cluster: 'demo' });
    // Newer than `good`: unsigned; wrongly signed; copied from another cluster.
    const unsignedKey = `backups/demo/${keyTime(new Date('2026-11-28T11:00:00.000Z'))}-rv11-sync.json`;
    plant(unsignedKey, { ...objects.get(good.key)!.meta, signature: '' });
    const forgedKey = `backups/demo/${keyTime(new Date('2026-11-28T11:10:00.000Z'))}-rv12-sync.json`;
    plant(forgedKey, { ...objects.get(good.key)!.meta, signature: Buffer.alloc(32, 1).toString('base64') });
    const copiedKey = other.key.replace('/other/', '/demo/');
    objects.set(copiedKey, structuredClone(objects.get(other.key)!));

    const r = await store().latest('demo', NOW);
    expect(r.record?.key).toBe(good.key);
    expect(r.record).toMatchObject({ cluster: 'demo', resourceVersion: '10', sha256: good.sha256 });
    expect(r.skipped.map((s) => s.key)).toEqual([`backups/demo/2099-01-01T00-00-00.000Z-rv1-sync.json`, future.key, copiedKey, forgedKey, unsignedKey]);
    expect(r.skipped[0]!.reason).toMatch(/dated 2099-01-01T00:00:00.000Z, after now/);
    expect(r.skipped[1]!.reason).toMatch(/after now/);
    expect(r.skipped[2]!.reason).toMatch(/signature does not verify/);
    expect(r.skipped[3]!.reason).toMatch(/signature does not verify/);
    expect(r.skipped[4]!.reason).toMatch(/carries no signature/);
    // Future-dated keys cost no request; each checked candidate one HeadObject (+ one VerifyMac).
    expect(headCalls).toEqual([copiedKey, forgedKey, unsignedKey, good.key]);
  });

  test('a backup a few minutes "ahead" (clock skew between writer and reader) still counts', async () => {
    const ahead = await save('2026-11-28T12:04:00.000Z');
    expect((await store().latest('demo', NOW)).record?.key).toBe(ahead.key);
  });

  test('nothing verifiable: no record, and every object passed over is named', async () => {
    plant(`backups/demo/${keyTime(new Date('2026-11-28T11:00:00.000Z'))}-rv1-sync.json`, { format: 'aws-auth-syncer/configmap@1' });
    plant('backups/demo/notes.txt', {});
    const r = await store().latest('demo', NOW);
    expect(r.record).toBeUndefined();
    expect(r.skipped.map((s) => s.reason)).toEqual(['its name is not a backup key', expect.stringMatching(/carries no signature/)]);
  });

  test(`checks at most ${MAX_LATEST_CANDIDATES} candidates, then says so`, async () => {
    const good = await save('2026-11-01T00:00:00.000Z');
    for (let i = 0; i < MAX_LATEST_CANDIDATES + 3; i++)
      plant(`backups/demo/${keyTime(new Date(Date.UTC(2026, 10, 2, 0, i)))}-rv${i}-sync.json`, { format: 'aws-auth-syncer/configmap@1' });
    const r = await store().latest('demo', NOW);
    expect(r.record).toBeUndefined();
    expect(headCalls).toHaveLength(MAX_LATEST_CANDIDATES);
    expect(r.skipped.at(-1)!.reason).toMatch(/not checked.*name a backup key explicitly/);
    expect(headCalls).not.toContain(good.key);
  });
});

describe('list', () => {
  test('newest first across pages, from key names (cheap: one ListObjectsV2 per 1000)', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: `p/demo/${keyTime(new Date(1000))}-rv1-sync.json`, Size: 5 }], IsTruncated: true, NextContinuationToken: 't' })
      .on(ListObjectsV2Command, { ContinuationToken: 't' })
      .resolves({ Contents: [{ Key: `p/demo/${keyTime(new Date(2000))}-rv2-restore.json`, Size: 6 }], IsTruncated: false });
    const list = await store('p').list('demo');
    expect(list.map((b) => [b.resourceVersion, b.reason, b.takenAt])).toEqual([
      ['2', 'restore', '1970-01-01T00:00:02.000Z'],
      ['1', 'sync', '1970-01-01T00:00:01.000Z'],
    ]);
  });
});

describe('access-entries backups: their own kind, aws-auth backups unchanged', () => {
  const entries = {
    entries: [
      {
        principalArn: 'arn:aws:iam::111122223333:user/alice',
        kubernetesGroups: ['devs'],
        username: 'alice',
        type: 'STANDARD',
        tags: { 'aws-auth-syncer.io/owned': 'demo' },
        createdAt: Date.parse('2026-11-01T00:00:00Z'),
      },
    ],
    policies: {
      'arn:aws:iam::111122223333:user/alice': [
        { policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', scope: { type: 'namespace' as const, namespaces: ['a'] } },
      ],
    },
  };
  const saveEntries = (at: string, s = store()) => s.saveEntries({ cluster: 'demo', entries, reason: 'sync', eventIds: ['e1'], takenAt: new Date(at) });

  test('round trip under access-entries/, signed with its own context; verified like aws-auth backups', async () => {
    const rec = await saveEntries('2026-11-28T01:02:03.004Z');
    expect(rec.key).toBe('backups/demo/access-entries/2026-11-28T01-02-03.004Z-rve1-sync.json');
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Metadata).toMatchObject({ format: 'aws-auth-syncer/access-entries@1', 'resource-version': 'e1' });
    const message = signatureMessage(
      { cluster: 'demo', key: rec.key, takenAt: '2026-11-28T01:02:03.004Z', resourceVersion: 'e1', reason: 'sync', sha256: rec.sha256 },
      'aws-auth-syncer/access-entries-backup-signature@1',
    );
    expect(Buffer.from(kmsMock.commandCalls(GenerateMacCommand)[0]!.args[0].input.Message!)).toEqual(message);
    expect((await store().getEntries(rec.key)).entries).toEqual(entries);
    const body = objects.get(rec.key)!;
    objects.set(rec.key, { ...body, body: body.body.replace('"devs"', '"admins"') });
    await expect(store().getEntries(rec.key)).rejects.toThrow(/altered after the syncer wrote it/);
  });

  test('neither kind passes as the other; aws-auth listing and latest ignore access-entries backups', async () => {
    const aws = await save('2026-11-28T01:00:00.000Z');
    const ent = await saveEntries('2026-11-28T02:00:00.000Z');
    await expect(store().get(ent.key)).rejects.toThrow(/an access-entries backup, not an aws-auth one/);
    await expect(store().getEntries(aws.key)).rejects.toThrow(/an aws-auth backup, not an access-entries one/);
    // Copied into the other kind's folder: the format still says what it is.
    objects.set(`backups/demo/${keyTime(new Date('2026-11-28T03:00:00Z'))}-rve1-sync.json`, objects.get(ent.key)!);
    expect((await store().list('demo')).map((b) => b.key)).toEqual([`backups/demo/${keyTime(new Date('2026-11-28T03:00:00Z'))}-rve1-sync.json`, aws.key]);
    const latest = await store().latest('demo', new Date('2026-11-28T04:00:00Z'));
    expect(latest.record?.key).toBe(aws.key);
    expect(latest.skipped.map((s) => s.reason)).toEqual(['an access-entries backup, not an aws-auth one']);
    expect((await store().latestEntries('demo', new Date('2026-11-28T04:00:00Z'))).record?.key).toBe(ent.key);
    expect((await store().listEntries('demo')).map((b) => [b.key, b.resourceVersion])).toEqual([[ent.key, 'e1']]);
  });
});
