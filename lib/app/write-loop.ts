/**
 * The shared tail of sync and restore: read → plan → (guards) → backup → conditional write,
 * retried on 409 with a fresh read and a fresh plan, a bounded number of times.
 * Invariant: nothing is written unless the exact object being replaced is in S3 first.
 */
import { ClusterAccessError, GuardRefusedError, WriteConflictError } from '../errors.js';
import type { AccessChange } from '../core/diff.js';
import type { ConfigMapObject, EntryChange, Refusal } from '../core/types.js';
import { byCluster, METRIC, stopwatch } from './observe.js';
import { noMetrics, type AwsAuthStore, type BackupReason, type BackupStore, type Clock, type Log, type Metrics } from './ports.js';

export interface PlannedChange {
  changed: boolean;
  next: ConfigMapObject;
  refusals: Refusal[];
  changes: EntryChange[];
  /** Human-readable lines for logs and replies. */
  report: string[];
  /** Who gains, loses or changes access, one line each (also in `report`). */
  accessReport: string[];
  /** The access diff itself (sync and restore plans carry it), for counting identities. */
  access?: readonly AccessChange[];
  /** Extra fields for the structured log. */
  details?: Record<string, unknown>;
}

export type Outcome = 'unchanged' | 'planned' | 'refused' | 'created' | 'replaced';

export interface WriteResult {
  outcome: Outcome;
  attempts: number;
  plan: PlannedChange;
  current: ConfigMapObject | null;
  backupKey?: string;
  resourceVersion?: string;
}

export interface WriteLoopDeps {
  store: AwsAuthStore;
  backups: BackupStore;
  clock: Clock;
  log: Log;
  /** Durations of plan, backup and write (none when omitted). */
  metrics?: Metrics;
}

export async function planBackupWrite(
  deps: WriteLoopDeps,
  opts: {
    cluster: string;
    reason: BackupReason;
    eventIds: string[];
    dryRun: boolean;
    attempts: number;
    plan: (current: ConfigMapObject | null) => PlannedChange;
  },
): Promise<WriteResult> {
  const { store, backups, log } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const ms = (name: string, watch: () => number) => metrics.add(name, 'Milliseconds', watch(), byCluster(opts.cluster));
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    const current = await store.read();
    const planning = stopwatch(deps.clock);
    const plan = opts.plan(current);
    ms(METRIC.planDuration, planning);
    const base = { attempts: attempt, plan, current };
    log.info('plan', {
      cluster: opts.cluster,
      attempt,
      changed: plan.changed,
      create: current === null,
      currentResourceVersion: current?.metadata.resourceVersion,
      diff: plan.report,
      access: plan.accessReport,
      refusals: plan.refusals,
      eventIds: opts.eventIds,
      ...plan.details,
    });
    if (plan.changed && plan.refusals.length > 0) {
      if (opts.dryRun) return { ...base, outcome: 'refused' };
      throw new GuardRefusedError(plan.refusals, { cluster: opts.cluster, diff: plan.report });
    }
    if (!plan.changed) return { ...base, outcome: 'unchanged', resourceVersion: current?.metadata.resourceVersion };
    if (opts.dryRun) return { ...base, outcome: 'planned' };

    let backupKey: string | undefined;
    if (current) {
      const backingUp = stopwatch(deps.clock);
      const record = await backups.save({
        cluster: opts.cluster,
        configMap: current,
        reason: opts.reason,
        eventIds: opts.eventIds,
        takenAt: deps.clock.now(),
      });
      ms(METRIC.backupDuration, backingUp);
      backupKey = record.key;
      log.info('backup stored', { cluster: opts.cluster, backupKey, resourceVersion: record.resourceVersion, sha256: record.sha256 });
    }
    let written: ConfigMapObject;
    const writing = stopwatch(deps.clock);
    try {
      written = current ? await store.replace(plan.next) : await store.create(plan.next);
      ms(METRIC.writeDuration, writing);
    } catch (err) {
      ms(METRIC.writeDuration, writing);
      // A write that timed out may still land; only a refused or failed request is a known failure.
      const unknown = err instanceof ClusterAccessError && err.context.timedOut === true;
      if (backupKey) await markQuietly(deps, backupKey, unknown ? 'write-unknown' : 'write-failed');
      if (err instanceof WriteConflictError && attempt < opts.attempts) {
        log.warn('aws-auth changed since it was read; re-reading and re-planning', { cluster: opts.cluster, attempt, backupKey });
        continue;
      }
      throw err;
    }
    if (backupKey) await markQuietly(deps, backupKey, 'replaced');
    const outcome: Outcome = current ? 'replaced' : 'created';
    log.info(`aws-auth ${outcome}`, {
      cluster: opts.cluster,
      backupKey,
      resourceVersion: written.metadata.resourceVersion,
      eventIds: opts.eventIds,
      diff: plan.report,
    });
    return { ...base, outcome, backupKey, resourceVersion: written.metadata.resourceVersion };
  }
  // Unreachable: the last attempt either returns or throws.
  throw new WriteConflictError(`aws-auth kept changing; gave up after ${opts.attempts} attempts`, { context: { cluster: opts.cluster } });
}

/** Labelling a backup is a courtesy to operators; its failure must not fail the run. */
async function markQuietly(deps: WriteLoopDeps, key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void> {
  try {
    await deps.backups.markOutcome(key, outcome);
  } catch (err) {
    deps.log.warn('could not label backup', { backupKey: key, outcome, error: (err as Error).message });
  }
}
