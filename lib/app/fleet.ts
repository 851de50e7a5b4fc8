/**
 * Many clusters from one deployment. One IAM discovery per run feeds every cluster; each cluster
 * then runs its target's use case on its own, so that one cluster refused or unreachable never
 * blocks, stops or rolls back another.
 *
 * - `fanOutClusters` (the sync function, on an IAM event, the schedule or a real manual run):
 *   discovery once → the snapshot stored (checksummed) → one message per cluster on the cluster
 *   queue. AWS does the scheduling: an SQS FIFO queue with one message group per cluster gives
 *   each cluster its own ordered, single-writer lane, and the groups run in parallel.
 * - `runClusterMessage` (the cluster function, one message per invocation): the snapshot read
 *   back and verified, then the cluster's use case with backups, metrics and logs of its own.
 * - `planClusters` (a manual dry run): discovery once, then every cluster planned in-process
 *   and answered in one reply, each cluster's outcome or error on its own line. Nothing is
 *   written, so nothing needs the queue's single-writer lanes.
 */
import { createHash } from 'node:crypto';
import { ClusterAccessError, describeError, GuardRefusedError, InputError, SyncerError } from '../errors.js';
import { isPlainObject } from '../core/objects.js';
import type { IamSnapshot } from '../core/types.js';
import * as z from '../zod.js';
import { FLEET, FLEET_METRIC } from './fleet-metrics.js';
import { stopwatch, type Trigger } from './observe.js';
import { syncAccessEntries, type EntriesDeps, type EntriesOutcome } from './access-entries.js';
import { entriesWriteReply, syncReply } from './reply.js';
import { syncAwsAuth, type SyncDeps, type SyncRequest } from './sync.js';
import {
  noMetrics,
  type Clock,
  type ClusterMessage,
  type ClusterQueue,
  type IamDirectory,
  type Log,
  type Metrics,
  type SnapshotRef,
  type SnapshotStore,
} from './ports.js';
import type { Outcome } from './write-loop.js';

/** What one cluster's run reports: its outcome and the reply its target's use case gives. */
export interface ClusterReport {
  cluster: string;
  /** The target's outcome (aws-auth: created/replaced; access entries: applied), or error/skipped. */
  outcome: Outcome | EntriesOutcome | 'error' | 'skipped';
  reply: Record<string, unknown>;
}

/**
 * The use case of each target (config `target`; each cluster of a list may name its own). The
 * fan-out does not know what a target writes: it hands each cluster the snapshot (as an
 * IamDirectory) and the request, and reports what comes back. Each target takes the ports it
 * writes through (the live composition has them all).
 */
export const CLUSTER_USE_CASES = {
  'aws-auth': async (deps: SyncDeps, req: SyncRequest): Promise<ClusterReport> => {
    const r = await syncAwsAuth(deps, req);
    return { cluster: req.policy.cluster, outcome: r.outcome, reply: syncReply(req.policy.cluster, r, req.eventIds ?? []) };
  },
  'access-entries': async (deps: EntriesDeps, req: SyncRequest): Promise<ClusterReport> => {
    const r = await syncAccessEntries(deps, req);
    return {
      cluster: req.policy.cluster,
      outcome: r.outcome,
      reply: entriesWriteReply(req.policy.cluster, r, { eventIds: req.eventIds ?? [], principals: r.principals }),
    };
  },
};

export type ClusterTarget = keyof typeof CLUSTER_USE_CASES;

/** How a cluster of the fleet is run, bound by the composition root to its own adapters and policy. */
export interface FleetCluster {
  cluster: string;
  /** Run this cluster's target over `iam` (the run's one snapshot). Throws what the use case throws. */
  run(iam: IamDirectory, opts: { dryRun: boolean; force: boolean; trigger: Trigger; eventIds: string[]; notifyRefusal?: boolean }): Promise<ClusterReport>;
}

/** A run's id: the same events give the same id (a retried batch re-sends the same messages, which SQS drops). */
export function runIdOf(eventIds: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([...eventIds].sort()))
    .digest('hex')
    .slice(0, 32);
}

/** SQS FIFO deduplication id of one cluster's message in one run. */
export function deduplicationId(m: Pick<ClusterMessage, 'runId' | 'cluster'>): string {
  return createHash('sha256').update(`${m.runId}/${m.cluster}`).digest('hex');
}

/** The fan-out could not hand every cluster its message; those sent stand, the run is retried. */
export class FanOutError extends SyncerError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super(message, { context });
    this.name = 'FanOutError';
  }
}

export interface FanOutDeps {
  iam: IamDirectory;
  snapshots: SnapshotStore;
  queue: ClusterQueue;
  clock: Clock;
  log: Log;
  metrics?: Metrics;
}

export interface FanOutRequest {
  clusters: readonly string[];
  trigger: Trigger;
  eventIds: string[];
  runId: string;
  force?: boolean;
}

export interface FanOutResult {
  runId: string;
  snapshot: SnapshotRef;
  principals: { users: number; roles: number; groups: number };
  queued: string[];
}

/** Time and count one discovery, fleet-wide. */
async function discover(deps: { iam: IamDirectory; clock: Clock; log: Log; metrics?: Metrics }): Promise<IamSnapshot> {
  const watch = stopwatch(deps.clock);
  try {
    return await deps.iam.readSnapshot();
  } finally {
    (deps.metrics ?? noMetrics).add(FLEET_METRIC.discoveryDuration, 'Milliseconds', watch(), FLEET);
  }
}

const countsOf = (s: IamSnapshot) => ({ users: s.users.length, roles: s.roles.length, groups: s.groups.length });

/**
 * One discovery, one stored snapshot, one message per cluster. A message that cannot be sent
 * fails the fan-out after the others are sent (they stand: their clusters run), so that the
 * trigger is retried; the retry sends the same deduplication ids, so clusters already queued are
 * not queued twice (within SQS's five-minute deduplication window).
 */
export async function fanOutClusters(deps: FanOutDeps, req: FanOutRequest): Promise<FanOutResult> {
  const metrics = deps.metrics ?? noMetrics;
  const snapshot = await discover(deps);
  const principals = countsOf(snapshot);
  const ref = await deps.snapshots.put(snapshot, { runId: req.runId, takenAt: deps.clock.now() });
  deps.log.info('IAM read once for every cluster', { runId: req.runId, snapshot: ref.key, sha256: ref.sha256, ...principals, clusters: req.clusters });
  const messages: ClusterMessage[] = req.clusters.map((cluster) => ({
    version: 1,
    runId: req.runId,
    cluster,
    trigger: req.trigger,
    eventIds: req.eventIds,
    snapshot: ref,
    ...(req.force ? { force: true } : {}),
  }));
  const { failed } = await deps.queue.send(messages);
  const queued = req.clusters.filter((c) => !failed.some((f) => f.cluster === c));
  metrics.add(FLEET_METRIC.clustersQueued, 'Count', queued.length, FLEET);
  metrics.add(FLEET_METRIC.clusterQueueFailed, 'Count', failed.length, FLEET);
  deps.log.info('clusters queued', { runId: req.runId, queued, failed });
  if (failed.length > 0) {
    throw new FanOutError(
      `could not queue ${failed.length} of ${req.clusters.length} cluster(s): ${failed.map((f) => `${f.cluster} (${f.reason})`).join('; ')}`,
      {
        runId: req.runId,
        failed,
        queued,
      },
    );
  }
  return { runId: req.runId, snapshot: ref, principals, queued };
}

const refSchema = z.strictObject({
  bucket: z.string().check(z.minLength(3)),
  key: z.string().check(z.minLength(1)),
  versionId: z.optional(z.string()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex')),
  size: z.int().check(z.minimum(0)),
});
const messageSchema = z.strictObject({
  version: z.literal(1),
  runId: z.string().check(z.regex(/^[\w-]{1,64}$/, 'must be a run id')),
  cluster: z.string().check(z.regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, 'must be an EKS cluster name')),
  trigger: z.enum(['iam', 'schedule', 'manual']),
  eventIds: z.array(z.string()),
  snapshot: refSchema,
  force: z.optional(z.boolean()),
});

/**
 * The messages of an SQS event for the cluster function, in the order delivered. A record that is
 * not a cluster message is an error naming the record (it stays on the queue and ends in the
 * dead-letter queue, where someone can look at it).
 */
export function parseClusterRecords(event: unknown): ClusterMessage[] {
  if (!isPlainObject(event) || !Array.isArray(event.Records)) throw new InputError('the cluster function takes SQS events (Records) from the cluster queue');
  return event.Records.map((r: unknown, i) => {
    const id = isPlainObject(r) && typeof r.messageId === 'string' ? r.messageId : `#${i}`;
    let body: unknown;
    try {
      body = JSON.parse(isPlainObject(r) && typeof r.body === 'string' ? r.body : '');
    } catch {
      throw new InputError(`SQS record ${id} is not a cluster message (body is not JSON)`);
    }
    const parsed = messageSchema.safeParse(body);
    if (!parsed.success) {
      throw new InputError(
        `SQS record ${id} is not a cluster message: ${parsed.error.issues.map((x) => `${x.path.join('.') || 'body'}: ${x.message}`).join('; ')}`,
      );
    }
    return parsed.data as ClusterMessage;
  });
}

/** The run's snapshot, read back and verified on first use (a cluster that fails before needing it never reads it). */
export function storedSnapshot(snapshots: SnapshotStore, ref: SnapshotRef): IamDirectory {
  return { readSnapshot: () => snapshots.get(ref) };
}

/** A snapshot already in hand; each cluster gets its own copy, so no plan can see another's. */
export function snapshotInHand(snapshot: IamSnapshot): IamDirectory {
  return { readSnapshot: async () => structuredClone(snapshot) };
}

/**
 * One cluster's part of a run (the cluster function). A cluster no longer in the configuration is
 * skipped with a warning (it was removed after the run was queued). A guard's refusal is final
 * and is the report: retrying the same snapshot would only be refused again, and would hold the
 * cluster's newer messages back (FIFO). It is counted (SyncRefused → the alarm) and told (the
 * refusal notice) once, here; any other failure is thrown, so SQS retries it.
 */
export async function runClusterMessage(
  deps: { snapshots: SnapshotStore; log: Log },
  message: ClusterMessage,
  cluster: FleetCluster | undefined,
): Promise<ClusterReport> {
  const ctx = { runId: message.runId, cluster: message.cluster, trigger: message.trigger, eventIds: message.eventIds };
  if (!cluster) {
    deps.log.warn('cluster is no longer in the configuration; its message is skipped', ctx);
    return { cluster: message.cluster, outcome: 'skipped', reply: { outcome: 'skipped', reason: 'not in the configuration' } };
  }
  deps.log.info('cluster run', { ...ctx, snapshot: message.snapshot.key });
  try {
    return await cluster.run(storedSnapshot(deps.snapshots, message.snapshot), {
      dryRun: false,
      force: message.force === true,
      trigger: message.trigger,
      eventIds: message.eventIds,
      // A refusal ends the message, so it is told now: a person's queued run too (its reply said "queued").
      notifyRefusal: true,
    });
  } catch (err) {
    if (err instanceof GuardRefusedError) {
      deps.log.warn(`refused: ${err.message}`, { ...ctx, refusals: err.reasons });
      return {
        cluster: message.cluster,
        outcome: 'refused',
        reply: { outcome: 'refused', cluster: message.cluster, refusals: err.reasons, diff: err.context.diff ?? [] },
      };
    }
    throw err;
  }
}

/** How long a person's dry run waits for one cluster (the sync function runs for at most 120 s). */
export const CLUSTER_DRY_RUN_TIMEOUT_MS = 45_000;

/** Order of badness, for the one-word outcome of a reply covering several clusters. */
const SEVERITY: ClusterReport['outcome'][] = ['error', 'refused', 'planned', 'created', 'replaced', 'applied', 'skipped', 'unchanged'];

/** Run `fn` over items with at most `limit` at a time, in order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * A person's dry run of every cluster (or the ones named): one discovery, every cluster planned
 * in-process (a few at a time), one reply with a report per cluster. A cluster that fails —
 * unreachable, its role not assumable, its aws-auth unreadable — is reported as `error` with the
 * message, and the others are planned all the same.
 */
export async function planClusters(
  deps: { iam: IamDirectory; clock: Clock; log: Log; metrics?: Metrics },
  clusters: readonly FleetCluster[],
  req: { force: boolean; concurrency?: number; clusterTimeoutMs?: number },
): Promise<{
  outcome: ClusterReport['outcome'];
  principals: ReturnType<typeof countsOf>;
  clusters: (Record<string, unknown> & { cluster: string; outcome: string })[];
}> {
  const snapshot = await discover(deps);
  // One cluster that never answers (a hung connection) is reported, not waited for: the others'
  // reports must reach the person before the function's own timeout.
  const limit = req.clusterTimeoutMs ?? CLUSTER_DRY_RUN_TIMEOUT_MS;
  const reports = await mapLimit(clusters, req.concurrency ?? 4, async (c): Promise<ClusterReport> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClusterAccessError(`no answer within ${limit / 1000} s (unreachable?)`)), limit);
      });
      return await Promise.race([c.run(snapshotInHand(snapshot), { dryRun: true, force: req.force, trigger: 'manual', eventIds: [] }), timeout]);
    } catch (err) {
      const d = describeError(err);
      deps.log.warn(`dry run of ${c.cluster} failed: ${d.message}`, { cluster: c.cluster, error: d });
      return { cluster: c.cluster, outcome: 'error', reply: { outcome: 'error', error: { name: d.name, message: d.message } } };
    } finally {
      clearTimeout(timer);
    }
  });
  const outcome = SEVERITY.find((s) => reports.some((r) => r.outcome === s)) ?? 'unchanged';
  return { outcome, principals: countsOf(snapshot), clusters: reports.map((r) => ({ ...r.reply, cluster: r.cluster, outcome: r.outcome })) };
}
