/**
 * The cluster queue over SQS: a FIFO queue whose message group is the cluster. SQS FIFO hands
 * Lambda the messages of one group in order and one batch of a group at a time, so each cluster
 * has a single writer and its runs never overlap, while different clusters run in parallel — no
 * scheduler of our own. A message that keeps failing blocks only its own group (until it goes to
 * the dead-letter queue), never another cluster's.
 *
 * The deduplication id is the run and the cluster: a fan-out that is retried (same events, same
 * run id) re-sends the same ids, and SQS drops the copies of those already sent.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deduplicationId } from '../app/fleet.js';
import type { ClusterMessage, ClusterQueue } from '../app/ports.js';

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;

export class SqsClusterQueue implements ClusterQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly ClusterMessage[]): Promise<{ failed: { cluster: string; reason: string }[] }> {
    const failed: { cluster: string; reason: string }[] = [];
    for (let start = 0; start < messages.length; start += BATCH) {
      const batch = messages.slice(start, start + BATCH);
      try {
        const r = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((m, i) => ({
              Id: String(i),
              MessageBody: JSON.stringify(m),
              MessageGroupId: m.cluster,
              MessageDeduplicationId: deduplicationId(m),
            })),
          }),
        );
        for (const f of r.Failed ?? []) {
          const m = batch[Number(f.Id)];
          if (m) failed.push({ cluster: m.cluster, reason: `${f.Code ?? 'Failed'}: ${f.Message ?? 'no reason given'}` });
        }
      } catch (err) {
        // The whole batch: none of its clusters can be counted as queued.
        for (const m of batch) failed.push({ cluster: m.cluster, reason: `${(err as Error).name}: ${(err as Error).message}` });
      }
    }
    return { failed };
  }
}
