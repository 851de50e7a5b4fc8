/**
 * End to end, in a fresh process (for peak memory): the syncer (scripts/bench/syncer.mjs) runs
 *   1. a sync with changes on the pre-syncer aws-auth (every principal added),
 *   2. a no-op sync,
 *   3. one IAM change (the spare user joins a mapped group) and a sync with that one change,
 *   4. a no-op sync again,
 * and reports wall time, counters and memory of each. Env: as the Lambda's (set by the bench).
 *   node scripts/bench/sync-worker.mjs '{"mode":"static","stackDir":"…","group":"…","user":"…"}'
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AddUserToGroupCommand, IAMClient, RemoveUserFromGroupCommand } from '@aws-sdk/client-iam';
import { ADMIN_CREDS } from './lib.mjs';
import { createSyncer } from './syncer.mjs';

const args = JSON.parse(process.argv[2]);
const stack = JSON.parse(readFileSync(join(args.stackDir, 'stack.json'), 'utf8'));
const admin = new IAMClient({ region: stack.region, endpoint: stack.motoEndpoint, credentials: ADMIN_CREDS });
const t0 = performance.now();
const syncer = await createSyncer({ mode: args.mode, stack });
const loadMs = performance.now() - t0;
const steps = [];
const step = async (name, event) => {
  const before = { ...syncer.counters };
  const t = performance.now();
  const reply = await syncer.invoke(event);
  const ms = performance.now() - t;
  const mem = process.memoryUsage();
  const delta = Object.fromEntries(Object.entries(syncer.counters).map(([k, v]) => [k, v - before[k]]));
  if (reply?.outcome === 'error' || reply?.outcome === 'refused') throw new Error(`${name}: ${JSON.stringify(reply).slice(0, 500)}`);
  steps.push({ name, ms, outcome: reply.outcome, summary: reply.summary, principals: reply.principals, ...delta, rss: mem.rss, heapUsed: mem.heapUsed });
};
const iamEvent = (name, id) => ({
  Records: [{ messageId: id, body: JSON.stringify({ id, source: 'aws.iam', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventSource: 'iam.amazonaws.com', eventName: name, eventID: `ct-${id}` } }) }],
});
await step('sync with changes (first sync: every principal added)', {});
await step('no-op sync', {});
await admin.send(new AddUserToGroupCommand({ GroupName: args.group, UserName: args.user }));
await step('sync with one change (AddUserToGroup event)', iamEvent('AddUserToGroup', `e2e-${process.pid}`));
await step('no-op sync (after the change)', iamEvent('TagRole', `e2e-noop-${process.pid}`));
await admin.send(new RemoveUserFromGroupCommand({ GroupName: args.group, UserName: args.user }));
console.log(JSON.stringify({ loadMs, steps, maxRssKiB: process.resourceUsage().maxRSS, rss: process.memoryUsage().rss }));
