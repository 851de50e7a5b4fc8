/**
 * End to end, in a fresh process (for peak memory): the sync handler (scripts/bench/syncer.ts) runs
 *   1. a sync with changes on the pre-syncer aws-auth (every principal added),
 *   2. a no-op sync,
 *   3. one IAM change (the spare user joins a mapped group) and a sync with that one change,
 *   4. a no-op sync again,
 * and reports wall time, counters and memory of each. Env: as the Lambda's (set by the bench).
 *   node dist/scripts/bench/sync-worker.js '{"group":"team-00","user":"e2e-spare"}'
 */
import { AddUserToGroupCommand, RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import { clients } from '../../test/integration/support/stack.js';
import { workerArgs } from './lib.js';

const args = workerArgs<{ group: string; user: string }>();
const { iam } = clients();
const t0 = performance.now();
const { createSyncer } = await import('./syncer.js');
const syncer = await createSyncer();
const loadMs = performance.now() - t0;
const steps: Record<string, unknown>[] = [];
async function step(name: string, event: unknown): Promise<void> {
  const t = performance.now();
  const { value: reply, ...counts } = await syncer.delta(() => syncer.invoke(event));
  const ms = performance.now() - t;
  if (reply.outcome === 'error' || reply.outcome === 'refused' || !reply.outcome) throw new Error(`${name}: ${JSON.stringify(reply).slice(0, 500)}`);
  steps.push({ name, ms, outcome: reply.outcome, summary: reply.summary, principals: reply.principals, ...counts, rss: process.memoryUsage().rss });
}
const iamEvent = (name: string, id: string) => ({
  Records: [
    {
      messageId: id,
      body: JSON.stringify({
        id,
        source: 'aws.iam',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventSource: 'iam.amazonaws.com', eventName: name, eventID: `ct-${id}` },
      }),
    },
  ],
});
await step('sync with changes (first sync: every principal added)', {});
await step('no-op sync', {});
await iam.send(new AddUserToGroupCommand({ GroupName: args.group, UserName: args.user }));
await step('sync with one change (AddUserToGroup event)', iamEvent('AddUserToGroup', `e2e-${process.pid}`));
await step('no-op sync (after the change)', iamEvent('TagRole', `e2e-noop-${process.pid}`));
await iam.send(new RemoveUserFromGroupCommand({ GroupName: args.group, UserName: args.user }));
console.log(JSON.stringify({ loadMs, steps, maxRssKiB: process.resourceUsage().maxRSS }));
