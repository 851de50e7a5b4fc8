/**
 * Effective access: who can really log in, and as what, as aws-iam-authenticator reads aws-auth.
 *
 * For each authenticator version the syncer follows (v0.6.13, and v0.7.18, the line EKS runs), the
 * store is built the way that version builds it (pkg/mapper/configmap saveMap) and every live
 * identity is looked up the way it looks them up (ConfigMapMapper.Map: mapRoles first, then
 * mapUsers; then mapAccounts grants the account's callers their ARN as username and no group):
 * - v0.6.13: maps keyed by the lower-cased ARN, the last entry wins, lookup by key;
 * - v0.7.18: Validate() drops entries without an ARN and role entries with both rolearn and sso;
 *   roles are keyed by the lower-cased ARN (last wins), users by the ARN as written (last wins),
 *   and lookup walks the store with EqualFold — so two user entries that differ only in case
 *   both match, and Go's random map order picks one: that identity's access is ambiguous.
 * Where versions differ, the guards take the worse outcome (they check every version).
 * A key the syncer cannot read is left out: the reading says so (`unknownKeys`).
 */
import type { AwsAuthView, EntryView, MapKeyView } from './awsauth.js';
import type { MapKey } from './types.js';
import { groupBy } from './objects.js';

export const AUTHENTICATOR_VERSIONS = ['v0.6.13', 'v0.7.18'] as const;
export type AuthenticatorVersion = (typeof AUTHENTICATOR_VERSIONS)[number];

/** What one entry grants. */
export interface Grant {
  username: string;
  groups: string[];
  key: MapKey;
  index: number;
  /** The ARN as written in the entry. */
  arn: string;
}

/** The answer for one identity. */
export type Answer = { kind: 'mapped'; grant: Grant } | { kind: 'ambiguous'; grants: Grant[] };

export interface AccessReading {
  version: AuthenticatorVersion;
  /** Live identities (lower-cased canonical ARN) → what they get from mapRoles/mapUsers. */
  grants: Map<string, Answer>;
  /** Accounts whose every other caller gets in with its ARN as username and no group. */
  accounts: Set<string>;
  /** Keys whose contribution is unknown (the syncer cannot read them). */
  unknownKeys: string[];
}

export type EffectiveAccess = Record<AuthenticatorVersion, AccessReading>;

/** An entry is its own grant (EntryView has every Grant field): no copy per lookup. */
const grantOf = (e: EntryView): Grant => e;

/** Does this version store the entry under a live identity key? */
function storedUnder(e: EntryView, version: AuthenticatorVersion): string | undefined {
  if (e.target.kind !== 'identity') return undefined;
  if (version === 'v0.7.18' && e.key === 'mapRoles' && e.sso) return undefined; // Validate: rolearn and sso
  return e.target.identity.key;
}

const sameGrant = (a: Grant, b: Grant): boolean =>
  a.username === b.username && a.groups.length === b.groups.length && a.groups.every((g, i) => g === b.groups[i]);

/**
 * Tables already built, per key view and version: a plan reads the access before and after, and a
 * key it did not rewrite is the same view object both times.
 */
const tables = new WeakMap<MapKeyView, Partial<Record<AuthenticatorVersion, ReadonlyMap<string, Answer>>>>();

/** identity key → answer, for one key of aws-auth (memoised per view). */
function lookupTable(k: MapKeyView, version: AuthenticatorVersion): ReadonlyMap<string, Answer> {
  let byVersion = tables.get(k);
  if (!byVersion) tables.set(k, (byVersion = {}));
  return (byVersion[version] ??= buildTable(k, version));
}

/**
 * Can the versions read this key differently? Only through role entries that also carry `sso`
 * (v0.7 drops them) and user ARNs spelled in more than one way (v0.7 keeps each spelling).
 */
function versionsDiffer(k: MapKeyView): boolean {
  if (k.key === 'mapRoles') return k.entries.some((e) => e.sso);
  const spelling = new Map<string, string>();
  for (const e of k.entries) {
    if (e.target.kind !== 'identity') continue;
    const id = e.target.identity.key;
    const seen = spelling.get(id);
    if (seen === undefined) spelling.set(id, e.arn);
    else if (seen !== e.arn) return true;
  }
  return false;
}

function buildTable(k: MapKeyView, version: AuthenticatorVersion): Map<string, Answer> {
  // The newer version reads most keys exactly like the older one: share its table then.
  if (version !== AUTHENTICATOR_VERSIONS[0] && !versionsDiffer(k)) return lookupTable(k, AUTHENTICATOR_VERSIONS[0]) as Map<string, Answer>;
  const out = new Map<string, Answer>();
  if (k.state !== 'ok') return out;
  if (version === 'v0.7.18' && k.key === 'mapUsers') {
    // Stored by exact ARN (last wins), matched case-insensitively: one candidate per spelling.
    const bySpelling = new Map<string, EntryView>();
    const ids = new Map<string, string>();
    for (const e of k.entries) {
      const id = storedUnder(e, version);
      if (id === undefined) continue;
      bySpelling.set(e.arn, e);
      ids.set(e.arn, id);
    }
    for (const [id, es] of groupBy(bySpelling.values(), (e) => ids.get(e.arn)!)) {
      const grants = es.map(grantOf);
      out.set(
        id,
        grants.length === 1 || grants.every((g) => sameGrant(g, grants[0]!))
          ? { kind: 'mapped', grant: grants[grants.length - 1]! }
          : { kind: 'ambiguous', grants },
      );
    }
    return out;
  }
  for (const e of k.entries) {
    const id = storedUnder(e, version);
    if (id !== undefined) out.set(id, { kind: 'mapped', grant: grantOf(e) });
  }
  return out;
}

/** One version's reading of a view. */
export function readAccess(view: AwsAuthView, version: AuthenticatorVersion): AccessReading {
  const grants = new Map(lookupTable(view.mapUsers, version));
  // mapRoles is looked up first, so its answer wins.
  for (const [id, answer] of lookupTable(view.mapRoles, version)) grants.set(id, answer);
  const unknownKeys = [view.mapRoles, view.mapUsers].filter((k) => k.state === 'unsure').map((k) => k.key as string);
  if (view.mapAccounts.state === 'unsure') unknownKeys.push('mapAccounts');
  return { version, grants, accounts: new Set(view.mapAccounts.state === 'ok' ? view.mapAccounts.accounts : []), unknownKeys };
}

/** Every version's reading. */
export function effectiveAccess(view: AwsAuthView): EffectiveAccess {
  const old = readAccess(view, 'v0.6.13');
  // When both keys read the same in both versions, so does the whole (the usual case).
  const same =
    lookupTable(view.mapUsers, 'v0.7.18') === lookupTable(view.mapUsers, 'v0.6.13') &&
    lookupTable(view.mapRoles, 'v0.7.18') === lookupTable(view.mapRoles, 'v0.6.13');
  return { 'v0.6.13': old, 'v0.7.18': same ? { ...old, version: 'v0.7.18' } : readAccess(view, 'v0.7.18') };
}

/** What a caller with this identity key gets: a grant, an ambiguous set, account-level, or none. */
export type Outcome =
  | { kind: 'none' }
  | { kind: 'account' }
  | { kind: 'mapped'; username: string; groups: string[] }
  | { kind: 'ambiguous'; options: { username: string; groups: string[] }[] };

/** The account id in a canonical ARN key. */
const accountOf = (key: string): string => key.split(':')[4] ?? '';

export function outcomeOf(reading: AccessReading, id: string): Outcome {
  const a = reading.grants.get(id);
  if (a?.kind === 'mapped') return { kind: 'mapped', username: a.grant.username, groups: a.grant.groups };
  if (a?.kind === 'ambiguous') return { kind: 'ambiguous', options: a.grants.map((g) => ({ username: g.username, groups: g.groups })) };
  return reading.accounts.has(accountOf(id)) ? { kind: 'account' } : { kind: 'none' };
}

/** Outcomes compared as the cluster sees them: group order and repeats do not matter. */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'none' || a.kind === 'account') return true;
  // Fast path: identical usernames and group lists (the common case on a large aws-auth).
  if (
    a.kind === 'mapped' &&
    b.kind === 'mapped' &&
    a.username === b.username &&
    a.groups.length === b.groups.length &&
    a.groups.every((g, i) => g === b.groups[i])
  )
    return true;
  const norm = (o: Outcome): string =>
    o.kind === 'mapped'
      ? JSON.stringify([o.kind, o.username, [...new Set(o.groups)].sort()])
      : o.kind === 'ambiguous'
        ? JSON.stringify([o.kind, o.options.map((x) => [x.username, [...new Set(x.groups)].sort()]).sort()])
        : o.kind;
  return norm(a) === norm(b);
}

/**
 * Does the identity get the group, for certain (every ambiguous option) or possibly (any)? Reads
 * the stored answer directly (no Outcome built: guards ask this of every identity).
 */
export function hasGroup(reading: AccessReading, id: string, group: string, mode: 'certainly' | 'possibly'): boolean {
  const a = reading.grants.get(id);
  if (!a) return false;
  if (a.kind === 'mapped') return a.grant.groups.includes(group);
  return mode === 'certainly' ? a.grants.every((g) => g.groups.includes(group)) : a.grants.some((g) => g.groups.includes(group));
}

/** Does the outcome grant the group for certain (every ambiguous option) or possibly (any)? */
export function grantsGroup(o: Outcome, group: string, mode: 'certainly' | 'possibly'): boolean {
  if (o.kind === 'mapped') return o.groups.includes(group);
  if (o.kind === 'ambiguous') return mode === 'certainly' ? o.options.every((x) => x.groups.includes(group)) : o.options.some((x) => x.groups.includes(group));
  return false;
}

/** Identity keys some version maps (not account-level). */
export function mappedIdentities(access: EffectiveAccess): Set<string> {
  const ids = new Set<string>();
  for (const v of AUTHENTICATOR_VERSIONS) for (const id of access[v].grants.keys()) ids.add(id);
  return ids;
}

/** The ARN an entry for the identity is written with, if some entry maps it. */
export function arnOf(access: EffectiveAccess, id: string): string | undefined {
  for (const v of AUTHENTICATOR_VERSIONS) {
    const a = access[v].grants.get(id);
    if (a) return a.kind === 'mapped' ? a.grant.arn : a.grants[0]!.arn;
  }
  return undefined;
}
