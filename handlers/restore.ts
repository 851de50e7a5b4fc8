/**
 * restore: `{"backup": "<key>" | "latest", "dryRun"?: true, "force"?: true, "cluster"?: "<name>"}`
 * (`cluster` is required when the configuration lists several). The backup is verified, the
 * current version is backed up first, and the guards apply unless forced.
 */
import { parseRestoreRequest } from '../lib/app/requests.js';
import { restoreAccessEntries } from '../lib/app/access-entries.js';
import { entriesWriteReply, restoreReply } from '../lib/app/reply.js';
import { restoreAwsAuth } from '../lib/app/restore.js';
import { instrumented, liveRuntime, respond, selfArns } from '../lib/adapters/lambda.js';

export const handler = instrumented('restore', (event: unknown) =>
  respond('restore', async () => {
    const { cluster, ...req } = parseRestoreRequest(event);
    const rt = await liveRuntime(cluster);
    if (rt.settings.config.target === 'access-entries') {
      const r = await restoreAccessEntries(rt.deps, { cluster: rt.policy.cluster, ...req, selfArns: await selfArns(rt) });
      return entriesWriteReply(rt.policy.cluster, r, { restoredFrom: r.restoredFrom.key, restoredTakenAt: r.restoredFrom.takenAt });
    }
    const result = await restoreAwsAuth(rt.deps, {
      cluster: rt.policy.cluster,
      partition: rt.policy.partition,
      ...req,
      selfArns: await selfArns(rt),
      writeAttempts: rt.settings.config.kubernetes.writeAttempts,
    });
    return restoreReply(rt.policy.cluster, result);
  }),
);
