/**
 * The Lambda side of the burst benchmark, in its own process: a model of the SQS event source
 * mapping (NOT AWS's implementation — a reproduction of its documented behaviour) in front of
 * the syncer (scripts/bench/syncer.mjs).
 *
 * Model: one poller; a batch is gathered until it holds `batchSize` records or `windowSeconds`
 * have passed since its first record arrived (MaximumBatchingWindowInSeconds); the batch is
 * handed to one invocation at a time (reserved concurrency 1) and deleted from the queue when
 * the invocation succeeds (left to the visibility timeout when it fails).
 *
 *   node scripts/bench/burst-lambda.mjs '{"mode":"static","stackDir":"…","queueUrl":"…","batchSize":100,"windowSeconds":20}'
 * Prints one `BENCH {json}` line per invocation; SIGTERM stops it after the current one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './lib.mjs';
import { sqs } from './sqs.mjs';
import { createSyncer } from './syncer.mjs';

const args = JSON.parse(process.argv[2]);
const stack = JSON.parse(readFileSync(join(args.stackDir, 'stack.json'), 'utf8'));
const q = sqs(stack.motoEndpoint);
const syncer = await createSyncer({ mode: args.mode, stack });
const emit = (o) => process.stdout.write(`BENCH ${JSON.stringify(o)}\n`);
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

const windowMs = args.windowSeconds * 1000;
const queueName = args.queueUrl.split('/').pop();
const record = (m) => ({
  messageId: m.MessageId,
  receiptHandle: m.ReceiptHandle,
  body: m.Body,
  attributes: m.Attributes ?? {},
  messageAttributes: {},
  md5OfBody: m.MD5OfBody,
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:${stack.region}:123456789012:${queueName}`,
  awsRegion: stack.region,
});

async function invoke(event, kind) {
  const before = { ...syncer.counters };
  const tStart = Date.now();
  emit({ type: 'start', kind, records: event.Records?.length ?? 0, tStart });
  let outcome;
  let error;
  try {
    outcome = (await syncer.invoke(event))?.outcome;
  } catch (err) {
    error = `${err.name}: ${err.message}`.slice(0, 300);
  }
  const tEnd = Date.now();
  const d = Object.fromEntries(Object.entries(syncer.counters).map(([k, v]) => [k, v - before[k]]));
  emit({ type: 'invocation', kind, records: event.Records?.length ?? 0, tStart, tEnd, outcome, error, ...d });
  return !error;
}

// A warm container with a current aws-auth before the first burst (as after a scheduled run).
await invoke({}, 'initial');
emit({ type: 'ready', t: Date.now() });

while (!stopping) {
  const batch = [];
  let firstAt;
  while (batch.length < args.batchSize && !stopping) {
    const remaining = firstAt === undefined ? Infinity : windowMs - (Date.now() - firstAt);
    if (remaining <= 0) break;
    const msgs = await q.receive(args.queueUrl, { max: Math.min(10, args.batchSize - batch.length), waitSeconds: remaining >= 1000 ? 1 : 0, visibility: 750 });
    if (msgs.length && firstAt === undefined) firstAt = Date.now();
    batch.push(...msgs);
    if (msgs.length === 0 && remaining < 1000) await sleep(Math.min(remaining, 50));
  }
  if (batch.length === 0) continue;
  const ok = await invoke({ Records: batch.map(record) }, 'sqs');
  if (ok) await q.deleteBatch(args.queueUrl, batch);
}
emit({ type: 'stopped', t: Date.now() });
