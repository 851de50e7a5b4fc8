/**
 * syncAwsAuth: one complete read of IAM, then read → plan → guards → backup → write on aws-auth.
 */
import { shadowedWarnings, type CurrentEntries } from '../core/access-entries.js';
import { AUTHENTICATOR_VERSIONS } from '../core/access.js';
import { formatAccessChange, formatReport } from '../core/diff.js';
import { planSync } from '../core/plan.js';
import type { SyncPolicy } from '../core/policy.js';
import type { Conflict, IamSnapshot, Warning } from '../core/types.js';
import { ConfigError } from '../errors.js';
import { byCluster, changeNotice, METRIC, publishChange, publishRefusal, recordRun, stopwatch, type Trigger } from './observe.js';
import { noMetrics, type AccessEntryStore, type ClusterInfo, type IamDirectory, type Notifier } from './ports.js';
import { planBackupWrite, type WriteLoopDeps, type WriteResult } from './write-loop.js';

export interface SyncDeps extends WriteLoopDeps {
  iam: IamDirectory;
  /** Optional: the cluster ARN, which binds the ownership record to this cluster, and its authentication mode. */
  cluster?: ClusterInfo;
  /** Told about every applied change (created or replaced), when set. */
  notifier?: Notifier;
  /** Optional: the cluster's access entries (read in API_AND_CONFIG_MAP mode, to report what they shadow). */
  entries?: AccessEntryStore;
}

/**
 * The aws-auth target and the cluster's authentication mode: in API mode EKS ignores aws-auth (a
 * clear error: syncing it would change nothing); in API_AND_CONFIG_MAP the access entries are
 * read (best effort) so that the plan can report the aws-auth mappings they shadow.
 */
export async function awsAuthModeCheck(deps: Pick<SyncDeps, 'cluster' | 'entries' | 'log'>, cluster: string): Promise<CurrentEntries | undefined> {
  const mode = await deps.cluster?.authenticationMode?.();
  if (mode === 'API') {
    throw new ConfigError(
      `cluster ${cluster} uses authentication mode API: EKS ignores the aws-auth ConfigMap there, so the syncer will not write it; set target: access-entries (aws-auth-syncer migrate --to access-entries shows the switch)`,
      { context: { cluster, authenticationMode: mode } },
    );
  }
  if (mode !== 'API_AND_CONFIG_MAP' || !deps.entries) return undefined;
  try {
    return await deps.entries.read();
  } catch (err) {
    deps.log.warn('could not read the access entries (to report aws-auth entries they shadow)', { cluster, error: (err as Error).message });
    return undefined;
  }
}

export interface SyncRequest {
  policy: SyncPolicy;
  dryRun?: boolean;
  force?: boolean;
  eventIds?: string[];
  /** The syncer's own identities (its roles, the caller), whose access must survive. */
  selfArns?: readonly string[];
  writeAttempts?: number;
  /** What started the run (metrics and notices); default `manual`. */
  trigger?: Trigger;
  /** Publish a refusal to the notifier (default: for every trigger but `manual`). */
  notifyRefusal?: boolean;
}

export interface SyncResult extends WriteResult {
  warnings: Warning[];
  conflicts: Conflict[];
  principals: { users: number; roles: number; groups: number };
}

export async function syncAwsAuth(deps: SyncDeps, req: SyncRequest): Promise<SyncResult> {
  const metrics = deps.metrics ?? noMetrics;
  const cluster = req.policy.cluster;
  const run = { operation: 'sync' as const, cluster, trigger: req.trigger ?? 'manual', dryRun: req.dryRun === true };
  let result: SyncResult;
  try {
    result = await syncOnce(deps, req);
  } catch (err) {
    recordRun(metrics, { ...run, error: err });
    const notify = req.notifyRefusal;
    await publishRefusal({ ...deps, metrics }, { cluster, target: 'aws-auth', trigger: run.trigger, eventIds: req.eventIds ?? [], notify }, err);
    throw err;
  }
  recordRun(metrics, { ...run, result });
  if (result.outcome === 'created' || result.outcome === 'replaced') {
    await publishChange({ ...deps, metrics }, cluster, () => changeNotice({ ...run, eventIds: req.eventIds ?? [], result }));
  }
  return result;
}

async function syncOnce(deps: SyncDeps, req: SyncRequest): Promise<SyncResult> {
  const discovering = stopwatch(deps.clock);
  let snapshot: IamSnapshot;
  try {
    snapshot = await deps.iam.readSnapshot();
  } finally {
    (deps.metrics ?? noMetrics).add(METRIC.discoveryDuration, 'Milliseconds', discovering(), byCluster(req.policy.cluster));
  }
  const principals = { users: snapshot.users.length, roles: snapshot.roles.length, groups: snapshot.groups.length };
  deps.log.info('IAM read', { cluster: req.policy.cluster, ...principals });
  const entries = await awsAuthModeCheck(deps, req.policy.cluster);
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
      if (entries) {
        // The newest authenticator's reading: who is mapped after this write.
        const after = plan.after[AUTHENTICATOR_VERSIONS[AUTHENTICATOR_VERSIONS.length - 1]!];
        const mapped = [...after.grants].map(([id, a]) => ({ id, arn: a.kind === 'mapped' ? a.grant.arn : a.grants[0]!.arn }));
        plan.warnings.push(...shadowedWarnings(mapped, entries));
      }
      last = plan;
      return { ...plan, report: formatReport(plan), accessReport: plan.access.map(formatAccessChange), details: { summary: plan.summary } };
    },
  });
  return { ...result, warnings: last?.warnings ?? [], conflicts: last?.conflicts ?? [], principals };
}
