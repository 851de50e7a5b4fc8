/**
 * restoreAwsAuth: put a backup back. The backup is verified (format, checksum, cluster), the
 * version it replaces is backed up first, and the same guards apply unless forced.
 */
import { formatChange, formatRefusal } from '../core/diff.js';
import { planRestore } from '../core/plan.js';
import { InputError } from '../errors.js';
import { recordRun } from './observe.js';
import { noMetrics, type BackupRecord, type BackupStore } from './ports.js';
import { planBackupWrite, type WriteLoopDeps, type WriteResult } from './write-loop.js';

export interface RestoreRequest {
  cluster: string;
  /** A backup key, or "latest". */
  backup: string;
  force?: boolean;
  dryRun?: boolean;
  selfArn?: string;
  eventIds?: string[];
  writeAttempts?: number;
}

export interface RestoreResult extends WriteResult {
  restoredFrom: BackupRecord;
}

export async function resolveBackupKey(backups: BackupStore, cluster: string, key: string): Promise<string> {
  if (key !== 'latest') return key;
  const [newest] = await backups.list(cluster, 1);
  if (!newest) throw new InputError(`no backups found for cluster ${cluster}`, { context: { cluster } });
  return newest.key;
}

/** Restore a backup; every run (restored, refused, failed) is recorded in deps.metrics. */
export async function restoreAwsAuth(deps: WriteLoopDeps, req: RestoreRequest): Promise<RestoreResult> {
  const run = { operation: 'restore' as const, cluster: req.cluster, trigger: 'manual' as const, dryRun: req.dryRun === true };
  let result: RestoreResult;
  try {
    result = await restoreOnce(deps, req);
  } catch (err) {
    recordRun(deps.metrics ?? noMetrics, { ...run, error: err });
    throw err;
  }
  recordRun(deps.metrics ?? noMetrics, { ...run, result });
  return result;
}

async function restoreOnce(deps: WriteLoopDeps, req: RestoreRequest): Promise<RestoreResult> {
  const key = await resolveBackupKey(deps.backups, req.cluster, req.backup);
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
      const plan = planRestore({ current, backup: configMap, selfArn: req.selfArn, force: req.force });
      const report = [...plan.changes.map(formatChange), ...plan.refusals.map(formatRefusal)];
      return { ...plan, report, details: { restoreFrom: key } };
    },
  });
  return { ...result, restoredFrom: record };
}

export async function listBackups(backups: BackupStore, cluster: string, limit?: number): Promise<BackupRecord[]> {
  return backups.list(cluster, limit);
}
