/**
 * Many clusters from one run (lib/app/fleet.ts) over in-memory ports: one discovery feeds every
 * cluster, each cluster is written, refused or fails on its own, and the metrics — asserted on
 * the EMF lines the Powertools adapter prints — are per cluster, with fleet-wide totals.
 */
import { describe, expect, test } from '@jest/globals';
import {
  CLUSTER_USE_CASES,
  deduplicationId,
  fanOutClusters,
  FanOutError,
  parseClusterRecords,
  planClusters,
  runClusterMessage,
  runIdOf,
  type FleetCluster,
} from '../../../lib/app/fleet.js';
import { FLEET_METRIC, withFleetTotals } from '../../../lib/app/fleet-metrics.js';
import { METRIC } from '../../../lib/app/observe.js';
import type { ClusterMessage, Metrics, Notice } from '../../../lib/app/ports.js';
import { EmfMetrics } from '../../../lib/adapters/metrics.js';
import { DEFAULT_ROLE_USERNAME, type SyncPolicy } from '../../../lib/core/policy.js';
import type { ConfigMapObject } from '../../../lib/core/types.js';
import { BackupIntegrityError, ClusterAccessError, InputError } from '../../../lib/errors.js';
import { entriesOf } from '../../support/entries.js';
import { captureStdout, emfOf, points } from '../../support/emf.js';
import {
  awsAuth,
  fixedClock,
  iam,
  MemoryAwsAuthStore,
  MemoryBackupStore,
  MemoryClusterQueue,
  MemoryLog,
  MemorySnapshotStore,
  StaticIam,
} from '../../support/memory.js';

const NODES = `- rolearn: arn:aws:iam::111122223333:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::111122223333:role/break-glass
  username: break-glass
  groups:
    - system:masters
`;
/** An anchor: text the syncer will not interpret, so a sync that would change aws-auth is refused (current-unreadable). */
const UNREADABLE = `- rolearn: arn:aws:iam::111122223333:role/nodes
  username: &u system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
`;

const policyOf = (cluster: string): SyncPolicy => ({
  cluster,
  partition: 'aws',
  groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'] }],
  roleMappings: [],
  tagPrefix: 'aws-auth-syncer',
  tags: { allowedGroups: ['*'] },
  roleUsername: DEFAULT_ROLE_USERNAME,
  userUsername: '{userName}',
  adoptUnmanaged: false,
  guards: { maxRemovals: 10 },
});

const devs = () =>
  iam({
    groups: ['devs'],
    users: [
      { name: 'alice', groups: ['devs'] },
      { name: 'bob', groups: ['devs'] },
    ],
  });

/** A cluster of the fleet over its own in-memory aws-auth and backups, bound as lib/adapters/fleet-wire.ts binds the live ones. */
function memoryCluster(name: string, current: ConfigMapObject | null, metrics: Metrics, log = new MemoryLog()) {
  const store = new MemoryAwsAuthStore(current);
  const backups = new MemoryBackupStore();
  const notices: Notice[] = [];
  const notifier = { publish: async (n: Notice) => void notices.push(n) };
  const cluster: FleetCluster = {
    cluster: name,
    run: (directory, o) =>
      CLUSTER_USE_CASES['aws-auth']({ iam: directory, store, backups, clock: fixedClock(), log, metrics, notifier }, { policy: policyOf(name), ...o }),
  };
  return { cluster, store, backups, notices };
}

const arns = (cm: ConfigMapObject | null) => entriesOf(cm, 'mapUsers').map((e) => e.arn);

function fleet() {
  const emf = new EmfMetrics({ serviceName: 'aws-auth-syncer' });
  const metrics = withFleetTotals(emf);
  const log = new MemoryLog();
  const directory = new StaticIam(devs());
  const snapshots = new MemorySnapshotStore();
  const queue = new MemoryClusterQueue();
  const prod = memoryCluster('prod', awsAuth({ mapRoles: NODES }), metrics, log);
  const staging = memoryCluster('staging', awsAuth({ mapRoles: UNREADABLE }), metrics, log);
  const fanOutDeps = { iam: directory, snapshots, queue, clock: fixedClock(), log, metrics };
  return {
    emf,
    metrics,
    log,
    directory,
    snapshots,
    queue,
    prod,
    staging,
    fanOutDeps,
    byName: new Map([prod, staging].map((c) => [c.cluster.cluster, c.cluster])),
  };
}

describe('fan-out: one discovery, one message per cluster', () => {
  test('IAM is read once and stored once; each cluster gets a message naming the snapshot and its SHA-256', async () => {
    const f = fleet();
    const { lines, result } = await captureStdout(async () => {
      const r = await fanOutClusters(f.fanOutDeps, { clusters: ['prod', 'staging'], trigger: 'iam', eventIds: ['e1', 'e2'], runId: runIdOf(['e2', 'e1']) });
      f.emf.flush();
      return r;
    });
    expect(f.directory.reads).toBe(1);
    expect(f.snapshots.puts).toBe(1);
    expect(result!.queued).toEqual(['prod', 'staging']);
    expect(result!.principals).toEqual({ users: 2, roles: 0, groups: 1 });
    expect(f.queue.sent.map((m) => [m.cluster, m.trigger, m.eventIds, m.snapshot])).toEqual([
      ['prod', 'iam', ['e1', 'e2'], result!.snapshot],
      ['staging', 'iam', ['e1', 'e2'], result!.snapshot],
    ]);
    expect(result!.snapshot.sha256).toMatch(/^[0-9a-f]{64}$/);
    // the same events give the same run id, in any order; each cluster its own deduplication id
    expect(result!.runId).toBe(runIdOf(['e1', 'e2']));
    expect(new Set(f.queue.sent.map(deduplicationId)).size).toBe(2);
    const emf = emfOf(lines);
    expect(points(emf, FLEET_METRIC.clustersQueued).map((p) => [p.value, p.dims])).toEqual([[2, { service: 'aws-auth-syncer' }]]);
    expect(points(emf, FLEET_METRIC.clusterQueueFailed).map((p) => p.value)).toEqual([0]);
    expect(points(emf, FLEET_METRIC.discoveryDuration).map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer' }]);
  });

  test('a message that cannot be sent fails the fan-out after the others are sent (the run is retried)', async () => {
    const f = fleet();
    f.queue.refuse.add('staging');
    const err = await fanOutClusters(f.fanOutDeps, { clusters: ['prod', 'staging'], trigger: 'schedule', eventIds: ['s1'], runId: 'r1' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FanOutError);
    expect((err as Error).message).toBe('could not queue 1 of 2 cluster(s): staging (InternalError: try again)');
    expect(f.queue.sent.map((m) => m.cluster)).toEqual(['prod']);
  });
});

describe('cluster runs: each cluster on its own', () => {
  test('one cluster written, the other refused: backups, replies and metrics per cluster; one discovery in all', async () => {
    const f = fleet();
    // the fan-out is the sync function's invocation, with its own flush
    await captureStdout(async () => {
      await fanOutClusters(f.fanOutDeps, { clusters: ['prod', 'staging'], trigger: 'iam', eventIds: ['e1'], runId: 'run-1' });
      f.emf.flush();
    });
    const stagingBefore = structuredClone(f.staging.store.object);
    const { lines } = await captureStdout(async () => {
      // Each message is its own invocation of the cluster function (batch size 1), so each has its own flush.
      const outcomes: unknown[] = [];
      for (const m of f.queue.sent) {
        outcomes.push(await runClusterMessage({ snapshots: f.snapshots, log: f.log }, m, f.byName.get(m.cluster)).catch((e: unknown) => e));
        f.emf.flush();
      }
      const [prod, staging] = outcomes as [{ outcome: string; reply: { backupKey: string } }, { outcome: string; reply: { refusals: { code: string }[] } }];
      expect(prod.outcome).toBe('replaced');
      expect(prod.reply.backupKey).toMatch(/^b\/prod\//);
      // a refusal is final: the report (the message is done, not retried against the same snapshot)
      expect(staging.outcome).toBe('refused');
      expect(staging.reply.refusals.map((r) => r.code)).toEqual(['current-unreadable']);
    });
    expect(f.directory.reads).toBe(1);
    expect(f.snapshots.gets).toBe(2);
    expect(arns(f.prod.store.object)).toEqual(['arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/bob']);
    expect(f.staging.store.object).toEqual(stagingBefore);
    expect(f.staging.store.writes).toBe(0);
    expect([...f.prod.backups.objects.keys()]).toHaveLength(1);
    expect(f.staging.backups.objects.size).toBe(0);

    const emf = emfOf(lines);
    const dims = (name: string) => points(emf, name).map((p) => p.dims);
    // per cluster and trigger, as a one-cluster deployment publishes them, plus fleet totals
    expect(dims('SyncReplaced')).toEqual([{ service: 'aws-auth-syncer', cluster: 'prod', trigger: 'iam' }]);
    expect(points(emf, 'SyncReplaced')[0]!.dimensionSets).toEqual([
      ['service', 'cluster'],
      ['service', 'cluster', 'trigger'],
      ['service'],
      ['service', 'trigger'],
    ]);
    expect(dims('SyncRefused')).toEqual([{ service: 'aws-auth-syncer', cluster: 'staging', trigger: 'iam' }]);
    expect(points(emf, 'SyncRefused')[0]!.dimensionSets).toEqual([
      ['service', 'cluster'],
      ['service', 'cluster', 'trigger'],
      ['service'],
      ['service', 'trigger'],
    ]);
    expect(dims(METRIC.refusals)).toEqual([{ service: 'aws-auth-syncer', cluster: 'staging', code: 'current-unreadable' }]);
    expect(points(emf, METRIC.syncSucceeded).map((p) => [p.value, p.dims])).toEqual([[1, { service: 'aws-auth-syncer', cluster: 'prod' }]]);
    expect(points(emf, METRIC.entriesAdded).map((p) => [p.value, p.dims])).toEqual([[2, { service: 'aws-auth-syncer', cluster: 'prod' }]]);
    expect(points(emf, METRIC.identitiesAdded).map((p) => [p.value, p.dims])).toEqual([[2, { service: 'aws-auth-syncer', cluster: 'prod' }]]);
    // each cluster timed its own read of the stored snapshot
    expect(dims(METRIC.discoveryDuration)).toEqual([
      { service: 'aws-auth-syncer', cluster: 'prod' },
      { service: 'aws-auth-syncer', cluster: 'staging' },
    ]);
  });

  test('a snapshot altered after the run stored it is refused, and nothing is written', async () => {
    const f = fleet();
    await fanOutClusters(f.fanOutDeps, { clusters: ['prod'], trigger: 'iam', eventIds: ['e1'], runId: 'run-2' });
    const m = f.queue.sent[0]!;
    const body = JSON.parse(f.snapshots.bodies.get(m.snapshot.key)!);
    body.users.push({ ...body.users[0], arn: 'arn:aws:iam::111122223333:user/mallory', userName: 'mallory' });
    f.snapshots.bodies.set(m.snapshot.key, JSON.stringify(body));
    const err = await runClusterMessage({ snapshots: f.snapshots, log: f.log }, m, f.byName.get('prod')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackupIntegrityError);
    expect(f.prod.store.writes).toBe(0);
  });

  test("a person's queued run that a guard refuses is reported and told on the topic; a cluster removed from the config is skipped", async () => {
    const f = fleet();
    await fanOutClusters(f.fanOutDeps, { clusters: ['staging', 'gone'], trigger: 'manual', eventIds: [], runId: 'manual-1', force: false });
    const [staging, gone] = f.queue.sent as [ClusterMessage, ClusterMessage];
    const r = await runClusterMessage({ snapshots: f.snapshots, log: f.log }, staging, f.byName.get('staging'));
    expect(r).toMatchObject({ cluster: 'staging', outcome: 'refused', reply: { outcome: 'refused', refusals: [{ code: 'current-unreadable' }] } });
    // its reply said "queued": the refusal is told on the topic
    expect(f.staging.notices.map((n) => n.subject)).toEqual(['aws-auth-syncer: sync REFUSED on staging (current-unreadable)']);
    expect(await runClusterMessage({ snapshots: f.snapshots, log: f.log }, gone, undefined)).toEqual({
      cluster: 'gone',
      outcome: 'skipped',
      reply: { outcome: 'skipped', reason: 'not in the configuration' },
    });
    expect(f.log.lines.some((l) => l.level === 'warn' && l.message.startsWith('cluster is no longer in the configuration'))).toBe(true);
  });

  test('force travels with the message: unreadable text is kept byte for byte and the rest synced', async () => {
    const f = fleet();
    await fanOutClusters(f.fanOutDeps, { clusters: ['staging'], trigger: 'manual', eventIds: [], runId: 'manual-2', force: true });
    expect(f.queue.sent[0]!.force).toBe(true);
    const r = await runClusterMessage({ snapshots: f.snapshots, log: f.log }, f.queue.sent[0]!, f.byName.get('staging'));
    expect(r.outcome).toBe('replaced');
    expect(f.staging.store.object!.data!.mapRoles).toBe(UNREADABLE);
  });
});

describe('a dry run of every cluster, in one reply', () => {
  test('one discovery; an unreachable cluster is reported as an error and the others are planned; nothing is written', async () => {
    const f = fleet();
    const down = memoryCluster('down', awsAuth({ mapRoles: NODES }), f.metrics, f.log);
    down.store.read = async () => {
      throw new ClusterAccessError('Kubernetes API GET /api/v1/namespaces/kube-system/configmaps/aws-auth failed: ECONNREFUSED');
    };
    const { lines, result } = await captureStdout(async () => {
      const r = await planClusters(
        { iam: f.directory, clock: fixedClock(), log: f.log, metrics: f.metrics },
        [f.prod.cluster, down.cluster, f.staging.cluster],
        { force: false },
      );
      f.emf.flush();
      return r;
    });
    expect(f.directory.reads).toBe(1);
    expect(result!.outcome).toBe('error');
    expect(result!.principals).toEqual({ users: 2, roles: 0, groups: 1 });
    expect(result!.clusters.map((c) => [c.cluster, c.outcome])).toEqual([
      ['prod', 'planned'],
      ['down', 'error'],
      ['staging', 'refused'],
    ]);
    expect(result!.clusters[0]!.diff).toEqual(expect.arrayContaining([expect.stringMatching(/^\+ mapUsers arn:aws:iam::111122223333:user\/alice /)]));
    expect(result!.clusters[1]!.error).toEqual({
      name: 'ClusterAccessError',
      message: 'Kubernetes API GET /api/v1/namespaces/kube-system/configmaps/aws-auth failed: ECONNREFUSED',
    });
    expect(result!.clusters[2]!.refusals).toEqual([expect.objectContaining({ code: 'current-unreadable' })]);
    expect(typeof result!.clusters[0]!.manifest).toBe('string');
    expect([f.prod.store.writes, f.staging.store.writes, down.store.writes]).toEqual([0, 0, 0]);
    const emf = emfOf(lines);
    expect(points(emf, 'SyncPlanned').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: 'prod', trigger: 'manual' }]);
    expect(points(emf, 'SyncError').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: 'down', trigger: 'manual' }]);
    expect(points(emf, 'SyncRefused').map((p) => p.dims)).toEqual([{ service: 'aws-auth-syncer', cluster: 'staging', trigger: 'manual' }]);
  });

  test('a cluster that never answers is reported after its time limit; the others are planned and the reply comes', async () => {
    const f = fleet();
    const hung = memoryCluster('hung', awsAuth({ mapRoles: NODES }), f.metrics, f.log);
    hung.store.read = () => new Promise(() => {});
    const { result } = await captureStdout(() =>
      planClusters({ iam: f.directory, clock: fixedClock(), log: f.log, metrics: f.metrics }, [hung.cluster, f.prod.cluster], {
        force: false,
        clusterTimeoutMs: 50,
      }),
    );
    expect(result!.clusters.map((c) => [c.cluster, c.outcome])).toEqual([
      ['hung', 'error'],
      ['prod', 'planned'],
    ]);
    expect(result!.clusters[0]!.error).toEqual({ name: 'ClusterAccessError', message: 'no answer within 0.05 s (unreachable?)' });
  });
});

describe('cluster messages on the queue', () => {
  const message = {
    version: 1,
    runId: 'r1',
    cluster: 'prod',
    trigger: 'iam',
    eventIds: ['e1'],
    snapshot: { bucket: 'b-1', key: 'k', sha256: 'a'.repeat(64), size: 10 },
  };
  test('SQS records become messages in delivery order', () => {
    const records = [
      { messageId: 'm1', body: JSON.stringify(message) },
      { messageId: 'm2', body: JSON.stringify({ ...message, cluster: 'staging', force: true }) },
    ];
    expect(parseClusterRecords({ Records: records }).map((m) => [m.cluster, m.force])).toEqual([
      ['prod', undefined],
      ['staging', true],
    ]);
  });

  test.each([
    [{}, 'the cluster function takes SQS events (Records) from the cluster queue'],
    [{ Records: [{ messageId: 'm1', body: 'nope' }] }, 'SQS record m1 is not a cluster message (body is not JSON)'],
    [
      { Records: [{ messageId: 'm1', body: JSON.stringify({ ...message, version: 2 }) }] },
      'SQS record m1 is not a cluster message: version: Invalid input: expected 1',
    ],
    [
      { Records: [{ messageId: 'm1', body: JSON.stringify({ ...message, snapshot: { ...message.snapshot, sha256: 'x' } }) }] },
      'SQS record m1 is not a cluster message: snapshot.sha256: must be a SHA-256 in hex',
    ],
  ])('%j → %s', (event, text) => {
    expect(() => parseClusterRecords(event)).toThrow(InputError);
    expect(() => parseClusterRecords(event)).toThrow(text);
  });
});
