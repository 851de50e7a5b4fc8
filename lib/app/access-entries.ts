/**
 * The access-entries target's use cases, in the shape of write-loop.ts:
 *   read (IAM, the cluster's authentication mode, the entries) → plan → guards → backup (the owned
 *   entries and their associations, signed, to S3) → apply the calls in order → report.
 * Invariant: no EKS write unless the owned entries as they were are in S3 first.
 * EKS entries carry no resourceVersion: the one writer is the syncer (reserved concurrency 1);
 * calls are ordered so that a run stopped half way has only added access.
 */
import { formatEntriesReport, planEntriesRestore, planEntriesSync, type AuthenticationMode, type EntriesPlan } from '../core/access-entries.js';
import type { SyncPolicy } from '../core/policy.js';
import { ClusterAccessError, ConfigError, GuardRefusedError, InputError } from '../errors.js';
import { entriesChangeNotice, publishChange, publishRefusal, recordEntriesRun, type Trigger } from './observe.js';
import {
  noMetrics,
  type AccessEntryStore,
  type BackupReason,
  type BackupRecord,
  type ClusterInfo,
  type Clock,
  type EntriesBackupStore,
  type IamDirectory,
  type Log,
  type Metrics,
  type Notifier,
} from './ports.js';

export interface EntriesDeps {
  iam: IamDirectory;
  entries: AccessEntryStore;
  backups: EntriesBackupStore;
  cluster: ClusterInfo;
  clock: Clock;
  log: Log;
  /** Where run outcomes, refusals and counts go (default: nowhere). */
  metrics?: Metrics;
  /** Told about every applied sync, when set. */
  notifier?: Notifier;
}

export type EntriesOutcome = 'unchanged' | 'planned' | 'refused' | 'applied';

export interface EntriesResult {
  outcome: EntriesOutcome;
  plan: EntriesPlan;
  /** Human-readable lines: calls, access changes, conflicts, warnings, refusals, summary. */
  report: string[];
  /** Calls made (all of them when the outcome is `applied`). */
  applied: number;
  backupKey?: string;
  authenticationMode?: AuthenticationMode;
}

/** Access entries work only when the cluster's authentication mode includes the API. */
export async function requireApiMode(cluster: ClusterInfo, name: string): Promise<AuthenticationMode | undefined> {
  const mode = await cluster.authenticationMode?.();
  if (mode === 'CONFIG_MAP') {
    throw new ConfigError(
      `cluster ${name} uses authentication mode CONFIG_MAP: EKS does not use access entries there; switch it to API_AND_CONFIG_MAP first (aws eks update-cluster-config --name ${name} --access-config authenticationMode=API_AND_CONFIG_MAP; it cannot be switched back), or keep target: aws-auth`,
      { context: { cluster: name, authenticationMode: mode } },
    );
  }
  return mode;
}

async function applyPlan(
  deps: Omit<EntriesDeps, 'iam'>,
  opts: {
    cluster: string;
    reason: BackupReason;
    eventIds: string[];
    dryRun: boolean;
    plan: EntriesPlan;
    mode?: AuthenticationMode;
    details?: Record<string, unknown>;
  },
): Promise<EntriesResult> {
  const { plan } = opts;
  const { log } = deps;
  const report = formatEntriesReport(plan);
  const base = { plan, report, applied: 0, ...(opts.mode ? { authenticationMode: opts.mode } : {}) };
  log.info('plan', {
    cluster: opts.cluster,
    target: 'access-entries',
    changed: plan.changed,
    diff: report,
    refusals: plan.refusals,
    eventIds: opts.eventIds,
    summary: plan.summary,
    ...opts.details,
  });
  if (plan.changed && plan.refusals.length > 0) {
    if (opts.dryRun) return { ...base, outcome: 'refused' };
    throw new GuardRefusedError(plan.refusals, { cluster: opts.cluster, diff: report });
  }
  if (!plan.changed) return { ...base, outcome: 'unchanged' };
  if (opts.dryRun) return { ...base, outcome: 'planned' };

  const record = await deps.backups.saveEntries({
    cluster: opts.cluster,
    entries: plan.owned,
    reason: opts.reason,
    eventIds: opts.eventIds,
    takenAt: deps.clock.now(),
  });
  log.info('backup stored', { cluster: opts.cluster, backupKey: record.key, entries: plan.owned.entries.length, sha256: record.sha256 });
  let applied = 0;
  try {
    await deps.entries.apply(plan.calls, () => applied++);
  } catch (err) {
    await markQuietly(deps, record.key, applied === 0 ? 'write-failed' : 'write-unknown');
    log.error('access entries partly applied', { cluster: opts.cluster, applied, total: plan.calls.length, backupKey: record.key });
    throw err instanceof ClusterAccessError
      ? new ClusterAccessError(`${err.message} (backup of the entries before: ${record.key})`, {
          cause: err.cause ?? err,
          context: { ...err.context, backupKey: record.key },
        })
      : err;
  }
  await markQuietly(deps, record.key, 'replaced');
  log.info('access entries applied', { cluster: opts.cluster, calls: applied, backupKey: record.key, eventIds: opts.eventIds, diff: report });
  return { ...base, outcome: 'applied', applied, backupKey: record.key };
}

/** Labelling a backup is a courtesy to operators; its failure must not fail the run. */
async function markQuietly(deps: Omit<EntriesDeps, 'iam'>, key: string, outcome: 'replaced' | 'write-failed' | 'write-unknown'): Promise<void> {
  try {
    await deps.backups.markOutcome(key, outcome);
  } catch (err) {
    deps.log.warn('could not label backup', { backupKey: key, outcome, error: (err as Error).message });
  }
}

export interface EntriesSyncRequest {
  policy: SyncPolicy;
  dryRun?: boolean;
  force?: boolean;
  eventIds?: string[];
  selfArns?: readonly string[];
  /** What woke the run (for the metrics). */
  trigger?: Trigger;
  /** Publish a refusal to the notifier (default: for every trigger but `manual`). */
  notifyRefusal?: boolean;
}

export interface EntriesSyncResult extends EntriesResult {
  principals: { users: number; roles: number; groups: number };
}

/** Sync the access entries; every run (applied, refused, failed) is recorded in deps.metrics. */
export async function syncAccessEntries(deps: EntriesDeps, req: EntriesSyncRequest): Promise<EntriesSyncResult> {
  const run = { operation: 'sync' as const, cluster: req.policy.cluster, trigger: req.trigger ?? 'manual', dryRun: req.dryRun === true };
  try {
    const result = await syncEntriesOnce(deps, req);
    recordEntriesRun(deps.metrics ?? noMetrics, { ...run, result });
    if (result.outcome === 'applied') {
      await publishChange(deps, run.cluster, () => entriesChangeNotice({ ...run, eventIds: req.eventIds ?? [], result }));
    }
    return result;
  } catch (err) {
    recordEntriesRun(deps.metrics ?? noMetrics, { ...run, error: err });
    await publishRefusal(
      deps,
      { cluster: run.cluster, target: 'access-entries', trigger: run.trigger, eventIds: req.eventIds ?? [], notify: req.notifyRefusal },
      err,
    );
    throw err;
  }
}

async function syncEntriesOnce(deps: EntriesDeps, req: EntriesSyncRequest): Promise<EntriesSyncResult> {
  const snapshot = await deps.iam.readSnapshot();
  const principals = { users: snapshot.users.length, roles: snapshot.roles.length, groups: snapshot.groups.length };
  deps.log.info('IAM read', { cluster: req.policy.cluster, ...principals });
  const mode = await requireApiMode(deps.cluster, req.policy.cluster);
  const current = await deps.entries.read();
  const plan = planEntriesSync({ current, snapshot, policy: req.policy, selfArns: req.selfArns, force: req.force });
  const result = await applyPlan(deps, { cluster: req.policy.cluster, reason: 'sync', eventIds: req.eventIds ?? [], dryRun: req.dryRun === true, plan, mode });
  return { ...result, principals };
}

export interface EntriesRestoreRequest {
  cluster: string;
  /** A backup key, or "latest". */
  backup: string;
  dryRun?: boolean;
  force?: boolean;
  selfArns?: readonly string[];
  eventIds?: string[];
}

export interface EntriesRestoreResult extends EntriesResult {
  restoredFrom: BackupRecord;
}

/** Put an access-entries backup back: its owned entries are recreated (guards apply unless forced). */
export async function restoreAccessEntries(deps: Omit<EntriesDeps, 'iam'>, req: EntriesRestoreRequest): Promise<EntriesRestoreResult> {
  const run = { operation: 'restore' as const, cluster: req.cluster, trigger: 'manual' as const, dryRun: req.dryRun === true };
  let result: EntriesRestoreResult;
  try {
    result = await restoreEntriesOnce(deps, req);
  } catch (err) {
    recordEntriesRun(deps.metrics ?? noMetrics, { ...run, error: err });
    throw err;
  }
  recordEntriesRun(deps.metrics ?? noMetrics, { ...run, result });
  // A restore is an applied change too: told as one.
  if (result.outcome === 'applied') {
    await publishChange(deps, run.cluster, () => entriesChangeNotice({ ...run, eventIds: req.eventIds ?? [], result }));
  }
  return result;
}

async function restoreEntriesOnce(deps: Omit<EntriesDeps, 'iam'>, req: EntriesRestoreRequest): Promise<EntriesRestoreResult> {
  let key = req.backup;
  if (key === 'latest') {
    const { record, skipped } = await deps.backups.latestEntries(req.cluster, deps.clock.now());
    for (const s of skipped) deps.log.warn('backup passed over for "latest"', { cluster: req.cluster, backupKey: s.key, reason: s.reason });
    if (!record)
      throw new InputError(`no access-entries backup of cluster ${req.cluster} that the syncer wrote was found`, { context: { cluster: req.cluster } });
    key = record.key;
  }
  const { record, entries: backup } = await deps.backups.getEntries(key);
  if (record.cluster !== req.cluster)
    throw new InputError(`backup ${key} belongs to cluster ${record.cluster}, not ${req.cluster}`, { context: { backupKey: key } });
  const mode = await requireApiMode(deps.cluster, req.cluster);
  const current = await deps.entries.read();
  const plan = planEntriesRestore({ current, backup, cluster: req.cluster, selfArns: req.selfArns, force: req.force });
  const result = await applyPlan(deps, {
    cluster: req.cluster,
    reason: 'restore',
    eventIds: req.eventIds ?? [],
    dryRun: req.dryRun === true,
    plan,
    mode,
    details: { restoreFrom: key },
  });
  return { ...result, restoredFrom: record };
}
