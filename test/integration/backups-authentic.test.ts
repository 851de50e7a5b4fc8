/**
 * Backups are authentic, on moto S3 + KMS (real HMACs: GenerateMac/VerifyMac with an HMAC_256
 * key). Each attack is what someone with write access to the bucket — but not to the syncer's KMS
 * key — can do with plain S3 calls; the bucket policy that keeps them out in AWS is the first
 * layer (moto does not evaluate principal conditions in bucket policies, so that layer is checked
 * on the template); these signatures are the second, and hold without it.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { keyTime, S3BackupStore } from '../../lib/adapters/backups-s3.js';
import { restoreAwsAuth } from '../../lib/app/restore.js';
import { BackupIntegrityError } from '../../lib/errors.js';
import { createMacKey, kmsClient } from './support/kms.js';
import { liveDeps } from './support/live.js';
import { createVersionedBucket } from './support/seed.js';
import { clients, getAwsAuth, putAwsAuth, stack, unique } from './support/stack.js';

const PREFIX = 'aws-auth-backups';
const cm = (rv: string, mapRoles = '[]\n') => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: rv },
  data: { mapRoles },
});
const EVIL = '- rolearn: arn:aws:iam::123456789012:role/mallory\n  username: mallory\n  groups:\n    - system:masters\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const bodyOf = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;

let bucket: string;
let macKeyId: string;
let store: S3BackupStore;

beforeAll(async () => {
  bucket = unique('authentic');
  await createVersionedBucket(clients().s3, bucket);
  macKeyId = (await createMacKey('aws-auth-syncer backups (this deployment)')).id;
  store = new S3BackupStore(clients().s3, kmsClient(), { bucket, prefix: PREFIX, macKeyId });
});

/** Someone with s3:PutObject on the bucket, and nothing else, writes an object. */
async function plant(key: string, body: string, metadata: Record<string, string>): Promise<void> {
  await clients().s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
}
async function metaOf(key: string): Promise<Record<string, string>> {
  return (await clients().s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
}
const keyAt = (cluster: string, iso: string, rv: string) => `${PREFIX}/${cluster}/${keyTime(new Date(iso))}-rv${rv}-sync.json`;

describe('restore refuses what the syncer did not write, or what changed since (moto S3 + KMS)', () => {
  test('genuine: written by the store, read back and verified by KMS', async () => {
    const rec = await store.save({ cluster: 'c1', configMap: cm('1'), reason: 'sync', eventIds: ['e1'], takenAt: new Date('2026-01-01T00:00:00Z') });
    const got = await store.get(rec.key);
    expect(got.configMap).toEqual(cm('1'));
    expect((await metaOf(rec.key)).signature).toMatch(/^[A-Za-z0-9+/]{43}=$/); // 32-byte HMAC-SHA-256
  });

  test('planted without a signature, checksum right', async () => {
    const body = bodyOf(cm('2', EVIL));
    const key = keyAt('c1', '2026-01-02T00:00:00Z', '2');
    await plant(key, body, {
      format: 'aws-auth-syncer/configmap@1',
      cluster: 'c1',
      reason: 'sync',
      'resource-version': '2',
      'taken-at': '2026-01-02T00:00:00.000Z',
      sha256: sha256(body),
    });
    const err = await store.get(key).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupIntegrityError);
    expect((err as Error).message).toMatch(/carries no signature/);
  });

  test('planted with a made-up signature', async () => {
    const body = bodyOf(cm('3', EVIL));
    const key = keyAt('c1', '2026-01-03T00:00:00Z', '3');
    await plant(key, body, {
      format: 'aws-auth-syncer/configmap@1',
      cluster: 'c1',
      reason: 'sync',
      'resource-version': '3',
      'taken-at': '2026-01-03T00:00:00.000Z',
      sha256: sha256(body),
      signature: randomBytes(32).toString('base64'),
      'signature-alg': 'HMAC_SHA_256',
    });
    await expect(store.get(key)).rejects.toThrow(/signature does not verify/);
  });

  test("signed with another KMS HMAC key (the attacker's own, or another deployment's)", async () => {
    const theirs = new S3BackupStore(clients().s3, kmsClient(), { bucket, prefix: PREFIX, macKeyId: (await createMacKey('someone else')).id });
    const rec = await theirs.save({ cluster: 'c1', configMap: cm('4', EVIL), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-04T00:00:00Z') });
    await expect(theirs.get(rec.key)).resolves.toBeDefined(); // valid under their key…
    await expect(store.get(rec.key)).rejects.toThrow(/signature does not verify/); // …not under ours
  });

  test('a genuine backup overwritten with another body and a recomputed checksum (checksum right)', async () => {
    const rec = await store.save({ cluster: 'c1', configMap: cm('5'), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-05T00:00:00Z') });
    const meta = await metaOf(rec.key);
    const body = bodyOf(cm('5', EVIL));
    await plant(rec.key, body, { ...meta, sha256: sha256(body) });
    await expect(store.get(rec.key)).rejects.toThrow(/signature does not verify/);
  });

  test('a genuine backup overwritten with another body, metadata kept', async () => {
    const rec = await store.save({ cluster: 'c1', configMap: cm('6'), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-06T00:00:00Z') });
    await plant(rec.key, bodyOf(cm('6', EVIL)), await metaOf(rec.key));
    await expect(store.get(rec.key)).rejects.toThrow(/altered after the syncer wrote it/);
  });

  test("another cluster's genuine backup copied into this cluster's prefix", async () => {
    const other = await store.save({ cluster: 'c2', configMap: cm('7', EVIL), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-07T00:00:00Z') });
    const copy = other.key.replace(`/c2/`, '/c1/');
    await clients().s3.send(new CopyObjectCommand({ Bucket: bucket, Key: copy, CopySource: `${bucket}/${other.key}`, MetadataDirective: 'COPY' }));
    expect((await metaOf(copy)).signature).toBe((await metaOf(other.key)).signature);
    await expect(store.get(copy)).rejects.toThrow(/signature does not verify/);
  });

  test('latest: newest verified backup; future-dated (signed or not), planted, foreign and copied objects are passed over', async () => {
    const now = new Date('2026-02-01T00:00:00Z');
    const good = await store.save({ cluster: 'c3', configMap: cm('10'), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-10T00:00:00Z') });
    // A genuine signature on a key dated in the future (a writer with a wrong clock): never "latest".
    const future = await store.save({ cluster: 'c3', configMap: cm('11'), reason: 'sync', eventIds: [], takenAt: new Date('2030-01-01T00:00:00Z') });
    const body = bodyOf(cm('12', EVIL));
    const futurePlanted = keyAt('c3', '2099-12-31T00:00:00Z', '12');
    await plant(futurePlanted, body, { format: 'aws-auth-syncer/configmap@1', cluster: 'c3', sha256: sha256(body) });
    const unsigned = keyAt('c3', '2026-01-20T00:00:00Z', '13');
    await plant(unsigned, body, {
      format: 'aws-auth-syncer/configmap@1',
      cluster: 'c3',
      reason: 'sync',
      'resource-version': '13',
      'taken-at': '2026-01-20T00:00:00.000Z',
      sha256: sha256(body),
    });
    const other = await store.save({ cluster: 'c4', configMap: cm('14', EVIL), reason: 'sync', eventIds: [], takenAt: new Date('2026-01-25T00:00:00Z') });
    const copied = other.key.replace('/c4/', '/c3/');
    await clients().s3.send(new CopyObjectCommand({ Bucket: bucket, Key: copied, CopySource: `${bucket}/${other.key}`, MetadataDirective: 'COPY' }));

    const r = await store.latest('c3', now);
    expect(r.record?.key).toBe(good.key);
    expect(r.skipped.map((s) => [s.key, s.reason.split(':')[0]])).toEqual([
      [futurePlanted, 'dated 2099-12-31T00'],
      [future.key, 'dated 2030-01-01T00'],
      [copied, 'its signature does not verify'],
      [unsigned, 'it carries no signature'],
    ]);
    // Time passes: the signed future-dated one becomes eligible once its date is reached.
    expect((await store.latest('c3', new Date('2030-01-01T00:00:00Z'))).record?.key).toBe(future.key);
  });
});

describe('restore "latest" as the syncer, on the real stack', () => {
  test('a newer planted object granting system:masters is passed over; named explicitly it is refused; aws-auth untouched', async () => {
    const b = unique('restore-authentic');
    await createVersionedBucket(clients().s3, b);
    await putAwsAuth({ mapRoles: '[]\n' });
    const deps = await liveDeps(b);
    const cluster = stack().cluster as string;
    const current = (await getAwsAuth())!;
    // A genuine backup, through the syncer's own adapter and KMS key, a minute old.
    const genuine = await deps.backups.save({ cluster, configMap: current, reason: 'sync', eventIds: [], takenAt: new Date(Date.now() - 60_000) });
    const body = bodyOf({ ...current, data: { ...current.data, mapRoles: EVIL } });
    const planted = `${PREFIX}/${cluster}/${keyTime(new Date())}-rv999-sync.json`;
    await clients().s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: planted,
        Body: body,
        Metadata: {
          format: 'aws-auth-syncer/configmap@1',
          cluster,
          reason: 'sync',
          'resource-version': '999',
          'taken-at': new Date().toISOString(),
          sha256: sha256(body),
        },
      }),
    );
    const r = await restoreAwsAuth(deps, { cluster, partition: 'aws', backup: 'latest', dryRun: true });
    expect(r.restoredFrom.key).toBe(genuine.key);
    expect(JSON.stringify(r.plan.next)).not.toContain('mallory');
    await expect(restoreAwsAuth(deps, { cluster, partition: 'aws', backup: planted })).rejects.toThrow(/carries no signature/);
    expect((await getAwsAuth())!.metadata.resourceVersion).toBe(current.metadata.resourceVersion);
  });
});
