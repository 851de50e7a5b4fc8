/**
 * The IAM side of the burst: adds each of the given users to a mapped IAM group, spread evenly
 * over `spanMs`, and for each sends the CloudTrail-shaped EventBridge event into the SQS queue
 * (what the EventBridge rule in serverless.yml would deliver; EventBridge's own delivery delay
 * is not modelled).
 *   node dist/scripts/bench/burst-events.js '{"queueUrl":"…","group":"burst-team","users":["u1",…],"spanMs":10000}'
 */
import { AddUserToGroupCommand } from '@aws-sdk/client-iam';
import { clients, stack } from '../../test/integration/support/stack.js';
import { sleep, workerArgs } from './lib.js';
import { cloudTrailEvent, sqs } from './sqs.js';

const args = workerArgs<{ queueUrl: string; group: string; users: string[]; spanMs: number }>();
const { iam } = clients();
const q = sqs(stack().motoEndpoint);
const n = args.users.length;
const t0 = Date.now();
const sentAt: number[] = [];
// Each event fires at its own due time (not after the previous one finished), so a slow moto
// call cannot stretch the burst beyond spanMs.
await Promise.all(
  args.users.map(async (user, i) => {
    const due = t0 + Math.round((i * args.spanMs) / Math.max(1, n - 1));
    if (due > Date.now()) await sleep(due - Date.now());
    await iam.send(new AddUserToGroupCommand({ GroupName: args.group, UserName: user }));
    await q.send(args.queueUrl, JSON.stringify(cloudTrailEvent('AddUserToGroup', { groupName: args.group, userName: user }, i)));
    sentAt.push(Date.now());
  }),
);
sentAt.sort((a, b) => a - b);
console.log(JSON.stringify({ t0, tFirst: sentAt[0], tLast: sentAt[n - 1], sent: n }));
