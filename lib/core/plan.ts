/**
 * planSync / planRestore: the whole decision, one pure function each.
 *
 *   read once (view) → effective access before → wanted mappings → decision rows → render
 *   (splice) → read the rewritten keys back → effective access after → guards → diffs
 */
import { AUTHENTICATOR_VERSIONS, effectiveAccess, type EffectiveAccess } from './access.js';
import { readMapKey, viewAwsAuth, viewProblems, type AwsAuthView, type EntryView } from './awsauth.js';
import { conflictsOf, decide, edits, entryChanges, entryObject, type Row } from './decide.js';
import { buildDesired } from './desired.js';
import { diffAccess, sortChanges, summarize, type AccessChange, type DiffSummary } from './diff.js';
import { checkGuards } from './guards.js';
import { identityKeyOf } from './identity.js';
import { NODE_GROUPS } from './names.js';
import { OWNED_ANNOTATION, ownershipToken, readOwned } from './ownership.js';
import type { SyncPolicy } from './policy.js';
import { dataSize, newAwsAuth, renderAwsAuth, type Rendered } from './render.js';
import { MAP_KEYS, type ConfigMapObject, type Conflict, type EntryChange, type IamSnapshot, type MapKey, type Refusal, type Warning } from './types.js';
import { toValue } from './yaml-read.js';

export interface SyncPlan {
  /** True when the next object differs from the current one (or there is none yet). */
  changed: boolean;
  /** aws-auth does not exist and will be created. */
  create: boolean;
  /** The complete next ConfigMap (equal to current when nothing changes). */
  next: ConfigMapObject;
  changes: EntryChange[];
  /** Who gains, loses or changes access. */
  access: AccessChange[];
  conflicts: Conflict[];
  warnings: Warning[];
  refusals: Refusal[];
  summary: DiffSummary;
  rows: Row[];
  before: EffectiveAccess;
  after: EffectiveAccess;
}

export interface SyncPlanInput {
  current: ConfigMapObject | null;
  snapshot: IamSnapshot;
  policy: SyncPolicy;
  /** The syncer's own identities (its sync and restore roles, or the caller): never locked out. */
  selfArns?: readonly string[];
  /**
   * Proceed although some current keys cannot be read (they stay byte for byte) and waive the
   * removal and empty-discovery guards. Never waives the guards that keep admins, nodes and the
   * syncer itself in.
   */
  force?: boolean;
}

/** Most dead entries named one by one; the rest are counted (a reply stays readable and small). */
const MAX_DEAD_LISTED = 20;

/** Entries that can never match, as warnings: the first few by name, then a count. */
function deadEntryWarnings(view: AwsAuthView, prefix: string): Warning[] {
  const dead = viewProblems(view).filter((p) => !p.blocking);
  const out: Warning[] = dead
    .slice(0, MAX_DEAD_LISTED)
    .map((p) => ({ code: 'dead-entry', message: `${prefix}${p.key}[${p.index}] grants nothing: ${p.reason}` }));
  if (dead.length > MAX_DEAD_LISTED) out.push({ code: 'dead-entry', message: `${prefix}${dead.length - MAX_DEAD_LISTED} more entries grant nothing` });
  return out;
}

/** Strip what the API server sets, so that two objects compare on what we control. */
function comparable(cm: ConfigMapObject | null): string {
  if (!cm) return 'null';
  return JSON.stringify({ data: cm.data ?? {}, annotations: cm.metadata.annotations ?? {}, binaryData: cm.binaryData ?? null });
}

const selfIdsOf = (arns: readonly string[] | undefined): string[] => [...new Set((arns ?? []).flatMap((a) => identityKeyOf(a) ?? []))];

/**
 * Read back what a render wrote and report any difference from what was meant. A key written
 * whole is read again whole. A spliced key keeps every kept entry's exact text, so only the new
 * entries are read (each from its own rendered text) and the key's view is put together from the
 * kept views and the new ones; the differential tests check this against the authenticator.
 */
function readBack(view: AwsAuthView, rendered: Rendered): { view: AwsAuthView; problems: string[] } {
  const out: AwsAuthView = { ...view };
  const problems: string[] = [];
  for (const key of rendered.rewritten) {
    const text = rendered.next.data?.[key];
    const pieces = rendered.spliced[key];
    if (pieces) {
      const entries: EntryView[] = [];
      for (const p of pieces) {
        if (p.kind === 'kept') {
          entries.push(p.entry.index === entries.length ? p.entry : { ...p.entry, index: entries.length });
          continue;
        }
        const fresh = readMapKey(key, p.text, view.partition);
        const e = fresh.entries[0];
        if (fresh.state !== 'ok' || fresh.entries.length !== 1 || JSON.stringify(toValue(e!.node)) !== JSON.stringify(entryObject(p.mapping))) {
          problems.push(`the entry written for ${p.mapping.identity.arn} does not read back as planned`);
          continue;
        }
        entries.push({ ...e!, index: entries.length });
      }
      out[key] = { key, state: 'ok', text, entries };
      continue;
    }
    const kv = readMapKey(key, text, view.partition);
    out[key] = kv;
    const want = rendered.expected[key] ?? [];
    if (kv.state !== 'ok' && !(kv.state === 'empty' && want.length === 0)) {
      problems.push(`${key} reads as ${kv.state}${kv.reason ? ` (${kv.reason})` : ''}`);
      continue;
    }
    if (JSON.stringify(kv.entries.map((e) => toValue(e.node))) !== JSON.stringify(want)) problems.push(`${key} does not read back as the planned entries`);
  }
  return { view: out, problems };
}

export function planSync(input: SyncPlanInput): SyncPlan {
  const { current, policy } = input;
  const force = input.force === true;
  const view = viewAwsAuth(current, policy.partition);
  const before = effectiveAccess(view);
  const owned = readOwned(current, { name: policy.cluster, arn: policy.clusterArn });
  const visible = [view.mapRoles, view.mapUsers].flatMap((k) => (k.state === 'ok' ? k.entries : []));
  const idOf = (e: (typeof visible)[number]): string => (e.target.kind === 'identity' ? e.target.identity.key : '');
  // One digest per entry, once: entries the ownership record claims.
  const claimed = new Map<EntryView, string>();
  if (owned.tokens.size > 0) {
    for (const e of visible) {
      if (e.target.kind !== 'identity') continue;
      const t = ownershipToken(owned.readRef, e.key, idOf(e));
      if (owned.tokens.has(t)) claimed.set(e, t);
    }
  }
  const isOwned = (e: (typeof visible)[number]): boolean => claimed.has(e);

  // A key that cannot be read is kept verbatim, so nothing managed can be placed in it.
  const writable = (key: MapKey): boolean => ['absent', 'empty', 'ok'].includes(view[key].state);
  const selfIds = selfIdsOf(input.selfArns);
  // Usernames in use: those of the entries that stay unmanaged after this plan (a tag may not take
  // them), so that the next plan, which sees them unowned, decides the tags the same way.
  const inUseOf = (entries: readonly EntryView[]) => {
    const inUse = new Map<string, { where: string; id?: string }>();
    for (const e of entries)
      if (e.username !== '') inUse.set(e.username, { where: `${e.key}[${e.index}]`, id: e.target.kind === 'identity' ? e.target.identity.key : undefined });
    return inUse;
  };
  const planWith = (stayUnmanaged: readonly EntryView[]) => {
    const desired = buildDesired(input.snapshot, policy, { usernamesInUse: inUseOf(stayUnmanaged) });
    const decisions = decide({
      view,
      owned,
      claimed,
      want: desired.mappings.filter((m) => writable(m.key)),
      adoptUnmanaged: policy.adoptUnmanaged,
      selfIds: new Set(selfIds),
      force,
    });
    return { desired, decisions };
  };
  // Managed after the plan: entries a row rewrites or removes, and those it keeps as its own.
  const unmanagedAfter = (rows: readonly Row[]): EntryView[] => {
    const managed = new Set<EntryView>();
    for (const r of rows) {
      for (const e of r.drop) managed.add(e);
      if (r.action === 'keep') managed.add(r.entries[0]!);
    }
    return visible.filter((e) => !managed.has(e));
  };
  // First guess: the entries unowned now (a node mapping never is the syncer's, as in decide). The
  // rows can change that (an adopted entry becomes managed; an owned entry beside a node mapping is
  // left and its record dropped); which entries they take does not depend on usernames, so one
  // more pass with the true set is enough.
  const guess = visible.filter((e) => !isOwned(e) || e.groups.some((g) => NODE_GROUPS.includes(g)));
  let { desired, decisions } = planWith(guess);
  const stay = unmanagedAfter(decisions.rows);
  if (stay.length !== guess.length || stay.some((e, i) => e !== guess[i])) ({ desired, decisions } = planWith(stay));

  const warnings: Warning[] = [...desired.warnings];
  if (owned.problem) warnings.push({ code: 'owned-annotation', message: owned.problem });
  for (const key of MAP_KEYS) {
    const n = desired.mappings.filter((m) => m.key === key).length;
    if (!writable(key) && n > 0)
      warnings.push({ code: 'unreadable-key', message: `${key} cannot be read, so ${n} managed entr${n === 1 ? 'y was' : 'ies were'} not written to it` });
  }
  warnings.push(...deadEntryWarnings(view, ''));

  // Entries owned in a key that cannot be read are invisible, not gone: keep their ownership.
  const tokens = [...decisions.tokens];
  const claimedTokens = new Set(claimed.values());
  const unclaimed = [...owned.tokens].filter((t) => !claimedTokens.has(t));
  if (MAP_KEYS.some((k) => !writable(k)) && owned.readRef === owned.writeRef) tokens.push(...unclaimed);
  else if (unclaimed.length > 0) {
    // A record naming no entry (removed by hand, or turned into a node mapping) could later claim a
    // hand-written entry for that identity: it is dropped, and said so.
    warnings.push({
      code: 'owned-annotation',
      message: `${unclaimed.length} ownership record${unclaimed.length === 1 ? '' : 's'} matched no entry (removed by hand?) and ${unclaimed.length === 1 ? 'was' : 'were'} dropped`,
    });
  }
  const rendered = renderAwsAuth({ current, view, edits: edits(decisions.rows), tokens, writeRef: owned.writeRef });
  const { next } = rendered;
  const back = readBack(view, rendered);
  // Nothing rewritten: the reading after is the reading before.
  const after = rendered.rewritten.length === 0 ? before : effectiveAccess(back.view);

  // What each written or kept row means must be what the authenticator will read.
  for (const r of decisions.rows) {
    if (!r.want || !(r.write || r.action === 'keep')) continue;
    for (const v of AUTHENTICATOR_VERSIONS) {
      const a = after[v].grants.get(r.id);
      const g = a?.kind === 'mapped' ? a.grant : undefined;
      const want = r.want;
      const ok = g !== undefined && g.username === want.username && g.groups.length === want.groups.length && g.groups.every((x, i) => x === want.groups[i]);
      if (!ok) back.problems.push(`${want.identity.arn} would not get what was planned (authenticator ${v})`);
    }
  }
  for (const v of AUTHENTICATOR_VERSIONS) {
    for (const [id, a] of after[v].grants) {
      if (a.kind !== 'ambiguous') continue;
      const where =
        a.grants
          .slice(0, 5)
          .map((g) => `${g.key}[${g.index}]`)
          .join(', ') + (a.grants.length > 5 ? ` and ${a.grants.length - 5} more` : '');
      warnings.push({
        code: 'ambiguous',
        message: `${id}: authenticator ${v} picks one of ${a.grants.length} entries at random (${where}); remove the duplicates`,
      });
    }
  }

  const changed = current === null ? tokens.length > 0 : comparable(current) !== comparable(next);
  const changes = entryChanges(decisions.rows);
  // A write with no entry change must still say what it changes.
  if (changed && current !== null && changes.length === 0) {
    const record = (cm: ConfigMapObject) => cm.metadata.annotations?.[OWNED_ANNOTATION];
    warnings.push({
      code: 'record-only',
      message:
        record(current) !== record(next)
          ? `no entry changes: only the ownership record (annotation ${OWNED_ANNOTATION}) is ${record(next) === undefined ? 'removed' : 'rewritten'}`
          : 'no entry changes: only the text of aws-auth is rewritten',
    });
  }
  const conflicts = conflictsOf(decisions.rows);
  const access = changed ? diffAccess(before, after, selfIds) : [];
  const ownedCount = visible.filter(isOwned).length;
  const refusals = changed
    ? checkGuards(
        {
          kind: 'sync',
          beforeView: view,
          afterView: back.view,
          before,
          after,
          selfIds,
          maxRemovals: policy.guards.maxRemovals,
          wantedCount: desired.mappings.length,
          ownedCount,
          roundtrip: back.problems,
          nextSize: dataSize(next),
        },
        force,
      )
    : [];
  return {
    changed,
    create: current === null && changed,
    next,
    changes,
    access,
    conflicts,
    warnings,
    refusals,
    summary: summarize(changes, conflicts, visible.length - ownedCount, access),
    rows: decisions.rows,
    before,
    after,
  };
}

export interface RestorePlan {
  changed: boolean;
  next: ConfigMapObject;
  refusals: Refusal[];
  /** Entry-level view of what the restore changes (by identity, as the newest authenticator reads it). */
  changes: EntryChange[];
  access: AccessChange[];
  warnings: Warning[];
}

/**
 * Restore: the backup's data, annotations and labels on top of the current object (keeping its
 * resourceVersion, so that a concurrent change still gives a conflict). Unless forced, the backup
 * must be readable and must not take access from the admins, the nodes or the syncer itself.
 */
export function planRestore(input: {
  current: ConfigMapObject | null;
  backup: ConfigMapObject;
  partition: string;
  selfArns?: readonly string[];
  force?: boolean;
}): RestorePlan {
  const { current, backup } = input;
  const base: ConfigMapObject = current ? structuredClone(current) : newAwsAuth();
  const next: ConfigMapObject = { ...base, metadata: { ...base.metadata }, data: { ...(backup.data ?? {}) } };
  if (backup.binaryData !== undefined) next.binaryData = structuredClone(backup.binaryData);
  else delete next.binaryData;
  if (backup.metadata.annotations) next.metadata.annotations = { ...backup.metadata.annotations };
  else delete next.metadata.annotations;
  if (backup.metadata.labels) next.metadata.labels = { ...backup.metadata.labels };
  else delete next.metadata.labels;

  const beforeView = viewAwsAuth(current, input.partition);
  const afterView = viewAwsAuth(next, input.partition);
  const before = effectiveAccess(beforeView);
  const after = effectiveAccess(afterView);
  const selfIds = selfIdsOf(input.selfArns);
  const changed = comparable(current) !== comparable(next);
  const refusals = changed
    ? checkGuards(
        { kind: 'restore', beforeView, afterView, before, after, selfIds, maxRemovals: Number.POSITIVE_INFINITY, roundtrip: [], nextSize: dataSize(next) },
        input.force === true,
      )
    : [];
  const warnings = deadEntryWarnings(afterView, "the backup's ");
  return { changed, next, refusals, changes: grantChanges(before, after), access: changed ? diffAccess(before, after, selfIds) : [], warnings };
}

/** Entry changes between two readings, identity by identity (newest authenticator version). */
function grantChanges(before: EffectiveAccess, after: EffectiveAccess): EntryChange[] {
  const v = AUTHENTICATOR_VERSIONS[AUTHENTICATOR_VERSIONS.length - 1]!;
  const b = before[v].grants;
  const a = after[v].grants;
  const out: EntryChange[] = [];
  const pick = (x: ReturnType<typeof b.get>) => (x?.kind === 'mapped' ? x.grant : x?.grants[0]);
  for (const id of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const gb = pick(b.get(id));
    const ga = pick(a.get(id));
    if (ga && !gb) out.push({ op: 'add', key: ga.key, arn: ga.arn, after: { username: ga.username, groups: ga.groups } });
    else if (gb && !ga) out.push({ op: 'remove', key: gb.key, arn: gb.arn, before: { username: gb.username, groups: gb.groups } });
    else if (gb && ga && (gb.username !== ga.username || JSON.stringify([...gb.groups].sort()) !== JSON.stringify([...ga.groups].sort()))) {
      out.push({
        op: 'update',
        key: ga.key,
        arn: ga.arn,
        before: { username: gb.username, groups: gb.groups },
        after: { username: ga.username, groups: ga.groups },
      });
    }
  }
  return sortChanges(out);
}
