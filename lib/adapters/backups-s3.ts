/**
 * Backups in S3: the ConfigMap exactly as the API server served it (every field and value, as
 * JSON), one object per replaced version, under `<prefix>/<cluster>/` with time-sortable keys. The SHA-256 of the body
 * is stored in the object's metadata (and sent as the upload checksum, so S3 rejects a corrupted
 * upload); a backup whose body no longer matches is refused on restore.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ConfigMapObject } from '../core/types.js';
import { BackupError, BackupIntegrityError } from '../errors.js';
import type { BackupReason, BackupRecord, BackupStore } from '../app/ports.js';

export const BACKUP_FORMAT = 'aws-auth-syncer/configmap@1';
/** S3 user metadata is limited to 2 KB in all; event ids beyond this are left out (and counted). */
const MAX_EVENT_IDS_CHARS = 1024;

const sha256Hex = (body: string): string => createHash('sha256').update(body).digest('hex');

/** `2026-11-28T18-40-12.345Z`: sorts by time, safe in keys. */
export function keyTime(d: Date): string {
  return d.toISOString().replace(/:/g, '-');
}

export class S3BackupStore implements BackupStore {
  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  private clusterPrefix(cluster: string): string {
    return `${this.prefix.replace(/\/+$/, '')}/${cluster}/`;
  }

  async save(input: { cluster: string; configMap: ConfigMapObject; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord> {
    const { configMap } = input;
    const body = `${JSON.stringify(configMap, null, 2)}\n`;
    const sha256 = sha256Hex(body);
    const resourceVersion = configMap.metadata.resourceVersion ?? '0';
    const key = `${this.clusterPrefix(input.cluster)}${keyTime(input.takenAt)}-rv${resourceVersion}-${input.reason}.json`;
    let ids = input.eventIds.join(',');
    if (ids.length > MAX_EVENT_IDS_CHARS) ids = `${ids.slice(0, MAX_EVENT_IDS_CHARS).replace(/,[^,]*$/, '')},+more`;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          Metadata: {
            format: BACKUP_FORMAT,
            cluster: input.cluster,
            reason: input.reason,
            'resource-version': resourceVersion,
            'taken-at': input.takenAt.toISOString(),
            'event-ids': ids,
            sha256,
          },
        }),
      );
    } catch (err) {
      throw new BackupError(`backup to s3://${this.bucket}/${key} failed: ${(err as Error).name}: ${(err as Error).message}; nothing was written to the cluster`, {
        cause: err,
        context: { backupKey: key },
      });
    }
    return {
      key,
      cluster: input.cluster,
      takenAt: input.takenAt.toISOString(),
      reason: input.reason,
      resourceVersion,
      eventIds: input.eventIds,
      sha256,
      size: Buffer.byteLength(body),
    };
  }

  async markOutcome(key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void> {
    await this.s3.send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: 'outcome', Value: outcome }] } }));
  }

  async list(cluster: string, limit?: number): Promise<BackupRecord[]> {
    const prefix = this.clusterPrefix(cluster);
    const items: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) items.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    items.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    return items.slice(0, limit ?? items.length).map((i) => recordFromKey(i.key, cluster, i.size));
  }

  async get(key: string): Promise<{ record: BackupRecord; configMap: ConfigMapObject }> {
    let body: string;
    let meta: Record<string, string>;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = (await res.Body?.transformToString('utf-8')) ?? '';
      meta = res.Metadata ?? {};
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound') {
        throw new BackupIntegrityError(`backup ${key} does not exist in s3://${this.bucket}`, { cause: err, context: { backupKey: key } });
      }
      throw new BackupError(`reading backup ${key} failed: ${name}: ${(err as Error).message}`, { cause: err, context: { backupKey: key } });
    }
    if (meta.format !== BACKUP_FORMAT) throw new BackupIntegrityError(`backup ${key} is not an aws-auth-syncer backup (format ${meta.format ?? 'missing'})`, { context: { backupKey: key } });
    const actual = sha256Hex(body);
    if (meta.sha256 !== actual) {
      throw new BackupIntegrityError(`backup ${key} was altered: its SHA-256 is ${actual}, the recorded one ${meta.sha256}; refusing to restore it`, {
        context: { backupKey: key },
      });
    }
    let configMap: ConfigMapObject;
    try {
      configMap = JSON.parse(body) as ConfigMapObject;
    } catch (err) {
      throw new BackupIntegrityError(`backup ${key} is not JSON`, { cause: err, context: { backupKey: key } });
    }
    if (typeof configMap !== 'object' || configMap === null || configMap.kind !== 'ConfigMap' || configMap.metadata?.name !== 'aws-auth') {
      throw new BackupIntegrityError(`backup ${key} does not hold the aws-auth ConfigMap`, { context: { backupKey: key } });
    }
    const record: BackupRecord = {
      key,
      cluster: meta.cluster ?? '',
      takenAt: meta['taken-at'] ?? '',
      reason: meta.reason === 'restore' ? 'restore' : 'sync',
      resourceVersion: meta['resource-version'] ?? '',
      eventIds: meta['event-ids'] ? meta['event-ids'].split(',') : [],
      sha256: actual,
      size: Buffer.byteLength(body),
    };
    return { record, configMap };
  }
}

/** What a key tells without reading the object (listing stays one call per 1000 backups). */
function recordFromKey(key: string, cluster: string, size: number): BackupRecord {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)-rv([^-]+)-(sync|restore)\.json$/.exec(name);
  const takenAt = m ? m[1]!.replace(/T(\d{2})-(\d{2})-(\d{2})/, 'T$1:$2:$3') : '';
  return {
    key,
    cluster,
    takenAt,
    reason: m?.[3] === 'restore' ? 'restore' : 'sync',
    resourceVersion: m?.[2] ?? '',
    eventIds: [],
    sha256: '',
    size,
  };
}
