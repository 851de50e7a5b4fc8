/**
 * Composition of a deployment with a list of clusters (config `clusters:`): each configured
 * cluster bound to its own adapters, policy and target as a FleetCluster; the fan-out's S3
 * snapshot store and SQS cluster queue; and the entry points of the sync function (fan-out, or
 * a person's dry run of every cluster) and of the cluster function (one cluster per message).
 * Only the sync and cluster handlers import this file, so the restore and backups bundles do not
 * carry the SQS client.
 */
import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { clusterQueueUrlFromEnv } from '../config.js';
import { InputError } from '../errors.js';
import type { SyncTrigger } from '../app/events.js';
import {
  CLUSTER_USE_CASES,
  fanOutClusters,
  parseClusterRecords,
  planClusters,
  runClusterMessage,
  runIdOf,
  type ClusterReport,
  type FleetCluster,
} from '../app/fleet.js';
import { recordRun } from '../app/observe.js';
import { systemClock } from '../app/ports.js';
import { S3SnapshotStore } from './snapshots-s3.js';
import { AWS_HTTP } from './wire.js';
import { SqsClusterQueue } from './cluster-queue.js';
import { log, metrics, pickRuntime, selfArns, tracer, type LiveClusters, type Runtime } from './lambda.js';

/** One configured cluster, run with its own adapters (its region, its assumed role), policy and target. */
export function fleetCluster(rt: Runtime): FleetCluster {
  const cluster = rt.policy.cluster;
  return {
    cluster,
    async run(iam, o) {
      let self: string[];
      try {
        // The caller's identity is the cluster's side (the assumed role's session, for another account).
        self = await selfArns(rt);
      } catch (err) {
        recordRun(rt.deps.metrics!, { operation: 'sync', cluster, trigger: o.trigger, dryRun: o.dryRun, error: err });
        throw err;
      }
      const req = {
        policy: rt.policy,
        dryRun: o.dryRun,
        force: o.force,
        eventIds: o.eventIds,
        trigger: o.trigger,
        notifyRefusal: o.notifyRefusal,
        selfArns: self,
        writeAttempts: rt.settings.config.kubernetes.writeAttempts,
      };
      const deps = { ...rt.deps, iam };
      return rt.settings.config.target === 'access-entries' ? CLUSTER_USE_CASES['access-entries'](deps, req) : CLUSTER_USE_CASES['aws-auth'](deps, req);
    },
  };
}

let clients: { region: string; s3: S3Client; sqs: SQSClient } | undefined;
/** S3 and SQS in the stack's region (the backup key's), whatever region the clusters are in. */
function stackClients(rt: Runtime): { s3: S3Client; sqs: SQSClient } {
  const region = rt.settings.macKey.region;
  if (clients?.region !== region) {
    clients = {
      region,
      s3: tracer.captureAWSv3Client(new S3Client({ region, maxAttempts: 5, followRegionRedirects: true, requestHandler: AWS_HTTP })),
      sqs: tracer.captureAWSv3Client(new SQSClient({ region, maxAttempts: 5, requestHandler: AWS_HTTP })),
    };
  }
  return clients;
}

type Started = Exclude<SyncTrigger, { kind: 'ignored' }>;

/**
 * The sync function with a list of clusters. A person's dry run (`{"dryRun": true}`, optionally
 * `"cluster"`) plans every cluster in-process and answers in one reply, nothing written. Every
 * other run — IAM events, the schedule, a person's real run — reads IAM once, stores the
 * snapshot and queues one message per cluster: writes happen only in the cluster function, one
 * writer per cluster.
 */
export async function syncFleet(live: LiveClusters, trigger: Started) {
  // Force waives guards: for the one cluster whose dry run a person reviewed, never the whole list.
  if (trigger.kind === 'manual' && trigger.force && !trigger.dryRun && trigger.cluster === undefined)
    throw new InputError(
      `"force" needs "cluster" with a list of clusters (${live.runtimes.map((r) => r.policy.cluster).join(', ')}): it waives guards for the one cluster whose dry run you reviewed`,
    );
  const chosen = trigger.kind === 'manual' && trigger.cluster !== undefined ? [pickRuntime(live, trigger.cluster)] : live.runtimes;
  // IAM, the bucket and the key are the deployment's, the same for every cluster.
  const shared = chosen[0]!;
  if (trigger.kind === 'manual' && trigger.dryRun) {
    return planClusters({ iam: shared.deps.iam, clock: systemClock, log, metrics }, chosen.map(fleetCluster), { force: trigger.force });
  }
  const eventIds = trigger.kind === 'manual' ? [] : trigger.eventIds;
  const { s3, sqs } = stackClients(shared);
  const r = await fanOutClusters(
    {
      iam: shared.deps.iam,
      snapshots: new S3SnapshotStore(s3, { bucket: shared.settings.bucket, prefix: shared.settings.config.backup.prefix }),
      queue: new SqsClusterQueue(sqs, clusterQueueUrlFromEnv()),
      clock: systemClock,
      log,
      metrics,
    },
    {
      clusters: chosen.map((c) => c.policy.cluster),
      trigger: trigger.kind,
      eventIds,
      // A retried trigger (same events) is the same run, so SQS drops the copies of messages already sent.
      runId: trigger.kind === 'manual' ? randomUUID() : runIdOf(eventIds),
      force: trigger.kind === 'manual' && trigger.force,
    },
  );
  return {
    outcome: 'queued' as const,
    runId: r.runId,
    eventIds,
    snapshot: { key: r.snapshot.key, sha256: r.snapshot.sha256 },
    principals: r.principals,
    clusters: r.queued,
  };
}

/**
 * The cluster function: one message per invocation (batch size 1), in the order of its cluster's
 * message group. Messages are run in order and the first failure is thrown, so SQS retries it
 * (and, after its receive count, dead-letters it) without running the next message of that
 * cluster first.
 */
export async function runClusterEvent(event: unknown, live: LiveClusters, bind: (rt: Runtime) => FleetCluster = fleetCluster) {
  const messages = parseClusterRecords(event);
  const reports: ClusterReport[] = [];
  for (const m of messages) {
    const rt = live.runtimes.find((r) => r.policy.cluster === m.cluster);
    const { s3 } = stackClients(rt ?? live.runtimes[0]!);
    reports.push(await runClusterMessage({ snapshots: new S3SnapshotStore(s3, { bucket: m.snapshot.bucket, prefix: '' }), log }, m, rt ? bind(rt) : undefined));
  }
  return { clusters: reports.map((r) => ({ ...r.reply, cluster: r.cluster, outcome: r.outcome })) };
}
