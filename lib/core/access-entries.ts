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
import { isPlainObject } from './objects.js';
import type { AccessPolicyGrant, IamSnapshot, Refusal, Warning } from './types.js';
import { checkEntryGuards, type EntryGuardContext } from './access-entry-guards.js';

/** Tag on every entry the syncer creates: its value is the cluster name. Entries without it are never changed. */
export const OWNED_TAG = 'aws-auth-syncer.io/owned';
/** Tag recording the IAM unique id (RoleId / UserId) the entry was created for. */
export const PRINCIPAL_ID_TAG = 'aws-auth-syncer.io/principal-id';
export const CLUSTER_ADMIN_POLICY = 'AmazonEKSClusterAdminPolicy';
export const MASTERS_GROUP = 'system:masters';

/** DescribeCluster `accessConfig.authenticationMode`; absent on clusters from before access entries (= CONFIG_MAP). */
export type AuthenticationMode = 'CONFIG_MAP' | 'API_AND_CONFIG_MAP' | 'API';

/** One access entry, as DescribeAccessEntry returns it (the fields the syncer reads). */
export interface AccessEntry {
  principalArn: string;
  kubernetesGroups: string[];
  username: string;
  /** STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, … */
  type: string;
  tags: Record<string, string>;
  /** ms since the epoch, when known. */
  createdAt?: number;
}

/** The cluster's access entries and the policies associated with each (by principal ARN). */
export interface CurrentEntries {
  entries: AccessEntry[];
  policies: Record<string, AccessPolicyGrant[]>;
}

export class EntriesFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntriesFormatError';
  }
}

/** A timestamp as the SDK (Date), the aws CLI (ISO string) or the JSON API (epoch seconds) gives it. */
function timestamp(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string' && Number.isFinite(Date.parse(v))) return Date.parse(v);
  throw new EntriesFormatError(`${where} is not a date`);
}

const strings = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new EntriesFormatError(`${where} is not a list of strings`);
  return v as string[];
};

/** One DescribeAccessEntry `accessEntry`, checked. */
export function readAccessEntry(raw: unknown, where: string): AccessEntry {
  if (!isPlainObject(raw)) throw new EntriesFormatError(`${where} is not an object`);
  if (typeof raw.principalArn !== 'string' || raw.principalArn === '') throw new EntriesFormatError(`${where}.principalArn is missing`);
  const tags = raw.tags ?? {};
  if (!isPlainObject(tags) || !Object.values(tags).every((t) => typeof t === 'string')) throw new EntriesFormatError(`${where}.tags is not a map of strings`);
  if (raw.username !== undefined && raw.username !== null && typeof raw.username !== 'string') throw new EntriesFormatError(`${where}.username is not a string`);
  if (raw.type !== undefined && raw.type !== null && typeof raw.type !== 'string') throw new EntriesFormatError(`${where}.type is not a string`);
  const createdAt = timestamp(raw.createdAt, `${where}.createdAt`);
  return {
    principalArn: raw.principalArn,
    kubernetesGroups: strings(raw.kubernetesGroups, `${where}.kubernetesGroups`),
    username: typeof raw.username === 'string' ? raw.username : '',
    type: typeof raw.type === 'string' && raw.type !== '' ? raw.type : 'STANDARD',
    tags: tags as Record<string, string>,
    ...(createdAt !== undefined ? { createdAt } : {}),
  };
}

/** One ListAssociatedAccessPolicies item, checked and normalised (namespaces sorted). */
export function readAssociatedPolicy(raw: unknown, where: string): AccessPolicyGrant {
  if (!isPlainObject(raw)) throw new EntriesFormatError(`${where} is not an object`);
  if (typeof raw.policyArn !== 'string' || raw.policyArn === '') throw new EntriesFormatError(`${where}.policyArn is missing`);
  const scope = raw.accessScope;
  if (!isPlainObject(scope) || (scope.type !== 'cluster' && scope.type !== 'namespace')) {
    throw new EntriesFormatError(`${where}.accessScope.type must be cluster or namespace`);
  }
  if (scope.type === 'cluster') return { policyArn: raw.policyArn, scope: { type: 'cluster' } };
  return { policyArn: raw.policyArn, scope: { type: 'namespace', namespaces: sortedUnique(strings(scope.namespaces, `${where}.accessScope.namespaces`)) } };
}

/**
 * The offline `--current-entries` document: `{"accessEntries": [<DescribeAccessEntry
 * .accessEntry>…], "associatedPolicies": {"<principalArn>": [<ListAssociatedAccessPolicies item>…]}}`.
 */
export function entriesFromDocument(value: unknown): CurrentEntries {
  if (!isPlainObject(value) || !Array.isArray(value.accessEntries)) {
    throw new EntriesFormatError('expected {"accessEntries": [...], "associatedPolicies": {"<principalArn>": [...]}}');
  }
  const entries = value.accessEntries.map((e, i) => readAccessEntry(e, `accessEntries[${i}]`));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.principalArn)) throw new EntriesFormatError(`accessEntries: ${e.principalArn} is listed twice (EKS holds one entry per principal)`);
    seen.add(e.principalArn);
  }
  const raw = value.associatedPolicies ?? {};
  if (!isPlainObject(raw)) throw new EntriesFormatError('associatedPolicies is not an object keyed by principal ARN');
  const policies: Record<string, AccessPolicyGrant[]> = {};
  for (const [arn, list] of Object.entries(raw)) {
    if (!seen.has(arn)) throw new EntriesFormatError(`associatedPolicies: ${arn} has no access entry in accessEntries`);
    if (!Array.isArray(list)) throw new EntriesFormatError(`associatedPolicies["${arn}"] is not a list`);
    policies[arn] = list.map((p, i) => readAssociatedPolicy(p, `associatedPolicies["${arn}"][${i}]`));
  }
  return { entries, policies };
}

// ---------------------------------------------------------------------------------- names

/** Why EKS would refuse a username for an access entry, or undefined. */
export function accessEntryUsernameProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  const reserved = RESERVED_TAG_USERNAME_PREFIXES.find((p) => lower.startsWith(p));
  if (reserved) return `EKS refuses access-entry usernames starting with "${reserved}"`;
  if (name.includes('{{EC2PrivateDNSName}}')) return '{{EC2PrivateDNSName}} is for node entries (EKS creates those)';
  const session = name.search(/\{\{SessionName(?:Raw)?\}\}/);
  if (session !== -1 && !name.slice(0, session).includes(':')) return 'EKS needs a colon before {{SessionName}} in an access-entry username (such as "team:{{SessionName}}")';
  return undefined;
}

/** Why EKS would refuse a Kubernetes group in an access entry, or undefined. */
export function accessEntryGroupProblem(group: string): string | undefined {
  return group.toLowerCase().startsWith('system:') ? `EKS refuses Kubernetes groups starting with "system:" in access entries (${group})` : undefined;
}

const policyName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

// ------------------------------------------------------------------------- effective access

/** What one entry grants, as EKS serves it. */
export interface EntryGrant {
  /** The principal ARN as the entry holds it. */
  arn: string;
  type: string;
  username: string;
  groups: string[];
  policies: AccessPolicyGrant[];
  owned: boolean;
  /** Why the entry grants nothing although it exists (principal deleted, or recreated since). */
  dead?: string;
}

/** Identity key (lower-cased ARN, roles without their path) → what its entry grants. */
export type EntryAccess = Map<string, EntryGrant>;

/** What IAM says of a principal: its unique id and creation time. */
export interface PrincipalFacts {
  id?: string;
  createdAt?: number;
}

export interface PrincipalIndex {
  /** Identity key → facts, for every role and user the snapshot holds. */
  byKey: Map<string, PrincipalFacts>;
  /** Accounts the snapshot covers completely (an entry there whose principal is not in it is dead). */
  accounts: Set<string>;
}

export function principalIndex(snapshot: IamSnapshot | undefined): PrincipalIndex {
  const byKey = new Map<string, PrincipalFacts>();
  const accounts = new Set<string>();
  for (const p of [...(snapshot?.roles ?? []), ...(snapshot?.users ?? [])]) {
    const id = identityOfPrincipal(p.arn);
    if (!id) continue;
    accounts.add(id.accountId);
    byKey.set(id.key, { ...(p.id !== undefined ? { id: p.id } : {}), ...(p.createdAt !== undefined ? { createdAt: p.createdAt } : {}) });
  }
  return { byKey, accounts };
}

export const entryKey = (principalArn: string): string => identityOfPrincipal(principalArn)?.key ?? principalArn.toLowerCase();

/** Why an entry no longer works for its principal, or undefined. */
export function staleness(entry: AccessEntry, index: PrincipalIndex): string | undefined {
  const id = identityOfPrincipal(entry.principalArn);
  if (!id) return undefined;
  const facts = index.byKey.get(id.key);
  if (!facts) {
    return index.accounts.has(id.accountId) && (id.kind === 'role' || id.kind === 'user') ? 'its IAM principal does not exist' : undefined;
  }
  const recorded = entry.tags[PRINCIPAL_ID_TAG];
  if (recorded !== undefined && facts.id !== undefined) {
    return recorded === facts.id ? undefined : `its IAM ${id.kind} was deleted and created again (id ${recorded} → ${facts.id})`;
  }
  if (entry.createdAt !== undefined && facts.createdAt !== undefined && Math.floor(entry.createdAt / 1000) < Math.floor(facts.createdAt / 1000)) {
    return `its IAM ${id.kind} was created (${new Date(facts.createdAt).toISOString()}) after the entry (${new Date(entry.createdAt).toISOString()})`;
  }
  return undefined;
}

export const isOwned = (entry: AccessEntry, cluster: string): boolean => entry.tags[OWNED_TAG] === cluster;

/** Effective access of a set of entries. */
export function readEntryAccess(current: CurrentEntries, cluster: string, index: PrincipalIndex): EntryAccess {
  const out: EntryAccess = new Map();
  for (const e of current.entries) {
    const dead = staleness(e, index);
    out.set(entryKey(e.principalArn), {
      arn: e.principalArn,
      type: e.type,
      username: e.username,
      groups: sortedUnique(e.kubernetesGroups),
      policies: sortGrants(current.policies[e.principalArn] ?? []),
      owned: isOwned(e, cluster),
      ...(dead ? { dead } : {}),
    });
  }
  return out;
}

const grantKey = (g: AccessPolicyGrant): string => `${g.policyArn} ${g.scope.type === 'cluster' ? '*' : g.scope.namespaces.join(',')}`;
const sortGrants = (gs: readonly AccessPolicyGrant[]): AccessPolicyGrant[] => [...gs].sort((a, b) => (a.policyArn < b.policyArn ? -1 : a.policyArn > b.policyArn ? 1 : 0));

/** Does the grant give access (a live entry)? */
export const live = (g: EntryGrant | undefined): g is EntryGrant => g !== undefined && g.dead === undefined;

export function isClusterAdmin(g: EntryGrant | undefined): boolean {
  return live(g) && g.type === 'STANDARD' && g.policies.some((p) => policyName(p.policyArn) === CLUSTER_ADMIN_POLICY && p.scope.type === 'cluster');
}

export function sameGrant(a: EntryGrant | undefined, b: EntryGrant | undefined): boolean {
  if (!live(a) || !live(b)) return !live(a) && !live(b);
  return (
    a.type === b.type &&
    a.username === b.username &&
    a.groups.join('\0') === b.groups.join('\0') &&
    a.policies.map(grantKey).join('\0') === b.policies.map(grantKey).join('\0')
  );
}

export function describeScope(g: AccessPolicyGrant): string {
  return g.scope.type === 'cluster' ? 'cluster' : `namespaces ${g.scope.namespaces.join(', ')}`;
}

export function describeGrant(g: EntryGrant | undefined): string {
  if (g === undefined) return 'none';
  if (g.dead !== undefined) return `none (an entry exists but ${g.dead})`;
  if (g.type !== 'STANDARD') return `node entry (${g.type})`;
  const pol = g.policies.map((p) => `${policyName(p.policyArn)} (${describeScope(p)})`);
  return `${JSON.stringify(g.username)} [${g.groups.join(', ')}]${pol.length ? ` + ${pol.join(', ')}` : ''}`;
}

/** One identity whose access changes. */
export interface EntryAccessChange {
  id: string;
  arn: string;
  before?: EntryGrant;
  after?: EntryGrant;
}

export function diffEntryAccess(before: EntryAccess, after: EntryAccess, extraIds: readonly string[] = []): EntryAccessChange[] {
  const ids = [...new Set([...before.keys(), ...after.keys(), ...extraIds])].sort();
  const out: EntryAccessChange[] = [];
  for (const id of ids) {
    const b = before.get(id);
    const a = after.get(id);
    if (sameGrant(b, a)) continue;
    out.push({ id, arn: a?.arn ?? b?.arn ?? id, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}) });
  }
  return out;
}

/** `arn:…:role/x: "x" [devs] → none` — the same shape as aws-auth's access lines. */
export function formatEntryAccessChange(c: EntryAccessChange): string {
  return `${c.arn}: ${describeGrant(c.before)} → ${describeGrant(c.after)}`;
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
  if (call.op === 'CreateAccessEntry') return { op: call.op, principalArn: call.principalArn, kubernetesGroups: call.kubernetesGroups, username: call.username };
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
        entries.set(c.principalArn, { principalArn: c.principalArn, kubernetesGroups: [...c.kubernetesGroups], username: c.username, type: 'STANDARD', tags: { ...c.tags } });
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
        policies.set(c.principalArn, (policies.get(c.principalArn) ?? []).filter((p) => p.policyArn !== c.policyArn));
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
  opts: { cluster: string; stale: ReadonlyMap<string, string> },
): { calls: AccessEntryCall[]; conflicts: EntryConflict[] } {
  const byKey = new Map(current.entries.map((e) => [entryKey(e.principalArn), e]));
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

  for (const t of [...targets].sort((a, b) => (entryKey(a.principalArn) < entryKey(b.principalArn) ? -1 : 1))) {
    const key = entryKey(t.principalArn);
    wanted.add(key);
    const e = byKey.get(key);
    if (!e) {
      create.push(...created(t));
      continue;
    }
    if (!isOwned(e, opts.cluster)) {
      conflicts.push({ principalArn: e.principalArn, reason: `an access entry the syncer does not own already exists for this principal (type ${e.type}); it is left as it is` });
      continue;
    }
    if (e.type !== 'STANDARD' || e.principalArn !== t.principalArn || opts.stale.has(key)) {
      // The ARN an entry holds cannot change, nor its type: replace it.
      replace.push({ op: 'DeleteAccessEntry', principalArn: e.principalArn }, ...created(t));
      continue;
    }
    if (e.username !== t.username || sortedUnique(e.kubernetesGroups).join('\0') !== sortedUnique(t.kubernetesGroups).join('\0')) {
      update.push({ op: 'UpdateAccessEntry', principalArn: t.principalArn, kubernetesGroups: t.kubernetesGroups, username: t.username });
    }
    const have = new Map((current.policies[e.principalArn] ?? []).map((p) => [p.policyArn, p]));
    const want = new Map(t.policies.map((p) => [p.policyArn, p]));
    update.push(...associate(t, t.policies.filter((p) => { const h = have.get(p.policyArn); return !h || grantKey(h) !== grantKey(p); })));
    for (const p of have.values()) if (!want.has(p.policyArn)) disassociate.push({ op: 'DisassociateAccessPolicy', principalArn: e.principalArn, policyArn: p.policyArn });
  }
  for (const e of [...current.entries].sort((a, b) => (entryKey(a.principalArn) < entryKey(b.principalArn) ? -1 : 1))) {
    if (isOwned(e, opts.cluster) && !wanted.has(entryKey(e.principalArn))) remove.push({ op: 'DeleteAccessEntry', principalArn: e.principalArn });
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

function summarizeEntries(calls: readonly AccessEntryCall[], conflicts: readonly EntryConflict[], unmanaged: number, access: readonly EntryAccessChange[]): EntriesPlanSummary {
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
      warnings.push({ code: 'bad-username', message: `skipped ${arn}: its username ${JSON.stringify(m.username)} cannot go into an access entry: ${problem}`, arn });
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
  for (const e of current.entries) if (!isOwned(e, policy.cluster) && e.username !== '') usernamesInUse.set(e.username, { where: `access entry ${e.principalArn}`, id: entryKey(e.principalArn) });
  const { targets, warnings } = wantedEntries({ snapshot: input.snapshot, policy, usernamesInUse });
  const stale = new Map<string, string>();
  for (const e of current.entries) {
    const why = staleness(e, index);
    if (!why) continue;
    if (isOwned(e, policy.cluster)) stale.set(entryKey(e.principalArn), why);
    else warnings.push({ code: 'stale-entry', message: `access entry ${e.principalArn} grants nothing: ${why}; it is not the syncer's, so it is left as it is`, arn: e.principalArn });
  }
  for (const e of current.entries) {
    if (isOwned(e, policy.cluster) && stale.has(entryKey(e.principalArn)) && targets.some((t) => entryKey(t.principalArn) === entryKey(e.principalArn))) {
      warnings.push({ code: 'recreate', message: `${e.principalArn}: ${stale.get(entryKey(e.principalArn))}; its access entry is deleted and created again`, arn: e.principalArn });
    }
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
export function planEntriesRestore(input: { current: CurrentEntries; backup: CurrentEntries; cluster: string; selfArns?: readonly string[]; force?: boolean }): EntriesPlan {
  const targets: TargetEntry[] = input.backup.entries.map((e) => ({
    principalArn: e.principalArn,
    username: e.username,
    kubernetesGroups: sortedUnique(e.kubernetesGroups),
    policies: sortGrants(input.backup.policies[e.principalArn] ?? []),
    tags: { [OWNED_TAG]: input.cluster },
  }));
  const { calls, conflicts } = reconcileEntries(input.current, targets, { cluster: input.cluster, stale: new Map() });
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
    if (e) out.push({ code: 'shadowed', message: `${arn}: its aws-auth entry is shadowed by the access entry for ${e.principalArn} (EKS uses the access entry in API_AND_CONFIG_MAP mode)`, arn });
  }
  return out;
}
