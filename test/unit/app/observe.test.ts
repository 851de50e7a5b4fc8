/**
 * What a sync or restore run reports: the metrics (asserted on the EMF lines the Powertools
 * adapter prints, parsed as CloudWatch parses them) and the notice of an applied change.
 * Durations are exact: the in-memory ports advance a test clock by a known amount.
 */
import { describe, expect, test } from '@jest/globals';
import { syncAwsAuth, type SyncDeps } from '../../../lib/app/sync.js';
import { restoreAwsAuth } from '../../../lib/app/restore.js';
import {
  changeNotice,
  entriesChangeNotice,
  identityCounts,
  METRIC,
  NOTICE_MAX_BODY_BYTES,
  recordEntriesRun,
  RESTORE_OUTCOME_METRICS,
  SYNC_OUTCOME_METRICS,
} from '../../../lib/app/observe.js';
import type { Clock, IamDirectory, Notice, Notifier } from '../../../lib/app/ports.js';
import type { WriteResult } from '../../../lib/app/write-loop.js';
import { EmfMetrics } from '../../../lib/adapters/metrics.js';
import type { SyncPolicy } from '../../../lib/core/policy.js';
import { DEFAULT_ROLE_USERNAME } from '../../../lib/core/policy.js';
import type { ConfigMapObject, IamSnapshot } from '../../../lib/core/types.js';
import { DiscoveryError, GuardRefusedError } from '../../../lib/errors.js';
import { awsAuth, iam, MemoryAwsAuthStore, MemoryBackupStore, MemoryLog } from '../../support/memory.js';
import { captureStdout, emfOf, metricNames, points, type Emf } from '../../support/emf.js';

const NODE_ROLE = `- rolearn: arn:aws:iam::111122223333:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::111122223333:role/break-glass
  username: break-glass
  groups:
    - system:masters
`;

const policy: SyncPolicy = {
  cluster: 'prod',
  partition: 'aws',
  groupMappings: [{ iamGroup: 'devs', kubernetesGroups: ['dev'] }],
  roleMappings: [],
  tagPrefix: 'aws-auth-syncer',
  tags: { allowedGroups: ['*'] },
  roleUsername: DEFAULT_ROLE_USERNAME,
  userUsername: '{userName}',
  adoptUnmanaged: false,
  guards: { maxRemovals: 10 },
};

const twoDevs = () =>
  iam({
    groups: ['devs'],
    users: [
      { name: 'alice', groups: ['devs'] },
      { name: 'bob', groups: ['devs'] },
    ],
  });

/** A clock that moves only when a port says it spent time. */
class TestClock implements Clock {
  t = Date.parse('2026-11-28T12:00:00.000Z');
  now() {
    return new Date(this.t);
  }
}

/** In-memory ports that each take a known time: discovery 120 ms, backup 20 ms, write 30 ms. */
function setup(current: ConfigMapObject | null = awsAuth({ mapRoles: NODE_ROLE })) {
  const clock = new TestClock();
  const store = new MemoryAwsAuthStore(current);
  const replace = store.replace.bind(store);
  store.replace = async (next) => {
    clock.t += 30;
    return replace(next);
  };
  const backups = new MemoryBackupStore();
  const save = backups.save.bind(backups);
  backups.save = async (input) => {
    clock.t += 20;
    return save(input);
  };
  let snapshot: IamSnapshot = twoDevs();
  let discoveryFails: Error | undefined;
  const directory: IamDirectory = {
    async readSnapshot() {
      clock.t += 120;
      if (discoveryFails) throw discoveryFails;
      return snapshot;
    },
  };
  const notices: Notice[] = [];
  let notifyFails: Error | undefined;
  const notifier: Notifier = {
    async publish(n) {
      if (notifyFails) throw notifyFails;
      notices.push(n);
    },
  };
  const metrics = new EmfMetrics({ serviceName: 'aws-auth-syncer' });
  const log = new MemoryLog();
  const deps: SyncDeps = { iam: directory, store, backups, clock, log, metrics, notifier };
  /** Run one use case with stdout captured; the handler would flush at the end of the invocation. */
  const observe = async <T>(fn: () => Promise<T>): Promise<{ emf: Emf[]; result?: T; error?: unknown }> => {
    const out = await captureStdout(async () => {
      try {
        return await fn();
      } finally {
        metrics.flush();
      }
    });
    return { emf: emfOf(out.lines), result: out.result, error: out.error };
  };
  return {
    deps,
    store,
    backups,
    notices,
    log,
    observe,
    setSnapshot: (s: IamSnapshot) => (snapshot = s),
    failDiscovery: (e: Error | undefined) => (discoveryFails = e),
    failNotify: (e: Error | undefined) => (notifyFails = e),
  };
}

/** The one value of metric `name` for cluster prod under exactly the given dimension sets. */
function value(emf: Emf[], name: string): unknown {
  const found = points(emf, name);
  expect(found).toHaveLength(1);
  expect(found[0]!.namespace).toBe('AwsAuthSyncer');
  expect(found[0]!.dims.cluster).toBe('prod');
  return found[0]!.value;
}

describe('sync run metrics (EMF lines)', () => {
  test('an applied scheduled sync: outcome per cluster and per trigger, success, drift, entries, identities, durations', async () => {
    const s = setup();
    const { emf, result } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule', eventIds: ['ev-1'] }));
    expect(result!.outcome).toBe('replaced');
    const outcome = points(emf, 'SyncReplaced');
    expect(outcome).toEqual([
      {
        value: 1,
        unit: 'Count',
        namespace: 'AwsAuthSyncer',
        dimensionSets: [
          ['service', 'cluster'],
          ['service', 'cluster', 'trigger'],
        ],
        dims: { service: 'aws-auth-syncer', cluster: 'prod', trigger: 'schedule' },
      },
    ]);
    expect(value(emf, METRIC.syncSucceeded)).toBe(1);
    // A scheduled run that changed something: a change no IAM event explained.
    expect(value(emf, METRIC.driftFound)).toBe(1);
    expect(value(emf, METRIC.entriesAdded)).toBe(2);
    expect(value(emf, METRIC.entriesRemoved)).toBe(0);
    expect(value(emf, METRIC.entriesUpdated)).toBe(0);
    expect(value(emf, METRIC.entriesAdopted)).toBe(0);
    expect(value(emf, METRIC.identitiesAdded)).toBe(2);
    expect(value(emf, METRIC.identitiesRemoved)).toBe(0);
    expect(value(emf, METRIC.discoveryDuration)).toBe(120);
    expect(value(emf, METRIC.planDuration)).toBe(0);
    expect(value(emf, METRIC.backupDuration)).toBe(20);
    expect(value(emf, METRIC.writeDuration)).toBe(30);
    for (const name of [METRIC.discoveryDuration, METRIC.planDuration, METRIC.backupDuration, METRIC.writeDuration]) {
      expect([name, points(emf, name)[0]!.unit, points(emf, name)[0]!.dimensionSets]).toEqual([name, 'Milliseconds', [['service', 'cluster']]]);
    }
    // Nothing else: no refusal, no other outcome.
    expect(metricNames(emf)).toEqual(
      [
        'SyncReplaced',
        METRIC.syncSucceeded,
        METRIC.driftFound,
        METRIC.entriesAdded,
        METRIC.entriesRemoved,
        METRIC.entriesUpdated,
        METRIC.entriesAdopted,
        METRIC.identitiesAdded,
        METRIC.identitiesRemoved,
        METRIC.discoveryDuration,
        METRIC.planDuration,
        METRIC.backupDuration,
        METRIC.writeDuration,
      ].sort(),
    );
  });

  test('a scheduled run with nothing to do: unchanged, success, no drift (0), no entry counts', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy }));
    const { emf } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule' }));
    expect(points(emf, 'SyncUnchanged')[0]!.dims.trigger).toBe('schedule');
    expect(value(emf, METRIC.syncSucceeded)).toBe(1);
    expect(value(emf, METRIC.driftFound)).toBe(0);
    expect(points(emf, METRIC.entriesAdded)).toEqual([]);
    expect(points(emf, METRIC.backupDuration)).toEqual([]);
  });

  test('an IAM-triggered run records no drift (the event explains the change)', async () => {
    const s = setup();
    const { emf } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'iam', eventIds: ['e'] }));
    expect(points(emf, 'SyncReplaced')[0]!.dims.trigger).toBe('iam');
    expect(points(emf, METRIC.driftFound)).toEqual([]);
  });

  test('a refused automatic sync: SyncRefused for its trigger and one Refusals point per code; no success', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy }));
    s.setSnapshot(iam({ groups: ['devs'] })); // IAM says nobody: the empty-discovery guard refuses
    const { emf, error } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'iam', eventIds: ['e'] }));
    expect(error).toBeInstanceOf(GuardRefusedError);
    const codes = (error as GuardRefusedError).reasons.map((r) => r.code);
    expect(codes).toContain('empty-discovery');
    expect(points(emf, 'SyncRefused')).toEqual([
      expect.objectContaining({
        value: 1,
        dimensionSets: [
          ['service', 'cluster'],
          ['service', 'cluster', 'trigger'],
        ],
        dims: { service: 'aws-auth-syncer', cluster: 'prod', trigger: 'iam' },
      }),
    ]);
    expect(
      points(emf, 'Refusals')
        .map((p) => [p.dims.code, p.value, p.dimensionSets])
        .sort(),
    ).toEqual(codes.map((c) => [c, 1, [['service', 'cluster', 'code']]]).sort());
    expect(points(emf, METRIC.syncSucceeded)).toEqual([]);
    expect(points(emf, 'SyncError')).toEqual([]);
  });

  test('a refused scheduled run is drift found (1) that was not applied', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy }));
    s.setSnapshot(iam({ groups: ['devs'] }));
    const { emf } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule' }));
    expect(value(emf, 'SyncRefused')).toBe(1);
    expect(value(emf, METRIC.driftFound)).toBe(1);
    expect(points(emf, METRIC.entriesRemoved)).toEqual([]);
  });

  test('a dry run: SyncPlanned (manual), no success, no entry counts, no notice', async () => {
    const s = setup();
    const { emf } = await s.observe(() => syncAwsAuth(s.deps, { policy, dryRun: true }));
    expect(points(emf, 'SyncPlanned')[0]!.dims.trigger).toBe('manual');
    expect(points(emf, METRIC.syncSucceeded)).toEqual([]);
    expect(points(emf, METRIC.entriesAdded)).toEqual([]);
    expect(s.notices).toEqual([]);
  });

  test('a failed discovery: SyncError and the time discovery took, nothing else', async () => {
    const s = setup();
    s.failDiscovery(new DiscoveryError('IAM GetAccountAuthorizationDetails failed on page 1: Throttling'));
    const { emf, error } = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule' }));
    expect(error).toBeInstanceOf(DiscoveryError);
    expect(value(emf, 'SyncError')).toBe(1);
    expect(value(emf, METRIC.discoveryDuration)).toBe(120);
    expect(metricNames(emf)).toEqual(['DiscoveryDuration', 'SyncError']);
  });

  test('a 409 and a retry: one PlanDuration sample per attempt, two backups, one write', async () => {
    const s = setup();
    let once = false;
    s.store.beforeWrite = (st) => {
      if (once) return;
      once = true;
      st.externalEdit((cm) => {
        cm.data!.mapAccounts = '- "999988887777"\n';
      });
    };
    const { emf, result } = await s.observe(() => syncAwsAuth(s.deps, { policy }));
    expect(result!.attempts).toBe(2);
    expect(value(emf, METRIC.planDuration)).toEqual([0, 0]);
    expect(value(emf, METRIC.backupDuration)).toEqual([20, 20]);
    expect(value(emf, METRIC.writeDuration)).toEqual([30, 30]);
  });

  test('the sync outcome metric names are one per outcome', () => {
    expect(Object.values(SYNC_OUTCOME_METRICS).sort()).toEqual(['SyncCreated', 'SyncError', 'SyncPlanned', 'SyncRefused', 'SyncReplaced', 'SyncUnchanged']);
  });
});

describe('restore run metrics', () => {
  test('an applied restore: RestoreReplaced (manual) and its entry counts; no sync success', async () => {
    const s = setup();
    const first = await s.observe(() => syncAwsAuth(s.deps, { policy }));
    const { emf, result } = await s.observe(() => restoreAwsAuth(s.deps, { cluster: 'prod', partition: 'aws', backup: first.result!.backupKey! }));
    expect(result!.outcome).toBe('replaced');
    expect(points(emf, RESTORE_OUTCOME_METRICS.replaced)).toEqual([
      expect.objectContaining({ value: 1, dims: { service: 'aws-auth-syncer', cluster: 'prod', trigger: 'manual' } }),
    ]);
    expect(value(emf, METRIC.entriesRemoved)).toBe(2);
    expect(points(emf, METRIC.syncSucceeded)).toEqual([]);
  });

  test('a refused restore: RestoreRefused and its refusal codes', async () => {
    const s = setup();
    await s.deps.backups.save({ cluster: 'prod', configMap: awsAuth({ mapUsers: '[]\n' }), reason: 'sync', eventIds: [], takenAt: s.deps.clock.now() });
    const { emf, error } = await s.observe(() => restoreAwsAuth(s.deps, { cluster: 'prod', partition: 'aws', backup: 'latest' }));
    expect(error).toBeInstanceOf(GuardRefusedError);
    expect(value(emf, RESTORE_OUTCOME_METRICS.refused)).toBe(1);
    expect(points(emf, 'Refusals').map((p) => p.dims.code)).toEqual(expect.arrayContaining(['node-mapping']));
  });
});

describe('change notices', () => {
  test('a refused automatic sync publishes its refusal (guards, reasons, the diff not written); a refused manual run does not (its reply says it)', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy }));
    s.notices.length = 0;
    // IAM now maps nobody while the syncer owns two entries: empty-discovery refuses
    s.setSnapshot(iam({ groups: ['devs'] }));
    const auto = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule', eventIds: [] }));
    expect(auto.error).toBeInstanceOf(GuardRefusedError);
    const manual = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'manual' }));
    expect(manual.error).toBeInstanceOf(GuardRefusedError);
    // a caller that says not to tell it (notifyRefusal: false): not told
    const again = await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'iam', eventIds: ['e1'], notifyRefusal: false }));
    expect(again.error).toBeInstanceOf(GuardRefusedError);
    expect(s.notices).toHaveLength(1);
    const n = s.notices[0]!;
    expect(n.subject).toMatch(/^aws-auth-syncer: sync REFUSED on prod \((empty-discovery|too-many-removals)(, [a-z-]+)*\)$/);
    const body = JSON.parse(n.body);
    expect(body).toMatchObject({ cluster: 'prod', target: 'aws-auth', outcome: 'refused', trigger: 'schedule' });
    expect(body.refusals.map((r: { code: string }) => r.code)).toEqual((auto.error as GuardRefusedError).reasons.map((r) => r.code));
    expect(body.diff).toEqual(expect.arrayContaining([expect.stringMatching(/^- mapUsers arn:aws:iam::111122223333:user\/alice/)]));
  });

  test('an applied change publishes one notice with the diff; unchanged and dry runs publish none', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'iam', eventIds: ['ev-7'] }));
    await s.observe(() => syncAwsAuth(s.deps, { policy, trigger: 'schedule' }));
    await s.observe(() => syncAwsAuth(s.deps, { policy, dryRun: true }));
    expect(s.notices).toHaveLength(1);
    const n = s.notices[0]!;
    expect(n.subject).toBe('aws-auth-syncer: aws-auth replaced on prod (+2 -0 ~0)');
    const body = JSON.parse(n.body);
    expect(body).toMatchObject({
      cluster: 'prod',
      operation: 'sync',
      outcome: 'replaced',
      trigger: 'iam',
      eventIds: ['ev-7'],
      summary: { entriesAdded: 2, entriesRemoved: 0, identitiesAdded: 2, identitiesRemoved: 0 },
      diffLinesOmitted: 0,
    });
    expect(body.backupKey).toBe(s.backups.objects.keys().next().value);
    expect(body.diff).toEqual([
      '+ mapUsers arn:aws:iam::111122223333:user/alice username="alice" groups=[dev]',
      '+ mapUsers arn:aws:iam::111122223333:user/bob username="bob" groups=[dev]',
      'access (as aws-iam-authenticator reads it):',
      '  arn:aws:iam::111122223333:user/alice: none → "alice" [dev]',
      '  arn:aws:iam::111122223333:user/bob: none → "bob" [dev]',
      '2 to add, 0 to update, 0 to remove, 0 to adopt, 0 conflicts, 2 unmanaged entries kept; identities: 2 gain access, 0 lose it, 0 change',
    ]);
  });

  test('a restore is an applied change too: one notice, operation restore; a dry run none', async () => {
    const s = setup();
    await s.observe(() => syncAwsAuth(s.deps, { policy }));
    s.notices.length = 0;
    await s.observe(() => restoreAwsAuth(s.deps, { cluster: 'prod', partition: 'aws', backup: 'latest', dryRun: true }));
    expect(s.notices).toEqual([]);
    const { result } = await s.observe(() => restoreAwsAuth(s.deps, { cluster: 'prod', partition: 'aws', backup: 'latest' }));
    expect(result!.outcome).toBe('replaced');
    expect(s.notices.map((n) => n.subject)).toEqual(['aws-auth-syncer: aws-auth restored on prod (+0 -2 ~0)']);
    expect(JSON.parse(s.notices[0]!.body)).toMatchObject({ operation: 'restore', outcome: 'replaced', trigger: 'manual', backupKey: result!.backupKey });
  });

  test('a notice that cannot be published: the run still succeeds, a warning and ChangeNotificationFailed', async () => {
    const s = setup();
    s.failNotify(new Error('AuthorizationError: not allowed to publish'));
    const { emf, result } = await s.observe(() => syncAwsAuth(s.deps, { policy }));
    expect(result!.outcome).toBe('replaced');
    expect(value(emf, METRIC.notificationFailed)).toBe(1);
    expect(s.log.lines.find((l) => l.message === 'could not publish the change notice')?.extra).toMatchObject({
      error: 'AuthorizationError: not allowed to publish',
    });
  });

  test('a diff too large for SNS keeps its first lines and says how many were left out', () => {
    const report = Array.from(
      { length: 20000 },
      (_, i) => `+ mapUsers arn:aws:iam::111122223333:user/u${String(i).padStart(5, '0')} username="u${i}" groups=[dev]`,
    );
    const result = {
      outcome: 'replaced',
      attempts: 1,
      current: null,
      backupKey: 'k',
      resourceVersion: '9',
      plan: { changed: true, next: awsAuth({}), refusals: [], changes: [], report, accessReport: [] },
    } as WriteResult;
    const n = changeNotice({ operation: 'sync', cluster: 'prod', trigger: 'schedule', eventIds: [], result });
    expect(Buffer.byteLength(n.body, 'utf8')).toBeLessThanOrEqual(NOTICE_MAX_BODY_BYTES);
    const body = JSON.parse(n.body);
    expect(body.diff.length).toBeGreaterThan(1000);
    expect(body.diff.length + body.diffLinesOmitted).toBe(20000);
    expect(body.diff).toEqual(report.slice(0, body.diff.length));
  });

  test('access entries: the same notice shape with the target, the calls made and the entry counts; the diff kept within the budget', () => {
    const report = Array.from({ length: 20000 }, (_, i) => `+ CreateAccessEntry arn:aws:iam::111122223333:user/u${i} ${'x'.repeat(40)}`);
    const summary = { create: 3, delete: 1, update: 2, recreate: 1, identitiesAdded: 3, identitiesRemoved: 1 };
    const n = entriesChangeNotice({
      operation: 'sync',
      cluster: 'prod',
      trigger: 'iam',
      eventIds: ['e1'],
      result: { outcome: 'applied', applied: 9, backupKey: 'b/prod/1', report, plan: { summary } },
    });
    expect(n.subject).toBe('aws-auth-syncer: access entries changed on prod (+3 -1 ~3)');
    expect(Buffer.byteLength(n.body, 'utf8')).toBeLessThanOrEqual(NOTICE_MAX_BODY_BYTES);
    const body = JSON.parse(n.body);
    expect(body).toMatchObject({
      cluster: 'prod',
      target: 'access-entries',
      outcome: 'applied',
      trigger: 'iam',
      eventIds: ['e1'],
      backupKey: 'b/prod/1',
      calls: 9,
      summary: { entriesAdded: 3, entriesRemoved: 1, entriesUpdated: 3, identitiesAdded: 3, identitiesRemoved: 1 },
    });
    expect(body.diff.length + body.diffLinesOmitted).toBe(20000);
    expect(body.diff).toEqual(report.slice(0, body.diff.length));
  });

  test('the subject is one printable ASCII line of at most 100 characters', () => {
    const result = {
      outcome: 'created',
      attempts: 1,
      current: null,
      plan: { changed: true, next: awsAuth({}), refusals: [], changes: [], report: [], accessReport: [] },
    } as WriteResult;
    const n = changeNotice({ operation: 'sync', cluster: `c-${'x'.repeat(98)}`, trigger: 'manual', eventIds: [], result });
    expect(n.subject.length).toBe(100);
    expect(n.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  test('identity counts come from the access diff: gained and lost, not changed; one identity counted once', () => {
    const none = { kind: 'none' } as const;
    const as = (username: string, groups: string[]) => ({ kind: 'mapped', username, groups }) as const;
    const access = [
      { id: 'arn:aws:iam::1:user/a', arn: 'arn:aws:iam::1:user/a', versions: ['v0.6.13', 'v0.7.18'], before: none, after: as('a', ['dev']) },
      { id: 'arn:aws:iam::1:user/b', arn: 'arn:aws:iam::1:user/b', versions: ['v0.6.13'], before: as('b', []), after: none },
      { id: 'arn:aws:iam::1:user/b', arn: 'arn:aws:iam::1:user/b', versions: ['v0.7.18'], before: as('b', []), after: none },
      { id: 'arn:aws:iam::1:user/c', arn: 'arn:aws:iam::1:user/c', versions: ['v0.6.13', 'v0.7.18'], before: as('c', []), after: as('c', ['x']) },
    ];
    // entry changes that would say otherwise: the access diff wins
    const plan = { changed: true, next: awsAuth({}), refusals: [], report: [], accessReport: [], changes: [], access } as unknown as WriteResult['plan'];
    expect(identityCounts(plan)).toEqual({ added: 1, removed: 1 });
  });

  test('without an access diff, identity counts fall back to the entry changes (one ARN per entry)', () => {
    const plan = {
      changed: true,
      next: awsAuth({}),
      refusals: [],
      report: [],
      accessReport: [],
      changes: [
        { op: 'add', key: 'mapUsers', arn: 'arn:aws:iam::1:user/a', after: { arn: 'arn:aws:iam::1:user/a', username: 'a', groups: [] } },
        { op: 'remove', key: 'mapUsers', arn: 'arn:aws:iam::1:user/b', before: { username: 'b', groups: [] } },
        {
          op: 'update',
          key: 'mapUsers',
          arn: 'arn:aws:iam::1:user/c',
          before: { username: 'c', groups: [] },
          after: { arn: 'arn:aws:iam::1:user/c', username: 'c', groups: ['x'] },
        },
      ],
    } as unknown as WriteResult['plan'];
    expect(identityCounts(plan)).toEqual({ added: 1, removed: 1 });
  });
});

describe('the access-entries target reports under the same metric names', () => {
  const observeEntries = async (run: Parameters<typeof recordEntriesRun>[1]) => {
    const metrics = new EmfMetrics({ serviceName: 'aws-auth-syncer' });
    const out = await captureStdout(async () => {
      recordEntriesRun(metrics, run);
      metrics.flush();
    });
    return emfOf(out.lines);
  };
  const summary = { create: 2, delete: 1, update: 1, recreate: 1, identitiesAdded: 2, identitiesRemoved: 1 };
  test('an applied sync counts as replaced, with entries and identities from the plan summary', async () => {
    const emf = await observeEntries({
      operation: 'sync',
      cluster: 'prod',
      trigger: 'iam',
      dryRun: false,
      result: { outcome: 'applied', plan: { changed: true, refusals: [], summary } },
    });
    expect(points(emf, 'SyncReplaced').map((p) => [p.value, p.dims.cluster, p.dims.trigger])).toEqual([[1, 'prod', 'iam']]);
    expect(
      [METRIC.entriesAdded, METRIC.entriesRemoved, METRIC.entriesUpdated, METRIC.identitiesAdded, METRIC.identitiesRemoved].map(
        (n) => points(emf, n)[0]!.value,
      ),
    ).toEqual([2, 1, 2, 2, 1]);
    expect(points(emf, METRIC.syncSucceeded)[0]!.value).toBe(1);
  });
  test('a refused scheduled sync counts the refusal codes and the drift', async () => {
    const emf = await observeEntries({
      operation: 'sync',
      cluster: 'prod',
      trigger: 'schedule',
      dryRun: false,
      result: { outcome: 'refused', plan: { changed: true, refusals: [{ code: 'last-masters' }], summary } },
    });
    expect(points(emf, 'SyncRefused')[0]!.value).toBe(1);
    expect(points(emf, METRIC.refusals).map((p) => p.dims.code)).toEqual(['last-masters']);
    expect(points(emf, METRIC.driftFound)[0]!.value).toBe(1);
    expect(points(emf, METRIC.entriesAdded)).toEqual([]);
  });
  test('a failed restore counts as an error', async () => {
    const emf = await observeEntries({ operation: 'restore', cluster: 'prod', trigger: 'manual', dryRun: false, error: new DiscoveryError('x') });
    expect(points(emf, 'RestoreError')[0]!.value).toBe(1);
  });
});
