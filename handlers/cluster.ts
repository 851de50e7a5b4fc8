/**
 * cluster: one cluster's part of a run, from the cluster queue (SQS FIFO, one message group per
 * cluster, batch size 1). Only deployed when the config lists `clusters`. Every invocation is
 * automatic: a failure is thrown, so SQS retries the message and then dead-letters it, and the
 * alarms see it; the other clusters' messages are not held up. A guard's refusal is final: counted
 * (SyncRefused → RefusedAutomaticSyncAlarm), told (the refusal notice) and the message is done.
 */
import { instrumented, liveClusters, respond } from '../lib/adapters/lambda.js';
import { runClusterEvent } from '../lib/adapters/fleet-wire.js';

export const handler = instrumented('cluster', (event: unknown) =>
  respond('cluster', async () => runClusterEvent(event, await liveClusters()), { automatic: () => true, event }),
);
