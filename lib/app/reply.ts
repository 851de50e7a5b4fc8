/**
 * The JSON a function invocation returns: what happened, the diff, the backup key. The same
 * fields are logged, so a manual invoke and the logs tell the same story.
 */
import { renderManifestYaml } from './manifest.js';
import type { RestoreResult } from './restore.js';
import type { SyncResult } from './sync.js';
import type { WriteResult } from './write-loop.js';

function common(r: WriteResult) {
  return {
    outcome: r.outcome,
    attempts: r.attempts,
    backupKey: r.backupKey,
    resourceVersion: r.resourceVersion,
    diff: r.plan.report,
    /** Who gains, loses or changes access, as the authenticator reads it. */
    access: r.plan.accessReport,
    refusals: r.plan.refusals,
    /** The complete next ConfigMap, for dry runs that would change something. */
    manifest: r.outcome === 'planned' || r.outcome === 'refused' ? renderManifestYaml(r.plan.next) : undefined,
  };
}

export function syncReply(cluster: string, r: SyncResult, eventIds: string[]) {
  return {
    ...common(r),
    cluster,
    eventIds,
    principals: r.principals,
    summary: r.plan.details?.summary,
    conflicts: r.conflicts,
    warnings: r.warnings.map((w) => w.message),
  };
}

export function restoreReply(cluster: string, r: RestoreResult) {
  return { ...common(r), cluster, restoredFrom: r.restoredFrom.key, restoredTakenAt: r.restoredFrom.takenAt };
}
