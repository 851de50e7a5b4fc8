/**
 * sync: IAM CloudTrail events (EventBridge, batched through SQS), the drift schedule, or a
 * manual invoke (`{}` or `{"dryRun": true}`, optionally `"force": true`, and `"cluster"` to pick
 * one cluster of a configuration that lists several). With a list of clusters, a run reads IAM
 * once and hands each cluster its part through the cluster queue (lib/adapters/fleet-wire.ts).
 */
import { classifySyncEvent, isAutomaticEvent } from '../lib/app/events.js';
import { syncAccessEntries } from '../lib/app/access-entries.js';
import { entriesWriteReply, syncReply } from '../lib/app/reply.js';
import { syncAwsAuth } from '../lib/app/sync.js';
import { instrumented, liveClusters, logger, pickRuntime, respond, selfArns } from '../lib/adapters/lambda.js';
import { syncFleet } from '../lib/adapters/fleet-wire.js';

export const handler = instrumented('sync', (event: unknown) =>
  respond(
    'sync',
    async () => {
      const trigger = classifySyncEvent(event);
      if (trigger.kind === 'ignored') {
        logger.info('event ignored', { reason: trigger.reason, eventIds: trigger.eventIds });
        return { outcome: 'ignored' as const, reason: trigger.reason, eventIds: trigger.eventIds };
      }
      const live = await liveClusters();
      const eventIds = trigger.kind === 'manual' ? [] : trigger.eventIds;
      logger.info('sync triggered', { trigger: trigger.kind, eventIds, eventNames: trigger.kind === 'iam' ? trigger.eventNames : undefined });
      if (live.kind === 'fleet') return syncFleet(live, trigger);
      const rt = pickRuntime(live, trigger.kind === 'manual' ? trigger.cluster : undefined);
      const req = {
        policy: rt.policy,
        dryRun: trigger.kind === 'manual' && trigger.dryRun,
        force: trigger.kind === 'manual' && trigger.force,
        eventIds,
        selfArns: await selfArns(rt),
        // A refusal is final (the reply, not a retry): an automatic one is told; a person reads the reply.
        notifyRefusal: trigger.kind !== 'manual',
      };
      if (rt.settings.config.target === 'access-entries') {
        const r = await syncAccessEntries(rt.deps, { ...req, trigger: trigger.kind });
        return entriesWriteReply(rt.policy.cluster, r, { eventIds, principals: r.principals });
      }
      const result = await syncAwsAuth(rt.deps, { ...req, writeAttempts: rt.settings.config.kubernetes.writeAttempts, trigger: trigger.kind });
      return syncReply(rt.policy.cluster, result, eventIds);
    },
    { automatic: isAutomaticEvent, event },
  ),
);
