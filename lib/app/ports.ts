/**
 * The small interfaces the use cases depend on. Adapters in lib/adapters implement them over
 * the AWS SDK and the Kubernetes client; tests implement them in memory.
 */
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

export interface BackupStore {
  /** Store the exact object about to be replaced. Throws BackupError when not stored. */
  save(input: { cluster: string; configMap: ConfigMapObject; reason: BackupReason; eventIds: string[]; takenAt: Date }): Promise<BackupRecord>;
  /** Label a backup with what happened to the write after it (best effort). */
  markOutcome(key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void>;
  /** The cluster's backups, newest first. */
  list(cluster: string, limit?: number): Promise<BackupRecord[]>;
  /** Read and verify one backup. Throws BackupIntegrityError on a checksum mismatch. */
  get(key: string): Promise<{ record: BackupRecord; configMap: ConfigMapObject }>;
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
