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
    const { limit, cluster: name } = parseListRequest(event);
    const rt = await liveRuntime(name);
    const cluster = rt.policy.cluster;
    if (rt.settings.config.target === 'access-entries')
      return { ...backupsReply(cluster, await rt.deps.backups.listEntries(cluster, limit)), target: 'access-entries' };
    return backupsReply(cluster, await listBackups(rt.deps.backups, cluster, limit));
  }),
);
