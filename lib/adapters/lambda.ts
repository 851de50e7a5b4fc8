/**
 * What the three Lambda handlers share: the structured logger, the configuration and the
 * adapters (built once per container, on first use), and the one place errors become replies.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { loadRuntimeSettings, toPolicy, type RuntimeSettings } from '../config.js';
import { describeError, GuardRefusedError } from '../errors.js';
import type { SyncPolicy } from '../core/policy.js';
import type { Log } from '../app/ports.js';
import { errorReply, refusedReply, type ErrorReply } from '../app/reply.js';
import { liveDepsFor, type LiveDeps } from './wire.js';

export const logger = new Logger({ serviceName: 'aws-auth-syncer' });

/** The Log port over Powertools' structured JSON logger. */
export const log: Log = {
  debug: (m, extra) => logger.debug(m, extra ?? {}),
  info: (m, extra) => logger.info(m, extra ?? {}),
  warn: (m, extra) => logger.warn(m, extra ?? {}),
  error: (m, extra) => logger.error(m, extra ?? {}),
};

export interface Runtime {
  settings: RuntimeSettings;
  policy: SyncPolicy;
  deps: LiveDeps;
}

let runtime: Runtime | undefined;

/** Load config and wire adapters once per container. */
export function liveRuntime(): Runtime {
  if (!runtime) {
    const settings = loadRuntimeSettings();
    runtime = { settings, policy: toPolicy(settings.config, { region: settings.region }), deps: liveDepsFor(settings, log) };
  }
  return runtime;
}

/** The identities whose access must survive: configured (config, SYNCER_SELF_ARNS) and the caller. */
export async function selfArns(rt: Runtime): Promise<string[]> {
  return [...new Set([...rt.settings.selfArns, await rt.deps.selfArn()])];
}

export type { ErrorReply };

/**
 * Run a handler body. For a person's invoke, their mistake (bad payload, bad config, unknown
 * backup) becomes a reply with a clear message and no stack trace. Anything else — and every
 * error of an automatic run (IAM event, queue, schedule), where nobody reads the reply — is
 * logged and rethrown, so that Lambda retries, the dead-letter queues and alarms see it.
 */
export async function respond<T>(name: string, body: () => Promise<T>, opts: { automatic?: (event: unknown) => boolean; event?: unknown } = {}): Promise<T | ErrorReply> {
  try {
    return await body();
  } catch (err) {
    const d = describeError(err);
    const automatic = opts.automatic?.(opts.event) ?? false;
    if (err instanceof GuardRefusedError && !automatic) {
      // A person asked; the refusal is the answer (an automatic run rethrows: alarms, DLQ).
      logger.warn(`${name}: ${d.message}`, { error: d });
      return refusedReply(err);
    }
    if (d.userError && !automatic) {
      logger.warn(`${name}: ${d.message}`, { error: d });
      return errorReply(err);
    }
    logger.error(`${name} failed: ${d.message}`, { error: d });
    throw err;
  }
}
