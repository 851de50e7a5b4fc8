/**
 * backups: the cluster's backups, newest first. `{"limit"?: number, "cluster"?: "<name>"}`
 * (default 50; `cluster` is required when the configuration lists several).
 */
import { parseListRequest } from '../lib/app/requests.js';
import { backupsReply } from '../lib/app/reply.js';
import { listBackups } from '../lib/app/restore.js';
import { instrumented, liveRuntime, respond } from '../lib/adapters/lambda.js';

export const handler = instrumented('backups', (event: unknown) =>
  respond('backups', async () => {
    const { limit, cluster } = parseListRequest(event);
    const rt = await liveRuntime(cluster);
    return backupsReply(rt.policy.cluster, await listBackups(rt.deps.backups, rt.policy.cluster, limit));
  }),
);
