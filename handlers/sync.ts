/**
 * sync: IAM CloudTrail events (EventBridge, batched through SQS), the drift schedule, or a
 * manual invoke (`{}` or `{"dryRun": true}`, optionally `"force": true`).
 */
import { classifySyncEvent, isAutomaticEvent } from '../lib/app/events.js';
import { syncReply } from '../lib/app/reply.js';
import { syncAwsAuth } from '../lib/app/sync.js';
import { instrumented, liveRuntime, logger, respond, selfArns } from '../lib/adapters/lambda.js';

export const handler = instrumented('sync', (event: unknown) =>
  respond('sync', async () => {
    const trigger = classifySyncEvent(event);
    if (trigger.kind === 'ignored') {
      logger.info('event ignored', { reason: trigger.reason, eventIds: trigger.eventIds });
      return { outcome: 'ignored' as const, reason: trigger.reason, eventIds: trigger.eventIds };
    }
    const rt = await liveRuntime();
    const eventIds = trigger.kind === 'manual' ? [] : trigger.eventIds;
    logger.info('sync triggered', { trigger: trigger.kind, eventIds, eventNames: trigger.kind === 'iam' ? trigger.eventNames : undefined });
    const result = await syncAwsAuth(rt.deps, {
      policy: rt.policy,
      dryRun: trigger.kind === 'manual' && trigger.dryRun,
      force: trigger.kind === 'manual' && trigger.force,
      eventIds,
      selfArns: await selfArns(rt),
      writeAttempts: rt.settings.config.kubernetes.writeAttempts,
      trigger: trigger.kind,
    });
    return syncReply(rt.policy.cluster, result, eventIds);
  }, { automatic: isAutomaticEvent, event }),
);
