/**
 * Backups in S3: the ConfigMap exactly as the API server served it (every field and value, as
 * JSON), one object per replaced version, under `<prefix>/<cluster>/` with time-sortable keys.
 *
 * Authenticity. A matching checksum proves nothing about who wrote an object: anyone who can put
 * an object into the bucket can compute one. So every backup also carries a signature, an HMAC
 * made by KMS (GenerateMac, HMAC_SHA_256) with a key that only the syncer's roles may use, over a
 * canonical message binding the body's SHA-256, the cluster, the object key, the time, the
 * resourceVersion and the reason. Restore verifies it (VerifyMac with the configured key — never
 * a key named by the object) before the checksum, so an object planted by someone else, altered
 * after it was written (body, metadata or both), or copied from another key or cluster is refused.
 * `latest` picks the newest object whose signature verifies and that is not dated in the future.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { GenerateMacCommand, VerifyMacCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { ConfigMapObject } from '../core/types.js';
import { BackupError, BackupIntegrityError } from '../errors.js';
import type { BackupReason, BackupRecord, BackupStore, EntriesBackupStore, LatestBackup } from '../app/ports.js';
import { entriesFromDocument, type CurrentEntries } from '../core/access-entries.js';

export const BACKUP_FORMAT = 'aws-auth-syncer/configmap@1';
/** Domain separation: a MAC made for anything else with the same key can never pass as a backup's. */
export const SIGNATURE_CONTEXT = 'aws-auth-syncer/backup-signature@1';
/**
 * The access-entries target's backups: the owned entries and their associations (the JSON of
 * `CurrentEntries`), under `<prefix>/<cluster>/access-entries/`, with their own format and their
 * own signature context — so an aws-auth backup can never be restored as access entries, nor the
 * other way round. aws-auth backups are unchanged.
 */
export const ENTRIES_BACKUP_FORMAT = 'aws-auth-syncer/access-entries@1';
export const ENTRIES_SIGNATURE_CONTEXT = 'aws-auth-syncer/access-entries-backup-signature@1';
export const ENTRIES_SUBPREFIX = 'access-entries/';
export const SIGNATURE_ALGORITHM = 'HMAC_SHA_256';
/** Clocks of the machines that write (Lambda) and restore (Lambda, a laptop) differ a little: a
 * backup up to this far "in the future" is still one of ours, anything later is ignored. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** `latest` checks at most this many of the newest (not future-dated) objects, one HeadObject and
 * one VerifyMac each, before giving up with the list of what it passed over. */
export const MAX_LATEST_CANDIDATES = 20;
/** S3 user metadata is limited to 2 KB in all; event ids beyond this are left out (and counted). */
const MAX_EVENT_IDS_CHARS = 1024;

const sha256Hex = (body: string): string => createHash('sha256').update(body).digest('hex');

/** `2026-11-28T18-40-12.345Z`: sorts by time, safe in keys. */
export function keyTime(d: Date): string {
  return d.toISOString().replace(/:/g, '-');
}

/** The fields a backup's signature covers. */
export interface SignedFields {
  cluster: string;
  key: string;
  takenAt: string;
  resourceVersion: string;
  reason: string;
  sha256: string;
}

/**
 * The exact bytes the MAC is computed over: a JSON array, so no field can run into the next
 * (keys may contain any character). Verification rebuilds it from the object's metadata and the
 * key it was actually read from.
 */
export function signatureMessage(f: SignedFields, context: string = SIGNATURE_CONTEXT): Buffer {
  return Buffer.from(JSON.stringify([context, f.cluster, f.key, f.takenAt, f.resourceVersion, f.reason, f.sha256]), 'utf8');
}

/** What differs between the two kinds of backup. */
interface Kind {
  format: string;
  context: string;
  /** Below `<prefix>/<cluster>/`. */
  sub: string;
  what: string;
}
const AWS_AUTH: Kind = { format: BACKUP_FORMAT, context: SIGNATURE_CONTEXT, sub: '', what: 'aws-auth' };
const ENTRIES: Kind = { format: ENTRIES_BACKUP_FORMAT, context: ENTRIES_SIGNATURE_CONTEXT, sub: ENTRIES_SUBPREFIX, what: 'access-entries' };

export interface S3BackupStoreOptions {
  bucket: string;
  prefix: string;
  /** KMS HMAC key (HMAC_256) that signs and verifies backups: key id, key ARN or alias. */
  macKeyId: string;
}

type Verdict = { ok: true } | { ok: false; reason: string };

export class S3BackupStore implements BackupStore, EntriesBackupStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly macKeyId: string;

  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly kms: Pick<KMSClient, 'send'>,
    options: S3BackupStoreOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.macKeyId = options.macKeyId;
  }

  private clusterPrefix(cluster: string, kind: Kind = AWS_AUTH): string {
    return `${this.prefix.replace(/\/+$/, '')}/${cluster}/${kind.sub}`;
  }

  async save(input: { cluster: string; configMap: ConfigMapObject; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord> {
    const { configMap } = input;
    return this.put(AWS_AUTH, { ...input, body: `${JSON.stringify(configMap, null, 2)}\n`, resourceVersion: configMap.metadata.resourceVersion ?? '0' });
  }

  /**
   * An access-entries backup. Its "resourceVersion" (in the key and the signed fields) is
   * `e<count>`: EKS entries carry no version, and the count tells a listing what each holds.
   */
  async saveEntries(input: { cluster: string; entries: CurrentEntries; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord> {
    const doc = {
      accessEntries: input.entries.entries.map((e) => ({ ...e, ...(e.createdAt !== undefined ? { createdAt: new Date(e.createdAt).toISOString() } : {}) })),
      associatedPolicies: Object.fromEntries(
        Object.entries(input.entries.policies).map(([arn, ps]) => [
          arn,
          ps.map((p) => ({ policyArn: p.policyArn, accessScope: p.scope.type === 'cluster' ? { type: 'cluster', namespaces: [] } : p.scope })),
        ]),
      ),
    };
    return this.put(ENTRIES, { ...input, body: `${JSON.stringify(doc, null, 2)}\n`, resourceVersion: `e${input.entries.entries.length}` });
  }

  private async put(
    kind: Kind,
    input: { cluster: string; body: string; resourceVersion: string; reason: BackupReason; eventIds: string[]; takenAt: Date },
  ): Promise<BackupRecord> {
    const { body, resourceVersion } = input;
    const sha256 = sha256Hex(body);
    const key = `${this.clusterPrefix(input.cluster, kind)}${keyTime(input.takenAt)}-rv${resourceVersion}-${input.reason}.json`;
    const takenAt = input.takenAt.toISOString();
    let ids = input.eventIds.join(',');
    if (ids.length > MAX_EVENT_IDS_CHARS) ids = `${ids.slice(0, MAX_EVENT_IDS_CHARS).replace(/,[^,]*$/, '')},+more`;
    let signature: string;
    try {
      const mac = await this.kms.send(
        new GenerateMacCommand({
          KeyId: this.macKeyId,
          MacAlgorithm: SIGNATURE_ALGORITHM,
          Message: signatureMessage({ cluster: input.cluster, key, takenAt, resourceVersion, reason: input.reason, sha256 }, kind.context),
        }),
      );
      if (!mac.Mac || mac.Mac.length === 0) throw new Error('KMS returned no MAC');
      signature = Buffer.from(mac.Mac).toString('base64');
    } catch (err) {
      throw new BackupError(
        `signing the backup ${key} with KMS key ${this.macKeyId} failed: ${(err as Error).name}: ${(err as Error).message}; nothing was written to the cluster`,
        { cause: err, context: { backupKey: key } },
      );
    }
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          Metadata: {
            format: kind.format,
            cluster: input.cluster,
            reason: input.reason,
            'resource-version': resourceVersion,
            'taken-at': takenAt,
            'event-ids': ids,
            sha256,
            signature,
            'signature-alg': SIGNATURE_ALGORITHM,
          },
        }),
      );
    } catch (err) {
      throw new BackupError(
        `backup to s3://${this.bucket}/${key} failed: ${(err as Error).name}: ${(err as Error).message}; nothing was written to the cluster`,
        {
          cause: err,
          context: { backupKey: key },
        },
      );
    }
    return {
      key,
      cluster: input.cluster,
      takenAt,
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

  /** Every key directly under the kind's prefix (not in sub-folders), newest first by key text (one ListObjectsV2 per 1000). */
  private async keysNewestFirst(cluster: string, kind: Kind = AWS_AUTH): Promise<{ key: string; size: number }[]> {
    const prefix = this.clusterPrefix(cluster, kind);
    const items: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      // Delimiter '/': the access-entries backups under `access-entries/` are not aws-auth ones.
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) items.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return items.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  }

  async list(cluster: string, limit?: number): Promise<BackupRecord[]> {
    const items = await this.keysNewestFirst(cluster);
    return items.slice(0, limit ?? items.length).map((i) => recordFromKey(i.key, cluster, i.size));
  }

  async listEntries(cluster: string, limit?: number): Promise<BackupRecord[]> {
    const items = await this.keysNewestFirst(cluster, ENTRIES);
    return items.slice(0, limit ?? items.length).map((i) => recordFromKey(i.key, cluster, i.size));
  }

  async latest(cluster: string, now: Date): Promise<LatestBackup> {
    return this.newest(AWS_AUTH, cluster, now);
  }

  async latestEntries(cluster: string, now: Date): Promise<LatestBackup> {
    return this.newest(ENTRIES, cluster, now);
  }

  private async newest(kind: Kind, cluster: string, now: Date): Promise<LatestBackup> {
    const notAfter = now.getTime() + MAX_CLOCK_SKEW_MS;
    const skipped: LatestBackup['skipped'] = [];
    let checked = 0;
    for (const item of await this.keysNewestFirst(cluster, kind)) {
      const fromKey = recordFromKey(item.key, cluster, item.size);
      const keyTimeMs = Date.parse(fromKey.takenAt);
      if (Number.isNaN(keyTimeMs)) {
        skipped.push({ key: item.key, reason: 'its name is not a backup key' });
        continue;
      }
      // Without this, one object dated in the future (a planted key, a clock far off) would stay
      // "latest" for ever. Costs no request.
      if (keyTimeMs > notAfter) {
        skipped.push({ key: item.key, reason: `dated ${fromKey.takenAt}, after now (${now.toISOString()})` });
        continue;
      }
      if (checked >= MAX_LATEST_CANDIDATES) {
        skipped.push({ key: item.key, reason: `not checked: the ${MAX_LATEST_CANDIDATES} newer objects above did not verify; name a backup key explicitly` });
        break;
      }
      checked++;
      let meta: Record<string, string>;
      try {
        meta = (await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: item.key }))).Metadata ?? {};
      } catch (err) {
        throw new BackupError(`reading the metadata of backup ${item.key} failed: ${(err as Error).name}: ${(err as Error).message}`, {
          cause: err,
          context: { backupKey: item.key },
        });
      }
      const verdict = await this.verify(kind, item.key, meta);
      if (!verdict.ok) {
        skipped.push({ key: item.key, reason: verdict.reason });
        continue;
      }
      return { record: recordFromMeta(item.key, meta, item.size), skipped };
    }
    return { skipped };
  }

  async get(key: string): Promise<{ record: BackupRecord; configMap: ConfigMapObject }> {
    const { record, body } = await this.fetchVerified(AWS_AUTH, key);
    let configMap: ConfigMapObject;
    try {
      configMap = JSON.parse(body) as ConfigMapObject;
    } catch (err) {
      throw new BackupIntegrityError(`backup ${key} is not JSON`, { cause: err, context: { backupKey: key } });
    }
    if (typeof configMap !== 'object' || configMap === null || configMap.kind !== 'ConfigMap' || configMap.metadata?.name !== 'aws-auth') {
      throw new BackupIntegrityError(`backup ${key} does not hold the aws-auth ConfigMap`, { context: { backupKey: key } });
    }
    return { record, configMap };
  }

  async getEntries(key: string): Promise<{ record: BackupRecord; entries: CurrentEntries }> {
    const { record, body } = await this.fetchVerified(ENTRIES, key);
    try {
      return { record, entries: entriesFromDocument(JSON.parse(body)) };
    } catch (err) {
      throw new BackupIntegrityError(`backup ${key} does not hold access entries: ${(err as Error).message}`, { cause: err, context: { backupKey: key } });
    }
  }

  /** The object's body, once its signature and then its checksum verify. */
  private async fetchVerified(kind: Kind, key: string): Promise<{ record: BackupRecord; body: string }> {
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
    const verdict = await this.verify(kind, key, meta);
    if (!verdict.ok) {
      throw new BackupIntegrityError(`backup ${key} is not one the syncer wrote, as it is now: ${verdict.reason}; refusing to restore it`, {
        context: { backupKey: key },
      });
    }
    // The signature vouches for the recorded checksum; the checksum for the body.
    const actual = sha256Hex(body);
    if (meta.sha256 !== actual) {
      throw new BackupIntegrityError(
        `backup ${key} was altered after the syncer wrote it: its SHA-256 is ${actual}, the signed one ${meta.sha256}; refusing to restore it`,
        {
          context: { backupKey: key },
        },
      );
    }
    return { record: recordFromMeta(key, meta, Buffer.byteLength(body)), body };
  }

  /**
   * Does the object's metadata carry a valid signature for the key it was read from? An invalid
   * or missing signature is a verdict; a KMS failure (no permission, unreachable) is an error,
   * never "not ours" and never "ours".
   */
  private async verify(kind: Kind, key: string, meta: Record<string, string>): Promise<Verdict> {
    if (meta.format !== kind.format) {
      const other = [AWS_AUTH, ENTRIES].find((k) => k.format === meta.format);
      return {
        ok: false,
        reason: other ? `an ${other.what} backup, not an ${kind.what} one` : `not an aws-auth-syncer backup (format ${meta.format ?? 'missing'})`,
      };
    }
    if (!meta.signature) {
      return { ok: false, reason: 'it carries no signature: it was not written by the syncer (or by a version from before backups were signed)' };
    }
    if (meta['signature-alg'] !== SIGNATURE_ALGORITHM) return { ok: false, reason: `unknown signature algorithm ${meta['signature-alg'] ?? 'missing'}` };
    const message = signatureMessage(
      {
        cluster: meta.cluster ?? '',
        key,
        takenAt: meta['taken-at'] ?? '',
        resourceVersion: meta['resource-version'] ?? '',
        reason: meta.reason ?? '',
        sha256: meta.sha256 ?? '',
      },
      kind.context,
    );
    const invalid: Verdict = {
      ok: false,
      reason: 'its signature does not verify: the object or its metadata was changed after the syncer wrote it, or it was copied from another key or cluster',
    };
    try {
      const res = await this.kms.send(
        new VerifyMacCommand({ KeyId: this.macKeyId, MacAlgorithm: SIGNATURE_ALGORITHM, Message: message, Mac: Buffer.from(meta.signature, 'base64') }),
      );
      return res.MacValid === true ? { ok: true } : invalid;
    } catch (err) {
      // KMS answers an invalid MAC with this exception rather than MacValid=false.
      if ((err as Error).name === 'KMSInvalidMacException') return invalid;
      throw new BackupError(
        `could not verify the signature of backup ${key} with KMS key ${this.macKeyId}: ${(err as Error).name}: ${(err as Error).message}`,
        {
          cause: err,
          context: { backupKey: key },
        },
      );
    }
  }
}

/** The record a verified object's (signed) metadata describes. */
function recordFromMeta(key: string, meta: Record<string, string>, size: number): BackupRecord {
  return {
    key,
    cluster: meta.cluster ?? '',
    takenAt: meta['taken-at'] ?? '',
    reason: meta.reason === 'restore' ? 'restore' : 'sync',
    resourceVersion: meta['resource-version'] ?? '',
    eventIds: meta['event-ids'] ? meta['event-ids'].split(',') : [],
    sha256: meta.sha256 ?? '',
    size,
  };
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
