/**
 * Effective access on the access-entries target: what each entry grants (Kubernetes groups,
 * username, associated access policies), whether it still works for its principal (EKS keys an
 * entry by the principal's unique id: a role or user deleted and recreated under the same ARN
 * loses it), and the access diff in the same human form as aws-auth's.
 */
import { identityOfPrincipal } from './identity.js';
import { sortedUnique } from './names.js';
import type { AccessPolicyGrant, IamSnapshot } from './types.js';
import { CLUSTER_ADMIN_POLICY, OWNED_TAG, PRINCIPAL_ID_TAG, type AccessEntry, type CurrentEntries } from './entries-read.js';
import { groupBy } from './objects.js';

export const policyName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

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
  /**
   * Other entries of the identity that may be the working one. EKS holds one entry per principal,
   * but a role's entries under an old and a new path look alike when IAM does not say which path
   * the role has (a restore, an account the snapshot does not cover): any of them may be it.
   */
  others?: EntryGrant[];
}

/** Identity key (lower-cased ARN, roles without their path) → what its entry grants. */
export type EntryAccess = Map<string, EntryGrant>;

/** What IAM says of a principal: its ARN (with its path), unique id and creation time. */
export interface PrincipalFacts {
  arn: string;
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
    byKey.set(id.key, { arn: p.arn, ...(p.id !== undefined ? { id: p.id } : {}), ...(p.createdAt !== undefined ? { createdAt: p.createdAt } : {}) });
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
  // Role names are unique in an account whatever the path: an entry naming the role under another
  // path was made for a role deleted since (EKS keys entries by the principal's unique id).
  if (entry.principalArn.toLowerCase() !== facts.arn.toLowerCase()) return `its IAM ${id.kind} is now ${facts.arn} (the entry was made for one deleted since)`;
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
  const sorted = [...current.entries].sort((a, b) => (a.principalArn < b.principalArn ? -1 : a.principalArn > b.principalArn ? 1 : 0));
  const grants = sorted.map((e): EntryGrant => {
    const dead = staleness(e, index);
    return {
      arn: e.principalArn,
      type: e.type,
      username: e.username,
      groups: sortedUnique(e.kubernetesGroups),
      policies: sortGrants(current.policies[e.principalArn] ?? []),
      owned: isOwned(e, cluster),
      ...(dead ? { dead } : {}),
    };
  });
  // Of several entries for an identity, those not known to be dead may each be the working one.
  const out: EntryAccess = new Map();
  for (const [id, gs] of groupBy(grants, (g) => entryKey(g.arn))) {
    const maybe = gs.filter((g) => g.dead === undefined);
    out.set(id, maybe.length === 0 ? gs[0]! : maybe.length === 1 ? maybe[0]! : { ...maybe[0]!, others: maybe.slice(1) });
  }
  return out;
}

/** Every grant the identity may have: one, or several when which entry works is not known. */
export const candidates = (g: EntryGrant | undefined): EntryGrant[] => (g === undefined ? [] : [g, ...(g.others ?? [])]);

export const grantKey = (g: AccessPolicyGrant): string => `${g.policyArn} ${g.scope.type === 'cluster' ? '*' : g.scope.namespaces.join(',')}`;
export const sortGrants = (gs: readonly AccessPolicyGrant[]): AccessPolicyGrant[] =>
  [...gs].sort((a, b) => (a.policyArn < b.policyArn ? -1 : a.policyArn > b.policyArn ? 1 : 0));

/** Does the grant give access (a live entry)? */
export const live = (g: EntryGrant | undefined): g is EntryGrant => g !== undefined && g.dead === undefined;

/** Cluster admin through this entry (one entry: `others` not looked at). */
function adminEntry(g: EntryGrant): boolean {
  return live(g) && g.type === 'STANDARD' && g.policies.some((p) => policyName(p.policyArn) === CLUSTER_ADMIN_POLICY && p.scope.type === 'cluster');
}

/**
 * Is the identity a cluster admin? When several entries may be the working one, the guards take
 * the worse case: `may` (any of them is; for "before") or `surely` (all of them are; for "after").
 */
export function isClusterAdmin(g: EntryGrant | undefined, how: 'may' | 'surely' = 'surely'): boolean {
  const cs = candidates(g);
  return cs.length > 0 && (how === 'may' ? cs.some(adminEntry) : cs.every(adminEntry));
}

function sameEntryGrant(a: EntryGrant, b: EntryGrant): boolean {
  if (!live(a) || !live(b)) return !live(a) && !live(b);
  return (
    a.type === b.type &&
    a.username === b.username &&
    a.groups.join('\0') === b.groups.join('\0') &&
    a.policies.map(grantKey).join('\0') === b.policies.map(grantKey).join('\0')
  );
}

/** Same access: the same grant through each entry that may be the working one (ARNs aside). */
export function sameGrant(a: EntryGrant | undefined, b: EntryGrant | undefined): boolean {
  if (!live(a) || !live(b)) return !live(a) && !live(b);
  const ca = candidates(a);
  const cb = candidates(b);
  return ca.length === cb.length && ca.every((g, i) => (ca.length === 1 || g.arn.toLowerCase() === cb[i]!.arn.toLowerCase()) && sameEntryGrant(g, cb[i]!));
}

export function describeScope(g: AccessPolicyGrant): string {
  return g.scope.type === 'cluster' ? 'cluster' : `namespaces ${g.scope.namespaces.join(', ')}`;
}

export function describeGrant(g: EntryGrant | undefined): string {
  if (g === undefined) return 'none';
  if (g.dead !== undefined) return `none (an entry exists but ${g.dead})`;
  if (g.others?.length)
    return candidates(g)
      .map((c) => `${describeGrant({ ...c, others: [] })} (if ${c.arn} is the working entry)`)
      .join(' or ');
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
