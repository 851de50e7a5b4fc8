/**
 * restoreAwsAuth: put a backup back. The backup is verified (format, checksum, cluster), the
 * version it replaces is backed up first, and the same guards apply unless forced.
 */
import { formatAccessChange, formatChange, formatRefusal } from '../core/diff.js';
import { planRestore } from '../core/plan.js';
import { InputError } from '../errors.js';
import { changeNotice, publishChange, recordRun } from './observe.js';
import { noMetrics, type BackupRecord, type BackupStore, type ClusterInfo, type Notifier } from './ports.js';
import { awsAuthModeCheck } from './sync.js';
import { planBackupWrite, type WriteLoopDeps, type WriteResult } from './write-loop.js';

export interface RestoreRequest {
  cluster: string;
  /** A backup key, or "latest". */
  backup: string;
  force?: boolean;
  dryRun?: boolean;
  /** The syncer's own identities, whose access a restore must not take (unless forced). */
  selfArns?: readonly string[];
  /** The cluster's partition (callers from another never get in). */
  partition: string;
  eventIds?: string[];
  writeAttempts?: number;
}

export interface RestoreResult extends WriteResult {
  restoredFrom: BackupRecord;
}

/**
 * A backup key as named, or for "latest" the newest backup the syncer itself wrote (signature
 * verified, not dated in the future). Newer objects passed over are logged with the reason.
 */
export async function resolveBackupKey(deps: Pick<WriteLoopDeps, 'backups' | 'clock' | 'log'>, cluster: string, key: string): Promise<string> {
  if (key !== 'latest') return key;
  const { record, skipped } = await deps.backups.latest(cluster, deps.clock.now());
  for (const s of skipped) deps.log.warn('backup passed over for "latest"', { cluster, backupKey: s.key, reason: s.reason });
  if (!record) {
    const why = skipped.length === 0 ? '' : `; passed over: ${skipped.map((s) => `${s.key} (${s.reason})`).join('; ')}`;
    throw new InputError(`no backup of cluster ${cluster} that the syncer wrote was found${why}`, { context: { cluster } });
  }
  return record.key;
}

/** Restore a backup; every run (restored, refused, failed) is recorded in deps.metrics. */
export async function restoreAwsAuth(deps: WriteLoopDeps & { cluster?: ClusterInfo; notifier?: Notifier }, req: RestoreRequest): Promise<RestoreResult> {
  const run = { operation: 'restore' as const, cluster: req.cluster, trigger: 'manual' as const, dryRun: req.dryRun === true };
  let result: RestoreResult;
  try {
    result = await restoreOnce(deps, req);
  } catch (err) {
    recordRun(deps.metrics ?? noMetrics, { ...run, error: err });
    throw err;
  }
  recordRun(deps.metrics ?? noMetrics, { ...run, result });
  // A restore is an applied change too (the one that may be forced past the guards): told as one.
  if (result.outcome === 'created' || result.outcome === 'replaced') {
    await publishChange(deps, req.cluster, () => changeNotice({ ...run, eventIds: req.eventIds ?? [], result }));
  }
  return result;
}

async function restoreOnce(deps: WriteLoopDeps & { cluster?: ClusterInfo }, req: RestoreRequest): Promise<RestoreResult> {
  await awsAuthModeCheck({ cluster: deps.cluster, log: deps.log }, req.cluster);
  const key = await resolveBackupKey(deps, req.cluster, req.backup);
  const { record, configMap } = await deps.backups.get(key);
  if (record.cluster !== req.cluster) {
    throw new InputError(`backup ${key} belongs to cluster ${record.cluster}, not ${req.cluster}`, { context: { backupKey: key } });
  }
  deps.log.info('restoring backup', { cluster: req.cluster, backupKey: key, takenAt: record.takenAt, resourceVersion: record.resourceVersion });
  const result = await planBackupWrite(deps, {
    cluster: req.cluster,
    reason: 'restore',
    eventIds: req.eventIds ?? [],
    dryRun: req.dryRun === true,
    attempts: req.writeAttempts ?? 3,
    plan: (current) => {
      const plan = planRestore({ current, backup: configMap, partition: req.partition, selfArns: req.selfArns, force: req.force });
      const accessReport = plan.access.map(formatAccessChange);
      const report = [
        ...plan.changes.map(formatChange),
        ...(accessReport.length ? ['access (as aws-iam-authenticator reads it):', ...accessReport.map((l) => `  ${l}`)] : []),
        ...plan.warnings.map((w) => `! warning: ${w.message}`),
        ...plan.refusals.map(formatRefusal),
      ];
      return { ...plan, report, accessReport, details: { restoreFrom: key } };
    },
  });
  return { ...result, restoredFrom: record };
}

export async function listBackups(backups: BackupStore, cluster: string, limit?: number): Promise<BackupRecord[]> {
  return backups.list(cluster, limit);
}
