/**
 * What the three Lambda handlers share: Powertools' logger, tracer and metrics; the
 * configuration and the adapters; and the one place errors become replies.
 *
 * Observability per invocation (`instrumented`), as Powertools' middy middlewares do it for
 * handlers that are plain functions: the logger gets the Lambda context (request id, cold start,
 * function name and version) — `injectLambdaContext`; the tracer opens a `## <handler>`
 * subsegment with the ColdStart and Service annotations and records a thrown error —
 * `captureLambdaHandler`, without the response as metadata (a dry run's manifest can be 1 MiB,
 * far over X-Ray's 64 KB segment limit); and the run's metrics are flushed even when it throws —
 * `logMetrics`. The tracer does nothing outside Lambda (tests, the CLI).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { configSourceFromEnv, resolveSettings, toPolicy, type RuntimeSettings } from '../config.js';
import { parseClusterSetText, pickCluster, readClusterSetFile, type ClusterSet } from '../config-clusters.js';
import { describeError, GuardRefusedError } from '../errors.js';
import type { SyncPolicy } from '../core/policy.js';
import { withFleetTotals } from '../app/fleet-metrics.js';
import { METRIC } from '../app/observe.js';
import type { Log } from '../app/ports.js';
import { errorReply, refusedReply, type ErrorReply } from '../app/reply.js';
import { EmfMetrics, METRICS_SERVICE } from './metrics.js';
import { SsmConfigParameter } from './ssm-config.js';
import { AWS_HTTP, liveDepsFor, type LiveDeps } from './wire.js';

const SERVICE = 'aws-auth-syncer';
export const logger = new Logger({ serviceName: SERVICE });
export const tracer = new Tracer({ serviceName: SERVICE });
/** The invocation's metrics (EMF), flushed at the end of every invocation by `instrumented`. */
export const metrics = new EmfMetrics({ serviceName: METRICS_SERVICE });

/** The Log port over Powertools' structured JSON logger. */
export const log: Log = {
  debug: (m, extra) => logger.debug(m, extra ?? {}),
  info: (m, extra) => logger.info(m, extra ?? {}),
  warn: (m, extra) => logger.warn(m, extra ?? {}),
  error: (m, extra) => logger.error(m, extra ?? {}),
};

/** The name of the function being invoked (for the ConfigInvalid metric), from the Lambda context. */
let functionName = 'local';

/**
 * Wrap a handler with the Lambda context in the logs, an X-Ray subsegment and the metrics flush.
 * `context` is optional so that tests and scripts can call handlers with an event alone.
 */
export function instrumented<E, R>(name: string, body: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    logger.refreshSampleRateCalculation();
    if (context) {
      logger.addContext(context);
      functionName = context.functionName;
    }
    logger.logEventIfEnabled(event);
    const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
    const segment = parent?.addNewSubsegment(`## ${name}`);
    if (segment) {
      tracer.setSegment(segment);
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
    }
    try {
      return await body(event);
    } catch (err) {
      if (segment) tracer.addErrorAsMetadata(err as Error);
      throw err;
    } finally {
      if (segment && parent) {
        segment.close();
        tracer.setSegment(parent);
      }
      metrics.flush();
    }
  };
}

export interface Runtime {
  settings: RuntimeSettings;
  policy: SyncPolicy;
  deps: LiveDeps;
  /** The role assumed to reach this cluster (config `clusters[].roleArn`), if any. */
  roleArn?: string;
}

/** The clusters of this invocation's configuration: one (`cluster:`) or a list (`clusters:`). */
export interface LiveClusters {
  kind: ClusterSet['kind'];
  runtimes: Runtime[];
}

interface Loaded {
  kind: ClusterSet['kind'];
  clusters: { settings: RuntimeSettings; roleArn?: string }[];
}

let runtimes: { key: string; byCluster: Map<string, Runtime> } | undefined;
let parameter: SsmConfigParameter | undefined;
let fixed: { source: string; loaded: Loaded } | undefined;

/** Each cluster's settings: its own configuration with the environment's bucket, key and identities. */
const settle = (set: ClusterSet): Loaded => ({
  kind: set.kind,
  clusters: set.clusters.map((c) => ({ settings: resolveSettings(c.config), ...(c.roleArn ? { roleArn: c.roleArn } : {}) })),
});

/** The configuration for this invocation: the SSM parameter (fetched, at most 5 s old), or the bundled file / inline text. */
async function loadClusters(): Promise<Loaded> {
  const source = configSourceFromEnv();
  if (source.kind === 'parameter') {
    if (parameter?.name !== source.name) {
      // A name lives in the function's region (the SDK's default, AWS_REGION); an ARN names its own.
      const region = source.name.startsWith('arn:') ? source.name.split(':')[3] : undefined;
      parameter = new SsmConfigParameter(tracer.captureAWSv3Client(new SSMClient({ region, maxAttempts: 5, requestHandler: AWS_HTTP })), source.name);
    }
    const { text, version } = await parameter.read();
    const loaded = settle(parseClusterSetText(text, `SSM parameter ${source.name}`, process.env.AWS_REGION));
    logger.debug('configuration read', { parameter: source.name, version });
    return loaded;
  }
  // The bundled file and the environment cannot change during the container's life: read once.
  const key = JSON.stringify(source);
  if (fixed?.source !== key) {
    const region = process.env.AWS_REGION;
    fixed = {
      source: key,
      loaded: settle(source.kind === 'inline' ? parseClusterSetText(source.text, 'SYNCER_CONFIG', region) : readClusterSetFile(source.path, region)),
    };
  }
  return fixed.loaded;
}

/**
 * The validated configuration and the live adapters of every cluster, for this invocation.
 * Adapters are rebuilt only when the configuration changed. A configuration that cannot be
 * loaded or is invalid is counted (ConfigInvalid, which an alarm watches) and thrown: nothing is
 * written. With a list of clusters, the outcome counts are also published fleet-wide.
 */
export async function liveClusters(): Promise<LiveClusters> {
  let loaded: Loaded;
  try {
    loaded = await loadClusters();
  } catch (err) {
    metrics.add(METRIC.configInvalid, 'Count', 1, [{ function_name: functionName }]);
    throw err;
  }
  const key = JSON.stringify(loaded);
  if (runtimes?.key !== key) runtimes = { key, byCluster: new Map() };
  const byCluster = runtimes.byCluster;
  const runMetrics = loaded.kind === 'fleet' ? withFleetTotals(metrics) : metrics;
  return {
    kind: loaded.kind,
    runtimes: loaded.clusters.map(({ settings, roleArn }) => {
      let rt = byCluster.get(settings.config.cluster);
      if (!rt) {
        const deps = liveDepsFor(settings, log, undefined, { instrument: (client) => tracer.captureAWSv3Client(client), ...(roleArn ? { roleArn } : {}) });
        rt = {
          settings,
          policy: toPolicy(settings.config, { region: settings.region }),
          deps: { ...deps, metrics: runMetrics },
          ...(roleArn ? { roleArn } : {}),
        };
        byCluster.set(settings.config.cluster, rt);
      }
      return rt;
    }),
  };
}

/**
 * The cluster a request names (`"cluster"` in a payload): a one-cluster config needs no name, a
 * list needs one of its names (a clear error otherwise).
 */
export function pickRuntime(live: LiveClusters, cluster?: string): Runtime {
  const picked = pickCluster({ kind: live.kind, clusters: live.runtimes.map((r) => ({ config: r.settings.config })) }, cluster);
  return live.runtimes.find((r) => r.settings.config === picked.config)!;
}

/** The configuration and the live adapters of the cluster named (see pickRuntime). */
export async function liveRuntime(cluster?: string): Promise<Runtime> {
  return pickRuntime(await liveClusters(), cluster);
}

/** The identities whose access must survive: configured (config, SYNCER_SELF_ARNS), the role assumed for the cluster, and the caller. */
export async function selfArns(rt: Runtime): Promise<string[]> {
  return [...new Set([...rt.settings.selfArns, ...(rt.roleArn ? [rt.roleArn] : []), await rt.deps.selfArn()])];
}

export type { ErrorReply };

/**
 * Run a handler body. A guard's refusal is the reply, for any trigger: it is final (the same IAM
 * against the same aws-auth is refused again; a retry would only hold newer runs back), and the
 * use case has already counted it (SyncRefused → the alarm) and, for an automatic run, told it
 * (the refusal notice). For a person's invoke, their mistake (bad payload, bad config, unknown
 * backup) becomes a reply with a clear message and no stack trace. Anything else — and every
 * error of an automatic run (IAM event, queue, schedule), where nobody reads the reply — is
 * logged with its stack and cause chain and rethrown, so that Lambda retries, the dead-letter
 * queues and alarms see it.
 */
export async function respond<T>(
  name: string,
  body: () => Promise<T>,
  opts: { automatic?: (event: unknown) => boolean; event?: unknown } = {},
): Promise<T | ErrorReply> {
  try {
    return await body();
  } catch (err) {
    const d = describeError(err);
    const automatic = opts.automatic?.(opts.event) ?? false;
    if (err instanceof GuardRefusedError) {
      logger.warn(`${name}: ${d.message}`, { error: d, automatic });
      return refusedReply(err);
    }
    if (d.userError && !automatic) {
      logger.warn(`${name}: ${d.message}`, { error: d });
      return errorReply(err);
    }
    // Powertools formats an Error with its name, message, stack, own fields (our `context`)
    // and, recursively, its `cause`: the SDK or Kubernetes error underneath stays visible.
    logger.error(`${name} failed: ${d.message}`, err instanceof Error ? { error: err } : { error: d });
    throw err;
  }
}
