/**
 * The access-entries target: the same desired mappings as aws-auth (lib/core/desired.ts), as EKS
 * access entries and access policy associations. Pure: a function of the current entries, the IAM
 * snapshot and the policy; the adapter (lib/adapters/access-entries.ts) makes the calls.
 *
 *   current entries + associations → effective access before
 *   desired mappings → wanted entries (STANDARD, role ARNs with their path, no `system:` groups:
 *     `system:masters` becomes AmazonEKSClusterAdminPolicy at cluster scope)
 *   reconcile owned entries only (tag OWNED_TAG) → calls, in a safe order
 *   apply the calls to a copy → effective access after → guards → diff
 *
 * Rules EKS enforces and ministack (the emulator the tests run on) does not, checked here:
 * Kubernetes groups must not start with `system:`; usernames must not start with `system:`,
 * `eks:`, `aws:`, `amazon:` or `iam:`, and need a colon before `{{SessionName}}`.
 *
 * EKS keys an entry by the principal's unique id, fixed at creation: an IAM role or user deleted
 * and recreated under the same ARN silently loses its entry. The syncer records the id in a tag
 * (PRINCIPAL_ID_TAG) and compares it with IAM's; an entry without that tag is stale when it was
 * created before the principal (whole seconds: IAM's CreateDate has no fraction). A stale owned
 * entry is deleted and created again.
 */
import { identityOfPrincipal } from './identity.js';
import { buildDesired, accessPolicyArn } from './desired.js';
import { RESERVED_TAG_USERNAME_PREFIXES, sortedUnique } from './names.js';
import type { SyncPolicy } from './policy.js';
import type { AccessPolicyGrant, IamSnapshot, Refusal, Warning } from './types.js';
import { checkEntryGuards, type EntryGuardContext } from './access-entry-guards.js';
import { CLUSTER_ADMIN_POLICY, MASTERS_GROUP, OWNED_TAG, PRINCIPAL_ID_TAG, type AccessEntry, type CurrentEntries } from './entries-read.js';
import { groupBy } from './objects.js';
import {
  describeScope,
  diffEntryAccess,
  isOwned,
  live,
  policyName,
  principalIndex,
  readEntryAccess,
  staleness,
  entryKey,
  formatEntryAccessChange,
  grantKey,
  sortGrants,
  type EntryAccess,
  type EntryAccessChange,
  type PrincipalIndex,
} from './entries-access.js';

export * from './entries-read.js';
export * from './entries-access.js';

// ---------------------------------------------------------------------------------- names

/** Why EKS would refuse a username for an access entry, or undefined. */
export function accessEntryUsernameProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  const reserved = RESERVED_TAG_USERNAME_PREFIXES.find((p) => lower.startsWith(p));
  if (reserved) return `EKS refuses access-entry usernames starting with "${reserved}"`;
  if (name.includes('{{EC2PrivateDNSName}}')) return '{{EC2PrivateDNSName}} is for node entries (EKS creates those)';
  const session = name.search(/\{\{SessionName(?:Raw)?\}\}/);
  if (session !== -1 && !name.slice(0, session).includes(':'))
    return 'EKS needs a colon before {{SessionName}} in an access-entry username (such as "team:{{SessionName}}")';
  return undefined;
}

/** Why EKS would refuse a Kubernetes group in an access entry, or undefined. */
export function accessEntryGroupProblem(group: string): string | undefined {
  return group.toLowerCase().startsWith('system:') ? `EKS refuses Kubernetes groups starting with "system:" in access entries (${group})` : undefined;
}

// ------------------------------------------------------------------------------------ calls

export type AccessScopeCall = { type: 'cluster' } | { type: 'namespace'; namespaces: string[] };

/** One EKS call. `tags` and `type: STANDARD` ride along with every create. */
export type AccessEntryCall =
  | { op: 'CreateAccessEntry'; principalArn: string; kubernetesGroups: string[]; username: string; tags: Record<string, string> }
  | { op: 'AssociateAccessPolicy'; principalArn: string; policyArn: string; accessScope: AccessScopeCall }
  | { op: 'UpdateAccessEntry'; principalArn: string; kubernetesGroups: string[]; username: string }
  | { op: 'DisassociateAccessPolicy'; principalArn: string; policyArn: string }
  | { op: 'DeleteAccessEntry'; principalArn: string };

/** A call as the offline contract prints it (`tags` left out: always the ownership tags). */
export function callJson(call: AccessEntryCall): Record<string, unknown> {
  if (call.op === 'CreateAccessEntry')
    return { op: call.op, principalArn: call.principalArn, kubernetesGroups: call.kubernetesGroups, username: call.username };
  return { ...call };
}

export function formatCall(c: AccessEntryCall): string {
  switch (c.op) {
    case 'CreateAccessEntry':
      return `+ CreateAccessEntry ${c.principalArn} username=${JSON.stringify(c.username)} groups=[${c.kubernetesGroups.join(', ')}]`;
    case 'AssociateAccessPolicy':
      return `+ AssociateAccessPolicy ${c.principalArn} ${policyName(c.policyArn)} (${describeScope({ policyArn: c.policyArn, scope: c.accessScope })})`;
    case 'UpdateAccessEntry':
      return `~ UpdateAccessEntry ${c.principalArn} username=${JSON.stringify(c.username)} groups=[${c.kubernetesGroups.join(', ')}]`;
    case 'DisassociateAccessPolicy':
      return `- DisassociateAccessPolicy ${c.principalArn} ${policyName(c.policyArn)}`;
    case 'DeleteAccessEntry':
      return `- DeleteAccessEntry ${c.principalArn}`;
  }
}

/** The entries after the calls, as EKS would hold them (associations go with a deleted entry). */
export function applyCalls(current: CurrentEntries, calls: readonly AccessEntryCall[]): CurrentEntries {
  const entries = new Map(current.entries.map((e) => [e.principalArn, { ...e }]));
  const policies = new Map(Object.entries(current.policies).map(([k, v]) => [k, [...v]]));
  for (const c of calls) {
    switch (c.op) {
      case 'CreateAccessEntry':
        entries.set(c.principalArn, {
          principalArn: c.principalArn,
          kubernetesGroups: [...c.kubernetesGroups],
          username: c.username,
          type: 'STANDARD',
          tags: { ...c.tags },
        });
        policies.set(c.principalArn, []);
        break;
      case 'UpdateAccessEntry': {
        const e = entries.get(c.principalArn);
        if (e) entries.set(c.principalArn, { ...e, kubernetesGroups: [...c.kubernetesGroups], username: c.username });
        break;
      }
      case 'AssociateAccessPolicy': {
        const list = (policies.get(c.principalArn) ?? []).filter((p) => p.policyArn !== c.policyArn);
        policies.set(c.principalArn, [...list, { policyArn: c.policyArn, scope: c.accessScope }]);
        break;
      }
      case 'DisassociateAccessPolicy':
        policies.set(
          c.principalArn,
          (policies.get(c.principalArn) ?? []).filter((p) => p.policyArn !== c.policyArn),
        );
        break;
      case 'DeleteAccessEntry':
        entries.delete(c.principalArn);
        policies.delete(c.principalArn);
        break;
    }
  }
  return { entries: [...entries.values()], policies: Object.fromEntries([...policies].filter(([k]) => entries.has(k))) };
}

// ---------------------------------------------------------------------------- reconcile

/** An entry the syncer wants to exist, exactly so. */
export interface TargetEntry {
  principalArn: string;
  username: string;
  kubernetesGroups: string[];
  policies: AccessPolicyGrant[];
  tags: Record<string, string>;
}

export interface EntryConflict {
  principalArn: string;
  reason: string;
}

/**
 * Calls that make the owned entries equal to `targets`, in a safe order: stale entries are
 * replaced first (they grant nothing now), then new entries and their policies, updates and new
 * associations, and only then removals — so an admin being added is in place before any admin
 * goes, and a run stopped half way has only added access.
 */
export function reconcileEntries(
  current: CurrentEntries,
  targets: readonly TargetEntry[],
  /** stale: entries known to grant nothing, by ARN; undefined when not known (a restore has no IAM). */
  opts: { cluster: string; stale?: ReadonlyMap<string, string> },
): { calls: AccessEntryCall[]; conflicts: EntryConflict[] } {
  // Every entry of an identity: a role's entries under other paths share its key (EKS holds one
  // per principal, so at most one of them is for the role that exists now).
  const byKey = groupBy(current.entries, (e) => entryKey(e.principalArn));
  const replace: AccessEntryCall[] = [];
  const create: AccessEntryCall[] = [];
  const update: AccessEntryCall[] = [];
  const disassociate: AccessEntryCall[] = [];
  const remove: AccessEntryCall[] = [];
  const conflicts: EntryConflict[] = [];
  const wanted = new Set<string>();
  const associate = (t: TargetEntry, policies: readonly AccessPolicyGrant[]): AccessEntryCall[] =>
    policies.map((p) => ({ op: 'AssociateAccessPolicy', principalArn: t.principalArn, policyArn: p.policyArn, accessScope: p.scope }));
  const created = (t: TargetEntry): AccessEntryCall[] => [
    { op: 'CreateAccessEntry', principalArn: t.principalArn, kubernetesGroups: t.kubernetesGroups, username: t.username, tags: t.tags },
    ...associate(t, t.policies),
  ];
  // Each entry deleted once (a restore may hold several targets of one identity).
  const deleted = new Set<AccessEntry>();
  const drop = (list: AccessEntryCall[], e: AccessEntry): void => {
    if (deleted.has(e)) return;
    deleted.add(e);
    list.push({ op: 'DeleteAccessEntry', principalArn: e.principalArn });
  };
  const { stale } = opts;
  // A restore may bring back several entries of one identity (a backup holds what EKS held).
  const targetArns = new Set(targets.map((t) => t.principalArn));

  for (const t of [...targets].sort((a, b) => (entryKey(a.principalArn) < entryKey(b.principalArn) ? -1 : 1))) {
    const key = entryKey(t.principalArn);
    wanted.add(key);
    const es = byKey.get(key) ?? [];
    const sameArn = (e: AccessEntry): boolean => e.principalArn.toLowerCase() === t.principalArn.toLowerCase();
    const mine = es.filter((e) => isOwned(e, opts.cluster));
    // An entry the syncer does not own holds the principal when it names the same ARN (EKS would
    // refuse a second entry for it) or works; a dead one under another path does not. Without IAM
    // (a restore) only the ARN is known: EKS itself refuses an entry for a role that does not exist.
    const holder = es.find((e) => !isOwned(e, opts.cluster) && (sameArn(e) || (stale !== undefined && !stale.has(e.principalArn))));
    if (holder) {
      conflicts.push({
        principalArn: holder.principalArn,
        reason: `an access entry the syncer does not own already exists for this principal (type ${holder.type}); it is left as it is`,
      });
      // The syncer's own entries for it that are known to grant nothing go; any other is left.
      for (const e of mine) if (stale?.has(e.principalArn)) drop(remove, e);
      continue;
    }
    // The entry to keep: STANDARD, for exactly this ARN, working. Any other of the syncer's goes
    // (first when it holds the ARN the new entry needs; the ARN and type of an entry cannot change).
    const e = mine.find((x) => x.type === 'STANDARD' && x.principalArn === t.principalArn && !stale?.has(x.principalArn));
    for (const x of mine) if (x !== e && (sameArn(x) || !targetArns.has(x.principalArn))) drop(sameArn(x) ? replace : remove, x);
    if (!e) {
      (mine.some(sameArn) ? replace : create).push(...created(t));
      continue;
    }
    if (e.username !== t.username || sortedUnique(e.kubernetesGroups).join('\0') !== sortedUnique(t.kubernetesGroups).join('\0')) {
      update.push({ op: 'UpdateAccessEntry', principalArn: t.principalArn, kubernetesGroups: t.kubernetesGroups, username: t.username });
    }
    const have = new Map((current.policies[e.principalArn] ?? []).map((p) => [p.policyArn, p]));
    const want = new Map(t.policies.map((p) => [p.policyArn, p]));
    update.push(
      ...associate(
        t,
        t.policies.filter((p) => {
          const h = have.get(p.policyArn);
          return !h || grantKey(h) !== grantKey(p);
        }),
      ),
    );
    for (const p of have.values())
      if (!want.has(p.policyArn)) disassociate.push({ op: 'DisassociateAccessPolicy', principalArn: e.principalArn, policyArn: p.policyArn });
  }
  for (const e of [...current.entries].sort((a, b) => (entryKey(a.principalArn) < entryKey(b.principalArn) ? -1 : 1))) {
    if (isOwned(e, opts.cluster) && !wanted.has(entryKey(e.principalArn))) drop(remove, e);
  }
  return { calls: [...replace, ...create, ...update, ...disassociate, ...remove], conflicts };
}

// ---------------------------------------------------------------------------------- plans

export interface EntriesPlanSummary {
  create: number;
  update: number;
  delete: number;
  recreate: number;
  associate: number;
  disassociate: number;
  conflicts: number;
  unmanaged: number;
  identitiesAdded: number;
  identitiesRemoved: number;
  identitiesChanged: number;
}

export interface EntriesPlan {
  changed: boolean;
  calls: AccessEntryCall[];
  access: EntryAccessChange[];
  conflicts: EntryConflict[];
  warnings: Warning[];
  refusals: Refusal[];
  summary: EntriesPlanSummary;
  /** The owned entries and their associations now: what a backup keeps. */
  owned: CurrentEntries;
  before: EntryAccess;
  after: EntryAccess;
}

const selfIdsOf = (arns: readonly string[] | undefined): string[] => [...new Set((arns ?? []).flatMap((a) => identityOfPrincipal(a)?.key ?? []))];

/** The owned part of the current entries (what a backup holds). */
export function ownedEntries(current: CurrentEntries, cluster: string): CurrentEntries {
  const entries = current.entries.filter((e) => isOwned(e, cluster));
  return { entries, policies: Object.fromEntries(entries.map((e) => [e.principalArn, current.policies[e.principalArn] ?? []])) };
}

function summarizeEntries(
  calls: readonly AccessEntryCall[],
  conflicts: readonly EntryConflict[],
  unmanaged: number,
  access: readonly EntryAccessChange[],
): EntriesPlanSummary {
  const creates = new Set(calls.filter((c) => c.op === 'CreateAccessEntry').map((c) => c.principalArn));
  const deletes = new Set(calls.filter((c) => c.op === 'DeleteAccessEntry').map((c) => c.principalArn));
  const recreate = [...creates].filter((a) => deletes.has(a)).length;
  const count = (op: AccessEntryCall['op']): number => calls.filter((c) => c.op === op).length;
  return {
    create: creates.size - recreate,
    update: count('UpdateAccessEntry'),
    delete: deletes.size - recreate,
    recreate,
    associate: count('AssociateAccessPolicy'),
    disassociate: count('DisassociateAccessPolicy'),
    conflicts: conflicts.length,
    unmanaged,
    identitiesAdded: access.filter((c) => !live(c.before) && live(c.after)).length,
    identitiesRemoved: access.filter((c) => live(c.before) && !live(c.after)).length,
    identitiesChanged: access.filter((c) => live(c.before) && live(c.after)).length,
  };
}

function finish(
  kind: 'sync' | 'restore',
  current: CurrentEntries,
  calls: AccessEntryCall[],
  conflicts: EntryConflict[],
  warnings: Warning[],
  ctx: { cluster: string; index: PrincipalIndex; selfArns?: readonly string[]; force: boolean; maxRemovals: number; wantedCount?: number },
): EntriesPlan {
  const before = readEntryAccess(current, ctx.cluster, ctx.index);
  const after = readEntryAccess(applyCalls(current, calls), ctx.cluster, ctx.index);
  const selfIds = selfIdsOf(ctx.selfArns);
  const changed = calls.length > 0;
  const access = changed ? diffEntryAccess(before, after, selfIds) : [];
  const owned = ownedEntries(current, ctx.cluster);
  const guard: EntryGuardContext = {
    kind,
    before,
    after,
    selfIds,
    maxRemovals: ctx.maxRemovals,
    ...(ctx.wantedCount !== undefined ? { wantedCount: ctx.wantedCount, ownedCount: owned.entries.length } : {}),
  };
  const refusals = changed ? checkEntryGuards(guard, ctx.force) : [];
  const unmanaged = current.entries.length - owned.entries.length;
  return { changed, calls, access, conflicts, warnings, refusals, summary: summarizeEntries(calls, conflicts, unmanaged, access), owned, before, after };
}

export interface EntriesSyncInput {
  current: CurrentEntries;
  snapshot: IamSnapshot;
  policy: SyncPolicy;
  /** The syncer's own identities: never locked out. */
  selfArns?: readonly string[];
  /** Waive the removal and empty-discovery guards (never the admin and self guards). */
  force?: boolean;
}

/** The access entries the desired mappings ask for, with the warnings of what EKS would refuse. */
export function wantedEntries(input: { snapshot: IamSnapshot; policy: SyncPolicy; usernamesInUse?: ReadonlyMap<string, { where: string; id?: string }> }): {
  targets: TargetEntry[];
  warnings: Warning[];
} {
  const desired = buildDesired(input.snapshot, input.policy, { usernamesInUse: input.usernamesInUse });
  const warnings: Warning[] = [...desired.warnings];
  const index = principalIndex(input.snapshot);
  const adminArn = accessPolicyArn(input.policy.partition, CLUSTER_ADMIN_POLICY);
  const targets: TargetEntry[] = [];
  for (const m of desired.mappings) {
    const arn = m.principalArn;
    const problem = accessEntryUsernameProblem(m.username);
    if (problem) {
      warnings.push({
        code: 'bad-username',
        message: `skipped ${arn}: its username ${JSON.stringify(m.username)} cannot go into an access entry: ${problem}`,
        arn,
      });
      continue;
    }
    const groups: string[] = [];
    let admin = false;
    for (const g of m.groups) {
      if (g === MASTERS_GROUP) admin = true;
      else if (accessEntryGroupProblem(g)) warnings.push({ code: 'bad-group', message: `${arn}: dropped ${accessEntryGroupProblem(g)}`, arn });
      else groups.push(g);
    }
    const policies = m.accessPolicies.filter((p) => p.policyArn !== adminArn);
    if (admin || m.accessPolicies.some((p) => p.policyArn === adminArn)) policies.push({ policyArn: adminArn, scope: { type: 'cluster' } });
    const id = index.byKey.get(m.identity.key)?.id;
    targets.push({
      principalArn: arn,
      username: m.username,
      kubernetesGroups: groups,
      policies: sortGrants(policies),
      tags: { [OWNED_TAG]: input.policy.cluster, ...(id !== undefined ? { [PRINCIPAL_ID_TAG]: id } : {}) },
    });
  }
  return { targets, warnings };
}

/** Sync: make the owned access entries what IAM and the config ask for. */
export function planEntriesSync(input: EntriesSyncInput): EntriesPlan {
  const { current, policy } = input;
  const index = principalIndex(input.snapshot);
  const usernamesInUse = new Map<string, { where: string; id?: string }>();
  for (const e of current.entries)
    if (!isOwned(e, policy.cluster) && e.username !== '')
      usernamesInUse.set(e.username, { where: `access entry ${e.principalArn}`, id: entryKey(e.principalArn) });
  const { targets, warnings } = wantedEntries({ snapshot: input.snapshot, policy, usernamesInUse });
  // Entries that grant nothing (principal gone, recreated, or now under another path), by ARN.
  const stale = new Map<string, string>();
  const wantedKeys = new Set(targets.map((t) => entryKey(t.principalArn)));
  for (const e of current.entries) {
    const why = staleness(e, index);
    if (!why) continue;
    stale.set(e.principalArn, why);
    if (!isOwned(e, policy.cluster))
      warnings.push({
        code: 'stale-entry',
        message: `access entry ${e.principalArn} grants nothing: ${why}; it is not the syncer's, so it is left as it is`,
        arn: e.principalArn,
      });
    else if (targets.some((t) => t.principalArn === e.principalArn))
      warnings.push({ code: 'recreate', message: `${e.principalArn}: ${why}; its access entry is deleted and created again`, arn: e.principalArn });
    else if (wantedKeys.has(entryKey(e.principalArn)))
      warnings.push({
        code: 'stale-entry',
        message: `access entry ${e.principalArn} grants nothing: ${why}; it is the syncer's, so it is deleted`,
        arn: e.principalArn,
      });
  }
  const { calls, conflicts } = reconcileEntries(current, targets, { cluster: policy.cluster, stale });
  return finish('sync', current, calls, conflicts, warnings, {
    cluster: policy.cluster,
    index,
    selfArns: input.selfArns,
    force: input.force === true,
    maxRemovals: policy.guards.maxRemovals,
    wantedCount: targets.length,
  });
}

/**
 * Restore: the owned entries become those of the backup again (created, updated or deleted);
 * an entry the syncer does not own is never changed. The principal-id tag is not restored (the
 * principal may have been recreated since); such entries fall back to the creation-time check.
 */
export function planEntriesRestore(input: {
  current: CurrentEntries;
  backup: CurrentEntries;
  cluster: string;
  selfArns?: readonly string[];
  force?: boolean;
}): EntriesPlan {
  const targets: TargetEntry[] = input.backup.entries.map((e) => ({
    principalArn: e.principalArn,
    username: e.username,
    kubernetesGroups: sortedUnique(e.kubernetesGroups),
    policies: sortGrants(input.backup.policies[e.principalArn] ?? []),
    tags: { [OWNED_TAG]: input.cluster },
  }));
  const { calls, conflicts } = reconcileEntries(input.current, targets, { cluster: input.cluster });
  return finish('restore', input.current, calls, conflicts, [], {
    cluster: input.cluster,
    index: principalIndex(undefined),
    selfArns: input.selfArns,
    force: input.force === true,
    maxRemovals: Number.POSITIVE_INFINITY,
  });
}

/** The report lines of a plan: calls, access changes, conflicts, warnings, refusals, summary. */
export function formatEntriesReport(plan: Pick<EntriesPlan, 'calls' | 'access' | 'conflicts' | 'warnings' | 'refusals' | 'summary'>): string[] {
  const lines = plan.calls.map(formatCall);
  if (plan.access.length) {
    lines.push('access (as EKS access entries grant it):');
    lines.push(...plan.access.map((c) => `  ${formatEntryAccessChange(c)}`));
  }
  for (const c of plan.conflicts) lines.push(`! conflict ${c.principalArn}: ${c.reason}`);
  for (const w of plan.warnings) lines.push(`! warning: ${w.message}`);
  for (const r of plan.refusals) lines.push(`✗ refused (${r.code}): ${r.message}`);
  const s = plan.summary;
  lines.push(
    `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.recreate} to recreate, ${s.associate} to associate, ${s.disassociate} to disassociate, ` +
      `${s.conflicts} conflicts, ${s.unmanaged} unmanaged entries kept; identities: ${s.identitiesAdded} gain access, ${s.identitiesRemoved} lose it, ${s.identitiesChanged} change`,
  );
  return lines;
}

/**
 * aws-auth mappings that an access entry shadows: in API_AND_CONFIG_MAP mode EKS looks up access
 * entries first, so the aws-auth entry of a principal that has one is never used.
 */
export function shadowedWarnings(identities: Iterable<{ id: string; arn: string }>, entries: CurrentEntries): Warning[] {
  const byKey = new Map(entries.entries.map((e) => [entryKey(e.principalArn), e]));
  const out: Warning[] = [];
  for (const { id, arn } of identities) {
    const e = byKey.get(id);
    if (e)
      out.push({
        code: 'shadowed',
        message: `${arn}: its aws-auth entry is shadowed by the access entry for ${e.principalArn} (EKS uses the access entry in API_AND_CONFIG_MAP mode)`,
        arn,
      });
  }
  return out;
}
