/**
 * Migration from the aws-auth target to access entries: what the switch would create (the
 * access-entries plan from the same desired mappings) and which aws-auth entries cannot move.
 * Pure; `aws-auth-syncer migrate` shows it and writes nothing without --apply.
 */
import { accessEntryGroupProblem, accessEntryUsernameProblem, entryKey, type CurrentEntries, type EntriesPlan } from './access-entries.js';
import { viewAwsAuth } from './awsauth.js';
import { NODE_GROUPS } from './names.js';
import { owns, readOwned } from './ownership.js';
import type { SyncPolicy } from './policy.js';
import type { ConfigMapObject } from './types.js';

export interface MigrationItem {
  /** `mapRoles[3]`, `mapAccounts`, … */
  where: string;
  arn?: string;
  reason: string;
}

export interface MigrationReport {
  /** aws-auth entries that have no access-entry equivalent (or that EKS would refuse). */
  cannotMove: MigrationItem[];
  /** Entries the syncer does not own: they stay in aws-auth; move them by hand or add them to the config. */
  notManaged: MigrationItem[];
  /** Owned aws-auth entries the access-entries plan covers. */
  moving: MigrationItem[];
}

/** Classify the current aws-auth for a switch to access entries. */
export function planMigration(input: {
  current: ConfigMapObject | null;
  policy: SyncPolicy;
  entriesPlan: EntriesPlan;
  currentEntries: CurrentEntries;
}): MigrationReport {
  const { policy } = input;
  const view = viewAwsAuth(input.current, policy.partition);
  const owned = readOwned(input.current, { name: policy.cluster, arn: policy.clusterArn });
  const report: MigrationReport = { cannotMove: [], notManaged: [], moving: [] };
  if (view.mapAccounts.state === 'ok' && view.mapAccounts.accounts.length > 0) {
    report.cannotMove.push({
      where: 'mapAccounts',
      reason: `accounts ${view.mapAccounts.accounts.join(', ')}: access entries have no account-wide mapping; create one entry per principal`,
    });
  }
  if (view.mapAccounts.state === 'broken' || view.mapAccounts.state === 'unsure') {
    report.cannotMove.push({ where: 'mapAccounts', reason: `cannot be read (${view.mapAccounts.reason ?? view.mapAccounts.state})` });
  }
  const planned = new Set(input.entriesPlan.calls.filter((c) => c.op === 'CreateAccessEntry').map((c) => entryKey(c.principalArn)));
  const existing = new Set(input.currentEntries.entries.map((e) => entryKey(e.principalArn)));
  for (const kv of [view.mapRoles, view.mapUsers]) {
    if (kv.state === 'broken' || kv.state === 'unsure') {
      report.cannotMove.push({ where: kv.key, reason: `cannot be read (${kv.reason ?? kv.state}); fix it first` });
      continue;
    }
    for (const e of kv.entries) {
      const where = `${kv.key}[${e.index}]`;
      const arn = e.arn || undefined;
      if (e.sso) {
        report.cannotMove.push({
          where,
          arn,
          reason: 'an sso matcher: access entries name one role ARN; map the permission set with roleMappings[].ssoPermissionSet',
        });
        continue;
      }
      if (e.target.kind !== 'identity') {
        report.cannotMove.push({ where, arn, reason: `grants nothing today: ${e.target.reason}` });
        continue;
      }
      const id = e.target.identity.key;
      if (owns(owned, kv.key, id)) {
        const state = planned.has(id)
          ? 'the plan creates its access entry'
          : existing.has(id)
            ? 'an access entry exists already'
            : 'not wanted any more: the plan creates no entry for it';
        report.moving.push({
          where,
          arn,
          reason: `owned by the syncer: ${state}${e.groups.includes('system:masters') ? ' (system:masters becomes AmazonEKSClusterAdminPolicy)' : ''}`,
        });
        continue;
      }
      if (e.groups.some((g) => NODE_GROUPS.includes(g))) {
        report.cannotMove.push({
          where,
          arn,
          reason: 'a node role: EKS creates EC2_LINUX access entries for managed node groups; give self-managed nodes an EC2_LINUX entry (not the syncer’s)',
        });
        continue;
      }
      const bad = e.groups.filter((g) => g !== 'system:masters' && accessEntryGroupProblem(g));
      if (bad.length > 0) {
        report.cannotMove.push({ where, arn, reason: `Kubernetes group(s) ${bad.join(', ')}: EKS refuses system: groups in access entries` });
        continue;
      }
      const userProblem = e.username === '' ? undefined : accessEntryUsernameProblem(e.username);
      if (userProblem) {
        report.cannotMove.push({ where, arn, reason: `username ${JSON.stringify(e.username)}: ${userProblem}` });
        continue;
      }
      report.notManaged.push({
        where,
        arn,
        reason: existing.has(id)
          ? 'not the syncer’s; an access entry exists already (it wins in API_AND_CONFIG_MAP)'
          : 'not the syncer’s: stays in aws-auth; add it to roleMappings/groupMappings, or create its access entry by hand',
      });
    }
  }
  return report;
}

export function formatMigration(r: MigrationReport): string[] {
  const lines: string[] = [];
  const section = (title: string, items: MigrationItem[]): void => {
    lines.push(`${title} (${items.length}):`);
    for (const i of items) lines.push(`  ${i.where}${i.arn ? ` ${i.arn}` : ''}: ${i.reason}`);
  };
  section('moves with the syncer', r.moving);
  section('cannot move', r.cannotMove);
  section('not managed by the syncer', r.notManaged);
  return lines;
}
