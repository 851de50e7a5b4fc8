/**
 * In-memory ports for use-case tests: an aws-auth store with resourceVersion semantics (and a
 * hook to simulate a concurrent writer), a backup store that keeps exact copies, a fixed IAM.
 */
import { createHash } from 'node:crypto';
import type {
  AwsAuthStore,
  BackupRecord,
  BackupStore,
  Clock,
  ClusterMessage,
  ClusterQueue,
  IamDirectory,
  LatestBackup,
  Log,
  SnapshotRef,
  SnapshotStore,
} from '../../lib/app/ports.js';
import type { ConfigMapObject, IamSnapshot } from '../../lib/core/types.js';
import { BackupError, BackupIntegrityError, WriteConflictError } from '../../lib/errors.js';

export class MemoryAwsAuthStore implements AwsAuthStore {
  object: ConfigMapObject | null;
  private rv = 100;
  writes = 0;
  /** Called before each write is applied; may mutate `object` to simulate another writer. */
  beforeWrite?: (store: MemoryAwsAuthStore) => void;
  failWrite?: Error;

  constructor(initial: ConfigMapObject | null = null) {
    this.object = initial ? this.stamp(structuredClone(initial)) : null;
  }

  private stamp(cm: ConfigMapObject): ConfigMapObject {
    cm.metadata.resourceVersion = String(++this.rv);
    return cm;
  }

  /** Change the object as another writer would (bumps the resourceVersion). */
  externalEdit(edit: (cm: ConfigMapObject) => void): void {
    if (!this.object) throw new Error('nothing to edit');
    edit(this.object);
    this.stamp(this.object);
  }

  async read(): Promise<ConfigMapObject | null> {
    return this.object ? structuredClone(this.object) : null;
  }

  async create(next: ConfigMapObject): Promise<ConfigMapObject> {
    this.beforeWrite?.(this);
    if (this.failWrite) throw this.failWrite;
    if (this.object) throw new WriteConflictError('exists');
    this.writes++;
    this.object = this.stamp(structuredClone(next));
    return structuredClone(this.object);
  }

  async replace(next: ConfigMapObject): Promise<ConfigMapObject> {
    this.beforeWrite?.(this);
    if (this.failWrite) throw this.failWrite;
    if (!this.object || this.object.metadata.resourceVersion !== next.metadata.resourceVersion) throw new WriteConflictError('conflict');
    this.writes++;
    this.object = this.stamp(structuredClone(next));
    return structuredClone(this.object);
  }
}

export class MemoryBackupStore implements BackupStore {
  /** `signed`: written through save(), as the syncer does; planted objects are not. */
  readonly objects = new Map<string, { record: BackupRecord; body: string; signed: boolean }>();
  outcomes = new Map<string, string>();
  failSave?: Error;
  private seq = 0;

  async save(input: { cluster: string; configMap: ConfigMapObject; reason: 'sync' | 'restore'; eventIds: string[]; takenAt: Date }): Promise<BackupRecord> {
    if (this.failSave) throw new BackupError(`backup failed: ${this.failSave.message}`, { cause: this.failSave });
    const body = JSON.stringify(input.configMap);
    const key = `b/${input.cluster}/${String(++this.seq).padStart(6, '0')}-${input.reason}.json`;
    const record: BackupRecord = {
      key,
      cluster: input.cluster,
      takenAt: input.takenAt.toISOString(),
      reason: input.reason,
      resourceVersion: input.configMap.metadata.resourceVersion ?? '',
      eventIds: input.eventIds,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    };
    this.objects.set(key, { record, body, signed: true });
    return record;
  }

  async markOutcome(key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void> {
    this.outcomes.set(key, outcome);
  }

  async list(cluster: string, limit?: number): Promise<BackupRecord[]> {
    return [...this.objects.values()]
      .map((o) => o.record)
      .filter((r) => r.cluster === cluster)
      .sort((a, b) => (a.key < b.key ? 1 : -1))
      .slice(0, limit);
  }

  /** Put an object in as someone other than the syncer would (no signature). */
  plant(record: BackupRecord, configMap: ConfigMapObject): void {
    this.objects.set(record.key, { record, body: JSON.stringify(configMap), signed: false });
  }

  /** Same rules as the S3 adapter: newest signed object not dated more than 5 minutes after now. */
  async latest(cluster: string, now: Date): Promise<LatestBackup> {
    const skipped: LatestBackup['skipped'] = [];
    for (const o of [...this.objects.values()].filter((x) => x.record.cluster === cluster).sort((a, b) => (a.record.key < b.record.key ? 1 : -1))) {
      if (Date.parse(o.record.takenAt) > now.getTime() + 5 * 60 * 1000) skipped.push({ key: o.record.key, reason: 'dated in the future' });
      else if (!o.signed) skipped.push({ key: o.record.key, reason: 'no signature' });
      else return { record: o.record, skipped };
    }
    return { skipped };
  }

  async get(key: string): Promise<{ record: BackupRecord; configMap: ConfigMapObject }> {
    const o = this.objects.get(key);
    if (!o) throw new BackupIntegrityError(`backup ${key} does not exist`);
    if (!o.signed) throw new BackupIntegrityError(`backup ${key} carries no signature`);
    if (createHash('sha256').update(o.body).digest('hex') !== o.record.sha256) throw new BackupIntegrityError(`backup ${key} was altered`);
    return { record: o.record, configMap: JSON.parse(o.body) as ConfigMapObject };
  }
}

export class StaticIam implements IamDirectory {
  reads = 0;
  constructor(public snapshot: IamSnapshot) {}
  async readSnapshot(): Promise<IamSnapshot> {
    this.reads++;
    return structuredClone(this.snapshot);
  }
}

export const fixedClock = (iso = '2026-11-28T12:00:00.000Z'): Clock => ({ now: () => new Date(iso) });

export class MemoryLog implements Log {
  readonly lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  debug(message: string, extra?: Record<string, unknown>) {
    this.lines.push({ level: 'debug', message, extra });
  }
  info(message: string, extra?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, extra });
  }
  warn(message: string, extra?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, extra });
  }
  error(message: string, extra?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, extra });
  }
}

/** Small IAM snapshot builder. */
export function iam(spec: {
  users?: { name: string; path?: string; groups?: string[]; tags?: Record<string, string> }[];
  roles?: { name: string; path?: string; tags?: Record<string, string> }[];
  groups?: string[];
  account?: string;
}): IamSnapshot {
  const acct = spec.account ?? '111122223333';
  return {
    users: (spec.users ?? []).map((u) => ({
      arn: `arn:aws:iam::${acct}:user${u.path ?? '/'}${u.name}`,
      userName: u.name,
      path: u.path ?? '/',
      groups: u.groups ?? [],
      tags: u.tags ?? {},
    })),
    roles: (spec.roles ?? []).map((r) => ({
      arn: `arn:aws:iam::${acct}:role${r.path ?? '/'}${r.name}`,
      roleName: r.name,
      path: r.path ?? '/',
      tags: r.tags ?? {},
    })),
    groups: (spec.groups ?? []).map((g) => ({ arn: `arn:aws:iam::${acct}:group/${g}`, groupName: g, path: '/' })),
  };
}

export function awsAuth(data: Record<string, string>, annotations?: Record<string, string>): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', ...(annotations ? { annotations } : {}) },
    data,
  };
}

/** Snapshots kept as the exact bodies written, checked on read as the S3 adapter checks them. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly bodies = new Map<string, string>();
  puts = 0;
  gets = 0;

  async put(snapshot: IamSnapshot, meta: { runId: string; takenAt: Date }): Promise<SnapshotRef> {
    this.puts++;
    const body = JSON.stringify(snapshot);
    const key = `snapshots/${meta.takenAt.toISOString()}-${meta.runId}.json`;
    this.bodies.set(key, body);
    return { bucket: 'memory', key, sha256: createHash('sha256').update(body).digest('hex'), size: Buffer.byteLength(body) };
  }

  async get(ref: SnapshotRef): Promise<IamSnapshot> {
    this.gets++;
    const body = this.bodies.get(ref.key);
    if (body === undefined) throw new BackupIntegrityError(`snapshot ${ref.key} does not exist`);
    if (createHash('sha256').update(body).digest('hex') !== ref.sha256)
      throw new BackupIntegrityError(`snapshot ${ref.key} is not the one the run stored (SHA-256 differs)`);
    return JSON.parse(body) as IamSnapshot;
  }
}

/** The cluster queue: messages kept in order; `refuse` names clusters whose message cannot be sent. */
export class MemoryClusterQueue implements ClusterQueue {
  readonly sent: ClusterMessage[] = [];
  refuse = new Set<string>();

  async send(messages: readonly ClusterMessage[]): Promise<{ failed: { cluster: string; reason: string }[] }> {
    const failed: { cluster: string; reason: string }[] = [];
    for (const m of messages) {
      if (this.refuse.has(m.cluster)) failed.push({ cluster: m.cluster, reason: 'InternalError: try again' });
      else this.sent.push(structuredClone(m));
    }
    return { failed };
  }
}
