/**
 * The Lambda side of the burst benchmark, in its own process: a model of the SQS event source
 * mapping (NOT AWS's implementation — a reproduction of its documented behaviour) in front of
 * the sync handler (scripts/bench/syncer.ts).
 *
 * Model: one poller; a batch is gathered until it holds `batchSize` records or `windowSeconds`
 * have passed since its first record arrived (MaximumBatchingWindowInSeconds); the batch is
 * handed to one invocation at a time (reserved concurrency 1) and deleted from the queue when
 * the invocation succeeds (left to the visibility timeout when it fails).
 *
 *   node dist/scripts/bench/burst-lambda.js '{"queueUrl":"…","batchSize":100,"windowSeconds":20}'
 * Prints one `BENCH {json}` line per invocation; SIGTERM stops it after the current one.
 */
import { stack } from '../../test/integration/support/stack.js';
import { sleep, workerArgs } from './lib.js';
import { createSyncer, type Reply } from './syncer.js';
import { sqs, type Message } from './sqs.js';

const args = workerArgs<{ queueUrl: string; batchSize: number; windowSeconds: number }>();
const { region, motoEndpoint } = stack();
const q = sqs(motoEndpoint);
const syncer = await createSyncer();
const emit = (o: unknown): boolean => process.stdout.write(`BENCH ${JSON.stringify(o)}\n`);
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

const record = (m: Message) => ({
  messageId: m.MessageId,
  receiptHandle: m.ReceiptHandle,
  body: m.Body,
  attributes: m.Attributes ?? {},
  messageAttributes: {},
  md5OfBody: m.MD5OfBody,
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:${region}:123456789012:${args.queueUrl.split('/').pop()}`,
  awsRegion: region,
});

async function invoke(event: { Records?: unknown[] }, kind: string): Promise<boolean> {
  const records = event.Records?.length ?? 0;
  const tStart = Date.now();
  emit({ type: 'start', kind, records, tStart });
  let error: string | undefined;
  const failed = (err: Error): Reply => {
    error = `${err.name}: ${err.message}`.slice(0, 300);
    return {};
  };
  const { value, ...counts } = await syncer.delta(() => syncer.invoke(event).catch(failed));
  emit({ type: 'invocation', kind, records, tStart, tEnd: Date.now(), outcome: value.outcome, error, ...counts });
  return !error;
}

// A warm container with a current aws-auth before the first burst (as after a scheduled run).
await invoke({}, 'initial');
emit({ type: 'ready', t: Date.now() });

const windowMs = args.windowSeconds * 1000;
while (!stopping) {
  const batch: Message[] = [];
  let firstAt: number | undefined;
  while (batch.length < args.batchSize && !stopping) {
    const remaining = firstAt === undefined ? Infinity : windowMs - (Date.now() - firstAt);
    if (remaining <= 0) break;
    const msgs = await q.receive(args.queueUrl, { max: Math.min(10, args.batchSize - batch.length), waitSeconds: remaining >= 1000 ? 1 : 0, visibility: 750 });
    if (msgs.length && firstAt === undefined) firstAt = Date.now();
    batch.push(...msgs);
    if (msgs.length === 0 && remaining < 1000) await sleep(Math.min(remaining, 50));
  }
  if (batch.length === 0) continue;
  if (await invoke({ Records: batch.map(record) }, 'sqs')) await q.deleteBatch(args.queueUrl, batch);
}
emit({ type: 'stopped', t: Date.now() });
