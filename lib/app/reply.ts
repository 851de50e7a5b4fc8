/**
 * The JSON a function invocation returns: what happened, the diff, the backup key. The same
 * fields are logged, so a manual invoke and the logs tell the same story; the CLI's
 * `--output json` prints the same shapes, so a script reads the Lambda and the CLI alike.
 */
import { callJson, formatEntriesReport, formatEntryAccessChange, type EntriesPlan } from '../core/access-entries.js';
import { formatAccessChange, formatReport } from '../core/diff.js';
import type { SyncPlan } from '../core/plan.js';
import { configMapManifest } from './manifest.js';
import { describeError, type GuardRefusedError } from '../errors.js';
import type { BackupRecord } from './ports.js';
import type { RestoreResult } from './restore.js';
import type { SyncResult } from './sync.js';
import type { WriteResult } from './write-loop.js';
import type { EntriesResult } from './access-entries.js';

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
    manifest: r.outcome === 'planned' || r.outcome === 'refused' ? configMapManifest(r.plan.next) : undefined,
  };
}

/** A sync: the write result, the IAM counts, the conflicts and warnings of the plan. */
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

/** A restore: the write result and the backup it restored from. */
export function restoreReply(cluster: string, r: RestoreResult) {
  return { ...common(r), cluster, restoredFrom: r.restoredFrom.key, restoredTakenAt: r.restoredFrom.takenAt };
}

/**
 * An offline plan (the CLI's `plan`), from the plan result alone: the fields a sync dry run
 * replies with, where the plan has them. The one place a plan becomes JSON.
 */
export function planReply(cluster: string, plan: SyncPlan) {
  const outcome = !plan.changed ? 'unchanged' : plan.refusals.length > 0 ? 'refused' : 'planned';
  return {
    outcome,
    cluster,
    create: plan.create,
    diff: formatReport(plan),
    /** Who gains, loses or changes access, as the authenticator reads it. */
    access: plan.access.map(formatAccessChange),
    refusals: plan.refusals,
    summary: plan.summary,
    conflicts: plan.conflicts,
    warnings: plan.warnings.map((w) => w.message),
    manifest: outcome === 'unchanged' ? undefined : configMapManifest(plan.next),
  };
}

/**
 * An access-entries plan (the CLI's `plan --target access-entries`, and the base of the live
 * replies): the EKS calls in the order they would be made, the refusals and warnings, who gains,
 * loses or changes access, and the same report lines as the text output.
 */
export function entriesPlanReply(cluster: string, plan: EntriesPlan) {
  const outcome = !plan.changed ? 'unchanged' : plan.refusals.length > 0 ? 'refused' : 'planned';
  return {
    target: 'access-entries' as const,
    outcome,
    cluster,
    calls: plan.calls.map(callJson),
    refusals: plan.refusals,
    warnings: plan.warnings.map((w) => w.message),
    conflicts: plan.conflicts,
    /** Who gains, loses or changes access, as EKS access entries grant it. */
    access: plan.access.map(formatEntryAccessChange),
    summary: plan.summary,
    diff: formatEntriesReport(plan),
  };
}

/** A live access-entries sync or restore: the plan's fields and what happened. */
export function entriesWriteReply(cluster: string, r: EntriesResult, extra: Record<string, unknown> = {}) {
  return {
    ...entriesPlanReply(cluster, r.plan),
    outcome: r.outcome,
    applied: r.applied,
    backupKey: r.backupKey,
    authenticationMode: r.authenticationMode,
    ...extra,
  };
}

/** The cluster's backups, newest first. */
export function backupsReply(cluster: string, backups: BackupRecord[]) {
  return { outcome: 'listed' as const, cluster, count: backups.length, backups };
}

/** A write a guard refused (asked for by a person: the refusal is the answer). */
export function refusedReply(err: GuardRefusedError) {
  return { outcome: 'refused' as const, refusals: err.reasons, diff: (err.context.diff as string[] | undefined) ?? [] };
}

/** Anything that stopped the run: its name and message, never a stack. */
export function errorReply(err: unknown) {
  const d = describeError(err);
  return { outcome: 'error' as const, error: { name: d.name, message: d.message } };
}

export type ErrorReply = ReturnType<typeof refusedReply> | ReturnType<typeof errorReply>;
