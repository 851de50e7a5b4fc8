/**
 * The IAM snapshot of a fleet run, in the backup bucket under `<prefix>/_iam-snapshots/` (a
 * segment no cluster can have: EKS names start with a letter or digit), so every cluster reads
 * the one discovery the run made.
 *
 * The snapshot is the clusters' input, so it is checked as input: the cluster message carries
 * the object's SHA-256 and version id, the reader fetches exactly that version and refuses a
 * body whose SHA-256 differs. The message comes from a queue only the sync role may send to, so
 * a bucket writer cannot swap the snapshot under a run (and the bucket policy lets only the
 * syncer's roles write). S3 also checks the upload itself (ChecksumSHA256). A snapshot written
 * more than SNAPSHOT_MAX_AGE_MS ago (S3's own LastModified, which no message can forge) is
 * refused too: a replayed old message must not bring back access that IAM has since taken away.
 * A lifecycle rule in serverless.yml expires snapshots after a few days: a snapshot is needed only
 * until every cluster of its run has read it (or its message has gone to the dead-letter queue).
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SnapshotRef, SnapshotStore } from '../app/ports.js';
import type { IamSnapshot } from '../core/types.js';
import { isPlainObject } from '../core/objects.js';
import { BackupError, BackupIntegrityError } from '../errors.js';
import { keyTime } from './backups-s3.js';

export const SNAPSHOT_FORMAT = 'aws-auth-syncer/iam-snapshot@1';
/** Under the backup prefix; never a cluster name (those start with a letter or digit). */
export const SNAPSHOT_SEGMENT = '_iam-snapshots';

const sha256Hex = (body: string): string => createHash('sha256').update(body).digest('hex');

/**
 * Oldest snapshot a cluster still plans from: well past a message's retries on the cluster queue
 * (5 receives x 720 s visibility, about an hour), well short of how long IAM changes may wait.
 */
export const SNAPSHOT_MAX_AGE_MS = 6 * 60 * 60 * 1000;

/** The key prefix of the snapshots (serverless.yml scopes the roles' rights to it). */
export const snapshotPrefix = (prefix: string): string => `${prefix.replace(/\/+$/, '')}/${SNAPSHOT_SEGMENT}/`;

export class S3SnapshotStore implements SnapshotStore {
  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly options: { bucket: string; prefix: string; now?: () => Date; maxAgeMs?: number },
  ) {}

  async put(snapshot: IamSnapshot, meta: { runId: string; takenAt: Date }): Promise<SnapshotRef> {
    const body = JSON.stringify(snapshot);
    const sha256 = sha256Hex(body);
    const key = `${snapshotPrefix(this.options.prefix)}${keyTime(meta.takenAt)}-${meta.runId}.json`;
    let versionId: string | undefined;
    try {
      const r = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          Metadata: { format: SNAPSHOT_FORMAT, 'run-id': meta.runId, sha256 },
        }),
      );
      versionId = r.VersionId;
    } catch (err) {
      throw new BackupError(
        `storing the IAM snapshot at s3://${this.options.bucket}/${key} failed: ${(err as Error).name}: ${(err as Error).message}; no cluster was queued`,
        {
          cause: err,
          context: { snapshotKey: key },
        },
      );
    }
    return { bucket: this.options.bucket, key, ...(versionId ? { versionId } : {}), sha256, size: Buffer.byteLength(body) };
  }

  async get(ref: SnapshotRef): Promise<IamSnapshot> {
    const where = `s3://${ref.bucket}/${ref.key}${ref.versionId ? ` (version ${ref.versionId})` : ''}`;
    let body: string;
    let written: Date | undefined;
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...(ref.versionId ? { VersionId: ref.versionId } : {}) }));
      body = (await r.Body?.transformToString('utf8')) ?? '';
      written = r.LastModified;
    } catch (err) {
      throw new BackupError(`reading the run's IAM snapshot ${where} failed: ${(err as Error).name}: ${(err as Error).message}`, {
        cause: err,
        context: { snapshotKey: ref.key },
      });
    }
    const now = (this.options.now ?? (() => new Date()))();
    const maxAge = this.options.maxAgeMs ?? SNAPSHOT_MAX_AGE_MS;
    if (!written || now.getTime() - written.getTime() > maxAge) {
      throw new BackupIntegrityError(
        `the IAM snapshot ${where} was written ${written ? written.toISOString() : 'at an unknown time'}, more than ${maxAge / 3600000} h before now: a run that old is not replayed (the next run syncs the cluster from a fresh discovery)`,
        { context: { snapshotKey: ref.key } },
      );
    }
    const actual = sha256Hex(body);
    if (actual !== ref.sha256) {
      throw new BackupIntegrityError(
        `the IAM snapshot ${where} is not the one the run stored (SHA-256 ${actual}, expected ${ref.sha256}); nothing was planned from it`,
        {
          context: { snapshotKey: ref.key },
        },
      );
    }
    const value: unknown = JSON.parse(body);
    if (!isPlainObject(value) || !Array.isArray(value.users) || !Array.isArray(value.roles) || !Array.isArray(value.groups)) {
      throw new BackupIntegrityError(`the IAM snapshot ${where} has no users, roles and groups lists`, { context: { snapshotKey: ref.key } });
    }
    return value as unknown as IamSnapshot;
  }
}
