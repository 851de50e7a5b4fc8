/**
 * syncAwsAuth: one complete read of IAM, then read → plan → guards → backup → write on aws-auth.
 */
import { formatAccessChange, formatReport } from '../core/diff.js';
import { planSync } from '../core/plan.js';
import type { SyncPolicy } from '../core/policy.js';
import type { Conflict, Warning } from '../core/types.js';
import type { ClusterInfo, IamDirectory } from './ports.js';
import { planBackupWrite, type WriteLoopDeps, type WriteResult } from './write-loop.js';

export interface SyncDeps extends WriteLoopDeps {
  iam: IamDirectory;
  /** Optional: the cluster ARN, which binds the ownership record to this cluster. */
  cluster?: ClusterInfo;
}

export interface SyncRequest {
  policy: SyncPolicy;
  dryRun?: boolean;
  force?: boolean;
  eventIds?: string[];
  /** The syncer's own identities (its roles, the caller), whose access must survive. */
  selfArns?: readonly string[];
  writeAttempts?: number;
}

export interface SyncResult extends WriteResult {
  warnings: Warning[];
  conflicts: Conflict[];
  principals: { users: number; roles: number; groups: number };
}

export async function syncAwsAuth(deps: SyncDeps, req: SyncRequest): Promise<SyncResult> {
  const snapshot = await deps.iam.readSnapshot();
  const principals = { users: snapshot.users.length, roles: snapshot.roles.length, groups: snapshot.groups.length };
  deps.log.info('IAM read', { cluster: req.policy.cluster, ...principals });
  const clusterArn = req.policy.clusterArn ?? (await deps.cluster?.arn());
  const policy = clusterArn ? { ...req.policy, clusterArn } : req.policy;
  let last: ReturnType<typeof planSync> | undefined;
  const result = await planBackupWrite(deps, {
    cluster: req.policy.cluster,
    reason: 'sync',
    eventIds: req.eventIds ?? [],
    dryRun: req.dryRun === true,
    attempts: req.writeAttempts ?? 3,
    plan: (current) => {
      const plan = planSync({ current, snapshot, policy, selfArns: req.selfArns, force: req.force });
      last = plan;
      return { ...plan, report: formatReport(plan), accessReport: plan.access.map(formatAccessChange), details: { summary: plan.summary } };
    },
  });
  return { ...result, warnings: last?.warnings ?? [], conflicts: last?.conflicts ?? [], principals };
}
