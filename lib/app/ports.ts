/**
 * The small interfaces the use cases depend on. Adapters in lib/adapters implement them over
 * the AWS SDK and the Kubernetes client; tests implement them in memory.
 */
import type { AccessEntryCall, AuthenticationMode, CurrentEntries } from '../core/access-entries.js';
import type { ConfigMapObject, IamSnapshot } from '../core/types.js';

/** One complete, consistent read of the IAM principals. Throws DiscoveryError rather than
 * returning a partial result. */
export interface IamDirectory {
  readSnapshot(): Promise<IamSnapshot>;
}

/** kube-system/aws-auth. */
export interface AwsAuthStore {
  /** The object exactly as the API serves it, or null when it does not exist. */
  read(): Promise<ConfigMapObject | null>;
  /** Create it; throws WriteConflictError when it appeared meanwhile. */
  create(next: ConfigMapObject): Promise<ConfigMapObject>;
  /** Replace it, conditional on `next.metadata.resourceVersion`; throws WriteConflictError on 409. */
  replace(next: ConfigMapObject): Promise<ConfigMapObject>;
}

/** The cluster's EKS access entries (the access-entries target). */
export interface AccessEntryStore {
  /** Every entry with its associated policies (all pages). */
  read(): Promise<CurrentEntries>;
  /** Make the calls in order; stops at the first that fails (after its retries). */
  apply(calls: readonly AccessEntryCall[], onApplied?: (call: AccessEntryCall) => void): Promise<void>;
}

export type BackupReason = 'sync' | 'restore';

export interface BackupRecord {
  key: string;
  cluster: string;
  takenAt: string;
  reason: BackupReason;
  resourceVersion: string;
  eventIds: string[];
  /** SHA-256 (hex) of the stored body. */
  sha256: string;
  size: number;
  /** What happened to the write this backup preceded, when known. */
  outcome?: 'replaced' | 'write-failed' | 'write-unknown';
}

/** What `BackupStore.latest` found: the backup to use, and the newer objects it passed over. */
export interface LatestBackup {
  /** The newest backup whose signature verifies and that is not dated after now; absent when none. */
  record?: BackupRecord;
  /** Newer objects that were not taken, newest first, each with the reason (future-dated, unsigned, bad signature…). */
  skipped: { key: string; reason: string }[];
}

/** What an access-entries backup holds: the owned entries and their associations. */
export interface EntriesBackupStore {
  /** Store the owned entries before a change. Throws BackupError when not stored. */
  saveEntries(input: { cluster: string; entries: CurrentEntries; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord>;
  markOutcome(key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void>;
  listEntries(cluster: string, limit?: number): Promise<BackupRecord[]>;
  latestEntries(cluster: string, now: Date): Promise<LatestBackup>;
  /** Read and verify one access-entries backup (signature, then checksum). */
  getEntries(key: string): Promise<{ record: BackupRecord; entries: CurrentEntries }>;
}

export interface BackupStore {
  /** Store the exact object about to be replaced. Throws BackupError when not stored. */
  save(input: { cluster: string; configMap: ConfigMapObject; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord>;
  /** Label a backup with what happened to the write after it (best effort). */
  markOutcome(key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void>;
  /** The cluster's backups, newest first, from their key names alone (not verified: see `latest` and `get`). */
  list(cluster: string, limit?: number): Promise<BackupRecord[]>;
  /**
   * The newest backup the syncer itself wrote (its signature verifies), ignoring objects dated
   * after `now` (plus a small clock-skew allowance). Key names are never trusted on their own.
   */
  latest(cluster: string, now: Date): Promise<LatestBackup>;
  /** Read and verify one backup (signature, then checksum). Throws BackupIntegrityError when it
   * was not written by the syncer or was altered since. */
  get(key: string): Promise<{ record: BackupRecord; configMap: ConfigMapObject }>;
}

/** Facts about the cluster that only a live run knows. */
export interface ClusterInfo {
  /** The EKS cluster ARN (binds the ownership record to this cluster), when it can be learnt. */
  arn(): Promise<string | undefined>;
  /** DescribeCluster accessConfig.authenticationMode (absent: CONFIG_MAP); undefined when EKS is not asked (kubeconfig). */
  authenticationMode?(): Promise<AuthenticationMode | undefined>;
}

export interface Clock {
  now(): Date;
}

/** Structured logger (Powertools' Logger fits). */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type MetricUnit = 'Count' | 'Milliseconds';

/** Names of dimensions and their values, e.g. `{ cluster: 'prod' }`. */
export type Dimensions = Readonly<Record<string, string>>;

/**
 * Run metrics (CloudWatch EMF through Powertools in Lambda). A data point is aggregated under
 * each of the dimension sets given, so one point can count both per cluster and per cluster and
 * trigger. Which metrics exist and with which dimensions is decided in lib/app/observe.ts.
 */
export interface Metrics {
  add(name: string, unit: MetricUnit, value: number, dimensionSets: readonly Dimensions[]): void;
}

/** A message for people (an SNS topic in Lambda): a subject line and a body. */
export interface Notice {
  /** One line, at most 100 characters (SNS's limit for e-mail subjects). */
  subject: string;
  body: string;
}

export interface Notifier {
  /** Deliver the notice; throws when it could not be handed over. */
  publish(notice: Notice): Promise<void>;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export const systemClock: Clock = { now: () => new Date() };
/** Metrics that go nowhere: the default for use cases run without observability (CLI, tests). */
export const noMetrics: Metrics = { add() {} };

/** Where one run's IAM snapshot waits for the clusters that read it (S3 in Lambda). */
export interface SnapshotRef {
  bucket: string;
  key: string;
  /** The object version written (versioned bucket): the reader gets exactly it, even if the key is overwritten. */
  versionId?: string;
  /** SHA-256 (hex) of the stored body; the reader refuses anything else. */
  sha256: string;
  size: number;
}

/** A snapshot read once and shared by every cluster of the run. */
export interface SnapshotStore {
  put(snapshot: IamSnapshot, meta: { runId: string; takenAt: Date }): Promise<SnapshotRef>;
  /** Exactly the snapshot written; throws BackupIntegrityError when the body is not the one referenced. */
  get(ref: SnapshotRef): Promise<IamSnapshot>;
}

/** What one cluster is asked to do in a run: which snapshot to plan from, and why. */
export interface ClusterMessage {
  version: 1;
  runId: string;
  cluster: string;
  trigger: 'iam' | 'schedule' | 'manual';
  eventIds: string[];
  snapshot: SnapshotRef;
  force?: boolean;
}

/** The queue that hands each cluster its part of a run (an SQS FIFO queue in Lambda: one message group per cluster). */
export interface ClusterQueue {
  /** Send every message; resolves with the clusters whose message could not be handed over, and why. */
  send(messages: readonly ClusterMessage[]): Promise<{ failed: { cluster: string; reason: string }[] }>;
}
