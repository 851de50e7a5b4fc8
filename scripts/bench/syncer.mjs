/**
 * The syncer as the Lambda runs it, inside a bench worker process, with counters: discoveries
 * (GetAccountAuthorizationDetails passes and calls), backups and ConfigMap writes.
 *
 * mode 'handler': the real sync handler (dist/handlers/sync.js), configured through the
 *   environment as in Lambda; it reaches the apiserver exactly as in AWS (DescribeCluster via
 *   the EKS proxy + its own STS-presigned token, verified by aws-iam-authenticator).
 * mode 'static': the stack runs without the EKS auth chain, so — as
 *   test/integration/support/live.ts does — the live dependencies are wired with
 *   createLiveDeps and the stack's static syncer token, and syncAwsAuth is called with what
 *   the handler would pass it (classifySyncEvent → syncAwsAuth → syncReply).
 */
import { REPO } from './lib.mjs';

export async function createSyncer({ mode, stack }) {
  const d = (p) => import(`${REPO}/dist/${p}`);
  const counters = { discoveries: 0, gaadCalls: 0, discoveryMs: 0, writes: 0, backups: 0, invocations: 0 };
  let deps;
  let invoke;
  if (mode === 'handler') {
    const { handler } = await d('handlers/sync.js');
    const { liveRuntime } = await d('lib/adapters/lambda.js');
    deps = (await liveRuntime()).deps; // the same cached runtime the handler uses
    invoke = (event) => handler(event);
  } else {
    const { loadRuntimeSettings, toPolicy } = await d('lib/config.js');
    const { createLiveDeps } = await d('lib/adapters/wire.js');
    const { httpsConnection, KubeAwsAuthStore } = await d('lib/adapters/kube.js');
    const { silentLog, systemClock } = await d('lib/app/ports.js');
    const { classifySyncEvent } = await d('lib/app/events.js');
    const { syncAwsAuth } = await d('lib/app/sync.js');
    const { syncReply } = await d('lib/app/reply.js');
    const settings = loadRuntimeSettings();
    const { config } = settings;
    const policy = toPolicy(config);
    deps = createLiveDeps({ cluster: config.cluster, region: settings.region, bucket: settings.bucket, prefix: config.backup.prefix, macKey: settings.macKey, timeoutMs: config.kubernetes.timeoutMs, clock: systemClock, log: silentLog });
    deps.store = new KubeAwsAuthStore(async () => httpsConnection({ server: stack.kubeEndpoint, caData: stack.caData, token: stack.syncerToken }), { timeoutMs: config.kubernetes.timeoutMs });
    invoke = async (event) => {
      const trigger = classifySyncEvent(event);
      if (trigger.kind === 'ignored') return { outcome: 'ignored' };
      const eventIds = trigger.kind === 'manual' ? [] : trigger.eventIds;
      const r = await syncAwsAuth(deps, { policy, dryRun: false, force: false, eventIds, selfArn: config.selfArn, writeAttempts: config.kubernetes.writeAttempts });
      return syncReply(policy.cluster, r, eventIds);
    };
  }
  const iam = deps.iam;
  const read = iam.readSnapshot.bind(iam);
  iam.readSnapshot = async () => {
    counters.discoveries++;
    const t0 = performance.now();
    try {
      return await read();
    } finally {
      counters.gaadCalls += iam.lastCallCount ?? 0;
      counters.discoveryMs += performance.now() - t0;
    }
  };
  for (const m of ['create', 'replace']) {
    const f = deps.store[m].bind(deps.store);
    deps.store[m] = async (...a) => {
      counters.writes++;
      return f(...a);
    };
  }
  const save = deps.backups.save.bind(deps.backups);
  deps.backups.save = async (...a) => {
    counters.backups++;
    return save(...a);
  };
  return {
    counters,
    async invoke(event) {
      counters.invocations++;
      return invoke(event);
    },
  };
}
