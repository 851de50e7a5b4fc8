/**
 * What a run reports besides its reply: the metrics (names, units, dimensions) and the notice of
 * an applied change. The use cases call these; adapters decide where they go (CloudWatch EMF and
 * SNS in Lambda, nowhere in the CLI). serverless.yml's alarms and dashboard name the metrics
 * below; test/unit/serverless.test.ts checks that they agree.
 */
import { GuardRefusedError } from '../errors.js';
import { summarize } from '../core/diff.js';
import type { EntryChange } from '../core/types.js';
import { noMetrics, type Clock, type Dimensions, type Log, type Metrics, type Notice, type Notifier } from './ports.js';
import type { Outcome, PlannedChange, WriteResult } from './write-loop.js';

/** What started a run. `iam` and `schedule` are automatic: nobody reads their reply. */
export type Trigger = 'iam' | 'schedule' | 'manual';

export type Operation = 'sync' | 'restore';

/** One Count of 1 per sync run, by outcome (`error`: the run threw, other than a refusal). */
export const SYNC_OUTCOME_METRICS = {
  unchanged: 'SyncUnchanged',
  planned: 'SyncPlanned',
  refused: 'SyncRefused',
  created: 'SyncCreated',
  replaced: 'SyncReplaced',
  error: 'SyncError',
} as const satisfies Record<Outcome | 'error', string>;

/** The same for restore runs. */
export const RESTORE_OUTCOME_METRICS = {
  unchanged: 'RestoreUnchanged',
  planned: 'RestorePlanned',
  refused: 'RestoreRefused',
  created: 'RestoreCreated',
  replaced: 'RestoreReplaced',
  error: 'RestoreError',
} as const satisfies Record<Outcome | 'error', string>;

/** Every other metric the syncer publishes (namespace AwsAuthSyncer). */
export const METRIC = {
  /** 1 per real (not dry-run) sync that ended unchanged, created or replaced: the "still alive" signal. */
  syncSucceeded: 'SyncSucceeded',
  /** 1 per refusal reason of a refused run, with the dimension `code`. */
  refusals: 'Refusals',
  /** Entries changed by an applied write (created or replaced), from the plan's changes. */
  entriesAdded: 'EntriesAdded',
  entriesRemoved: 'EntriesRemoved',
  entriesUpdated: 'EntriesUpdated',
  entriesAdopted: 'EntriesAdopted',
  /** Identities that gained or lost access through an applied write (see identityCounts). */
  identitiesAdded: 'IdentitiesAdded',
  identitiesRemoved: 'IdentitiesRemoved',
  /** Scheduled runs only: 1 when the schedule found something to change (a change no IAM event explained), else 0. */
  driftFound: 'DriftFound',
  discoveryDuration: 'DiscoveryDuration',
  /** One point per read-plan-write attempt. */
  planDuration: 'PlanDuration',
  backupDuration: 'BackupDuration',
  writeDuration: 'WriteDuration',
  /** An applied change whose notice could not be published (the change itself stands). */
  notificationFailed: 'ChangeNotificationFailed',
  /** The configuration could not be loaded or is invalid; dimension `function_name` (the cluster is not known). */
  configInvalid: 'ConfigInvalid',
} as const;

/** Published per cluster. */
export const byCluster = (cluster: string): Dimensions[] => [{ cluster }];
/** Published per cluster, and per cluster and trigger (so alarms can pick the automatic runs). */
export const byClusterAndTrigger = (cluster: string, trigger: Trigger): Dimensions[] => [{ cluster }, { cluster, trigger }];

/** A stopwatch on the injected clock: call the result to read the elapsed milliseconds. */
export function stopwatch(clock: Clock): () => number {
  const start = clock.now().getTime();
  return () => Math.max(0, clock.now().getTime() - start);
}

/**
 * Identities that gained or lost access through one applied change. THE one place identity
 * counts are taken: from the plan's access diff (who can log in, as aws-iam-authenticator reads
 * aws-auth, before and after), counted as the core's summary counts it. A plan without one (an
 * older caller) falls back to the entry changes: one entry maps one ARN, so an added entry is an
 * identity gaining access and a removed one an identity losing it.
 */
export function identityCounts(plan: PlannedChange): { added: number; removed: number } {
  if (plan.access) {
    const s = summarize([], [], 0, plan.access);
    return { added: s.identitiesAdded, removed: s.identitiesRemoved };
  }
  return { added: countOps(plan.changes, 'add'), removed: countOps(plan.changes, 'remove') };
}

const countOps = (changes: readonly EntryChange[], op: EntryChange['op']): number => changes.filter((c) => c.op === op).length;

/** The outcome and the refusals of a finished run, whether it returned or threw. */
function settle(run: { result?: WriteResult; error?: unknown }): {
  outcome: Outcome | 'error';
  refusals: readonly { code: string }[];
  changed: boolean | undefined;
} {
  if (run.result)
    return { outcome: run.result.outcome, refusals: run.result.outcome === 'refused' ? run.result.plan.refusals : [], changed: run.result.plan.changed };
  if (run.error instanceof GuardRefusedError) return { outcome: 'refused', refusals: run.error.reasons, changed: true };
  return { outcome: 'error', refusals: [], changed: undefined };
}

/** Record every metric of one finished sync or restore run (returned `result` or thrown `error`). */
export function recordRun(
  metrics: Metrics,
  run: { operation: Operation; cluster: string; trigger: Trigger; dryRun: boolean; result?: WriteResult; error?: unknown },
): void {
  const { cluster, trigger } = run;
  const { outcome, refusals, changed } = settle(run);
  const names = run.operation === 'sync' ? SYNC_OUTCOME_METRICS : RESTORE_OUTCOME_METRICS;
  metrics.add(names[outcome], 'Count', 1, byClusterAndTrigger(cluster, trigger));
  for (const r of refusals) metrics.add(METRIC.refusals, 'Count', 1, [{ cluster, code: r.code }]);
  if (run.operation === 'sync' && !run.dryRun && (outcome === 'unchanged' || outcome === 'created' || outcome === 'replaced')) {
    metrics.add(METRIC.syncSucceeded, 'Count', 1, byCluster(cluster));
  }
  if (run.operation === 'sync' && trigger === 'schedule' && changed !== undefined) {
    metrics.add(METRIC.driftFound, 'Count', changed ? 1 : 0, byCluster(cluster));
  }
  if (run.result && (outcome === 'created' || outcome === 'replaced')) {
    const changes = run.result.plan.changes;
    metrics.add(METRIC.entriesAdded, 'Count', countOps(changes, 'add'), byCluster(cluster));
    metrics.add(METRIC.entriesRemoved, 'Count', countOps(changes, 'remove'), byCluster(cluster));
    metrics.add(METRIC.entriesUpdated, 'Count', countOps(changes, 'update'), byCluster(cluster));
    metrics.add(METRIC.entriesAdopted, 'Count', countOps(changes, 'adopt'), byCluster(cluster));
    const identities = identityCounts(run.result.plan);
    metrics.add(METRIC.identitiesAdded, 'Count', identities.added, byCluster(cluster));
    metrics.add(METRIC.identitiesRemoved, 'Count', identities.removed, byCluster(cluster));
  }
}

/**
 * Publish the notice of an applied change, when a notifier is set. The change is in the cluster
 * and in the logs: a lost notice is a warning and a metric, and must not fail (and retry) the run.
 */
export async function publishChange(deps: { notifier?: Notifier; log: Log; metrics?: Metrics }, cluster: string, make: () => Notice): Promise<void> {
  if (!deps.notifier) return;
  try {
    await deps.notifier.publish(make());
  } catch (err) {
    deps.log.warn('could not publish the change notice', { cluster, error: (err as Error).message });
    (deps.metrics ?? noMetrics).add(METRIC.notificationFailed, 'Count', 1, byCluster(cluster));
  }
}

/** SNS accepts 256 KiB per message; stay well below it, subject and envelope included. */
export const NOTICE_MAX_BODY_BYTES = 200_000;
const SUBJECT_MAX = 100;

/**
 * The notice of an applied change: a one-line subject and a JSON body carrying the diff (so a
 * person can read it in an e-mail and a program can parse it). A diff too large for SNS keeps
 * its first lines and says how many were left out; the backup key leads to the full picture.
 */
export function changeNotice(input: { operation: Operation; cluster: string; trigger: Trigger; eventIds: readonly string[]; result: WriteResult }): Notice {
  const { result } = input;
  const changes = result.plan.changes;
  const identities = identityCounts(result.plan);
  const summary = {
    entriesAdded: countOps(changes, 'add'),
    entriesRemoved: countOps(changes, 'remove'),
    entriesUpdated: countOps(changes, 'update'),
    entriesAdopted: countOps(changes, 'adopt'),
    identitiesAdded: identities.added,
    identitiesRemoved: identities.removed,
  };
  const what = input.operation === 'restore' ? 'restored' : result.outcome;
  return notice({
    subject: `aws-auth-syncer: aws-auth ${what} on ${input.cluster} (+${summary.entriesAdded} -${summary.entriesRemoved} ~${summary.entriesUpdated})`,
    base: {
      cluster: input.cluster,
      operation: input.operation,
      outcome: result.outcome,
      trigger: input.trigger,
      eventIds: input.eventIds,
      backupKey: result.backupKey,
      resourceVersion: result.resourceVersion,
      summary,
    },
    report: result.plan.report,
  });
}

/** The notice of applied access-entry calls (target access-entries): the same shape, its own summary. */
export function entriesChangeNotice(input: {
  operation: Operation;
  cluster: string;
  trigger: Trigger;
  eventIds: readonly string[];
  result: { outcome: string; applied: number; backupKey?: string; report: readonly string[]; plan: { summary: EntriesSummary } };
}): Notice {
  const { result } = input;
  const s = result.plan.summary;
  const what = input.operation === 'restore' ? 'restored' : 'changed';
  return notice({
    subject: `aws-auth-syncer: access entries ${what} on ${input.cluster} (+${s.create} -${s.delete} ~${s.update + s.recreate})`,
    base: {
      cluster: input.cluster,
      target: 'access-entries',
      operation: input.operation,
      outcome: result.outcome,
      trigger: input.trigger,
      eventIds: input.eventIds,
      backupKey: result.backupKey,
      calls: result.applied,
      summary: {
        entriesAdded: s.create,
        entriesRemoved: s.delete,
        entriesUpdated: s.update + s.recreate,
        identitiesAdded: s.identitiesAdded,
        identitiesRemoved: s.identitiesRemoved,
      },
    },
    report: result.report,
  });
}

/**
 * The notice of a refused automatic sync (an IAM event or the schedule: nobody reads its reply):
 * which guards refused and why, and the diff that was not written. The alarm on SyncRefused says
 * that it happened; this says what to look at.
 */
export function refusalNotice(input: {
  cluster: string;
  target: 'aws-auth' | 'access-entries';
  trigger: Trigger;
  eventIds: readonly string[];
  error: GuardRefusedError;
}): Notice {
  const { error } = input;
  const diff = Array.isArray(error.context.diff) ? (error.context.diff as unknown[]).map(String) : [];
  return notice({
    subject: `aws-auth-syncer: sync REFUSED on ${input.cluster} (${[...new Set(error.reasons.map((r) => r.code))].join(', ')})`,
    base: {
      cluster: input.cluster,
      target: input.target,
      operation: 'sync',
      outcome: 'refused',
      trigger: input.trigger,
      eventIds: input.eventIds,
      refusals: error.reasons,
    },
    report: diff,
  });
}

/**
 * Publish the refusal notice of a run that nobody watches: an automatic one, or a person's run
 * queued for a cluster (`notify` says which; by default every run but a manual one). The caller
 * passes false for a redelivered event, so that a retried refusal is told once.
 */
export async function publishRefusal(
  deps: { notifier?: Notifier; log: Log; metrics?: Metrics },
  run: { cluster: string; target: 'aws-auth' | 'access-entries'; trigger: Trigger; eventIds: readonly string[]; notify?: boolean },
  err: unknown,
): Promise<void> {
  if (!(err instanceof GuardRefusedError) || !(run.notify ?? run.trigger !== 'manual')) return;
  await publishChange(deps, run.cluster, () => refusalNotice({ ...run, error: err }));
}

type EntriesSummary = { create: number; delete: number; update: number; recreate: number; identitiesAdded: number; identitiesRemoved: number };

function notice(n: { subject: string; base: Record<string, unknown>; report: readonly string[] }): Notice {
  // SNS subjects: printable ASCII, one line.
  const subject = n.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, SUBJECT_MAX);
  // Keep the longest prefix of the diff that fits: each line costs its JSON text plus the
  // indentation, comma and newline of the pretty-printed array.
  const { base, report } = n;
  let budget = NOTICE_MAX_BODY_BYTES - Buffer.byteLength(JSON.stringify({ ...base, diff: [], diffLinesOmitted: report.length }, null, 2), 'utf8');
  let kept = 0;
  for (const line of report) {
    budget -= Buffer.byteLength(JSON.stringify(line), 'utf8') + 6;
    if (budget < 0) break;
    kept++;
  }
  const body = JSON.stringify({ ...base, diff: report.slice(0, kept), diffLinesOmitted: report.length - kept }, null, 2);
  return { subject, body };
}

/**
 * Record a finished run of the access-entries target with the same metric names: `applied` counts
 * as `replaced` (a change written), entries are the calls that create and delete entries.
 */
export function recordEntriesRun(
  metrics: Metrics,
  run: {
    operation: Operation;
    cluster: string;
    trigger: Trigger;
    dryRun: boolean;
    result?: {
      outcome: 'unchanged' | 'planned' | 'refused' | 'applied';
      plan: {
        changed: boolean;
        refusals: readonly { code: string }[];
        summary: { create: number; delete: number; update: number; recreate: number; identitiesAdded: number; identitiesRemoved: number };
      };
    };
    error?: unknown;
  },
): void {
  const { cluster, trigger } = run;
  const outcome = run.result
    ? run.result.outcome === 'applied'
      ? 'replaced'
      : run.result.outcome
    : run.error instanceof GuardRefusedError
      ? 'refused'
      : 'error';
  const refusals = run.result
    ? run.result.outcome === 'refused'
      ? run.result.plan.refusals
      : []
    : run.error instanceof GuardRefusedError
      ? run.error.reasons
      : [];
  const names = run.operation === 'sync' ? SYNC_OUTCOME_METRICS : RESTORE_OUTCOME_METRICS;
  metrics.add(names[outcome], 'Count', 1, byClusterAndTrigger(cluster, trigger));
  for (const r of refusals) metrics.add(METRIC.refusals, 'Count', 1, [{ cluster, code: r.code }]);
  if (run.operation === 'sync' && !run.dryRun && (outcome === 'unchanged' || outcome === 'replaced'))
    metrics.add(METRIC.syncSucceeded, 'Count', 1, byCluster(cluster));
  if (run.operation === 'sync' && trigger === 'schedule' && run.result)
    metrics.add(METRIC.driftFound, 'Count', run.result.plan.changed ? 1 : 0, byCluster(cluster));
  if (run.result && outcome === 'replaced') {
    const s = run.result.plan.summary;
    metrics.add(METRIC.entriesAdded, 'Count', s.create, byCluster(cluster));
    metrics.add(METRIC.entriesRemoved, 'Count', s.delete, byCluster(cluster));
    metrics.add(METRIC.entriesUpdated, 'Count', s.update + s.recreate, byCluster(cluster));
    metrics.add(METRIC.identitiesAdded, 'Count', s.identitiesAdded, byCluster(cluster));
    metrics.add(METRIC.identitiesRemoved, 'Count', s.identitiesRemoved, byCluster(cluster));
  }
}
