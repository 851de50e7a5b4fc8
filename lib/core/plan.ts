/**
 * planSync / planRestore: the whole decision, as one pure function each.
 * parse → desired → reconcile → render → guards → diff.
 */
import { buildDesired } from './desired.js';
import { summarize, type DiffSummary } from './diff.js';
import { checkGuards } from './guards.js';
import { ownershipToken, readOwned } from './ownership.js';
import { parseAwsAuth } from './parse.js';
import type { SyncPolicy } from './policy.js';
import { reconcile } from './reconcile.js';
import { currentLists, itemsToList, newAwsAuth, renderAwsAuth } from './render.js';
import { MAP_KEYS, type ConfigMapObject, type Conflict, type EntryChange, type IamSnapshot, type Refusal, type Warning } from './types.js';

export interface SyncPlan {
  /** True when the next object differs from the current one (or there is none yet). */
  changed: boolean;
  /** aws-auth does not exist and will be created. */
  create: boolean;
  /** The complete next ConfigMap (equal to current when nothing changes). */
  next: ConfigMapObject;
  changes: EntryChange[];
  conflicts: Conflict[];
  warnings: Warning[];
  refusals: Refusal[];
  summary: DiffSummary;
}

/** Strip what the API server sets, so that two objects compare on what we control. */
function comparable(cm: ConfigMapObject | null): string {
  if (!cm) return 'null';
  return JSON.stringify({ data: cm.data ?? {}, annotations: cm.metadata.annotations ?? {}, binaryData: cm.binaryData ?? null });
}

export interface SyncPlanInput {
  current: ConfigMapObject | null;
  snapshot: IamSnapshot;
  policy: SyncPolicy;
  selfArn?: string;
  /**
   * Proceed although the current aws-auth has problems (unreadable keys stay verbatim, bad
   * entries stay as they are) and waive the removal and empty-discovery guards. Never waives
   * the guards that keep admins, nodes and the syncer itself in.
   */
  force?: boolean;
}

export function planSync(input: SyncPlanInput): SyncPlan {
  const { current, policy } = input;
  const parsed = parseAwsAuth(current);
  const owned = readOwned(current);
  const desired = buildDesired(input.snapshot, policy);
  const warnings = [...desired.warnings];
  // A key that cannot be read is kept verbatim, so nothing managed can be placed in it.
  const placeable = desired.mappings.filter((m) => !parsed.unreadableKeys.includes(m.key));
  for (const key of parsed.unreadableKeys) {
    const n = desired.mappings.filter((m) => m.key === key).length;
    if (n > 0) warnings.push({ code: 'unreadable-key', message: `${key} cannot be read, so ${n} managed entr${n === 1 ? 'y was' : 'ies were'} not written to it` });
  }
  const rec = reconcile({ parsed, owned: owned.tokens, desired: placeable, adoptUnmanaged: policy.adoptUnmanaged });
  // Entries owned in a key that cannot be read are invisible, not gone: keep their ownership.
  if (parsed.unreadableKeys.length > 0) {
    const visible = new Set(parsed.entries.flatMap((e) => (e.canonical ? [ownershipToken(e.canonical)] : [])));
    rec.owned = [...new Set([...rec.owned, ...[...owned.tokens].filter((t) => !visible.has(t))])].sort();
  }
  const next = renderAwsAuth({ current, next: rec.next, owned: rec.owned, unreadableKeys: parsed.unreadableKeys, currentLists: currentLists(parsed) });
  const intended: Record<string, unknown[]> = {};
  for (const key of MAP_KEYS) if (!parsed.unreadableKeys.includes(key)) intended[key] = itemsToList(rec.next[key]);
  if (owned.malformed) {
    warnings.push({ code: 'owned-annotation', message: 'the ownership annotation is malformed; treating every entry as unmanaged' });
  }
  const ownedCount = parsed.entries.filter((e) => e.canonical !== undefined && owned.tokens.has(ownershipToken(e.canonical))).length;
  // No ConfigMap and nothing to put in one: nothing to create.
  const changed = current === null ? rec.owned.length > 0 : comparable(current) !== comparable(next);
  const refusals = changed
    ? checkGuards({
        current,
        currentParsed: parsed,
        next,
        intended,
        removals: rec.removals,
        maxRemovals: policy.guards.maxRemovals,
        desiredCount: desired.mappings.length,
        ownedCount,
        selfArn: input.selfArn,
        waive: input.force ? new Set(['current-unparseable', 'too-many-removals', 'empty-discovery'] as const) : undefined,
      })
    : [];
  return {
    changed,
    create: current === null && changed,
    next,
    changes: rec.changes,
    conflicts: rec.conflicts,
    warnings,
    refusals,
    summary: summarize(rec.changes, rec.conflicts, rec.unmanagedCount),
  };
}

export interface RestorePlan {
  changed: boolean;
  next: ConfigMapObject;
  refusals: Refusal[];
  /** Entry-level view of what the restore changes (all entries treated alike). */
  changes: EntryChange[];
}

/**
 * Restore: the backup's data, annotations and labels on top of the current object (keeping its
 * resourceVersion, so that a concurrent change still gives a conflict). The same guards apply
 * unless forced: the backup must parse, and it must not drop the admins, the nodes or the
 * syncer itself relative to what is there now.
 */
export function planRestore(input: { current: ConfigMapObject | null; backup: ConfigMapObject; selfArn?: string; force?: boolean }): RestorePlan {
  const { current, backup } = input;
  const base: ConfigMapObject = current
    ? structuredClone(current)
    : newAwsAuth();
  const next: ConfigMapObject = {
    ...base,
    metadata: { ...base.metadata },
    data: { ...(backup.data ?? {}) },
  };
  if (backup.binaryData !== undefined) next.binaryData = structuredClone(backup.binaryData);
  else delete next.binaryData;
  if (backup.metadata.annotations) next.metadata.annotations = { ...backup.metadata.annotations };
  else delete next.metadata.annotations;
  if (backup.metadata.labels) next.metadata.labels = { ...backup.metadata.labels };
  else delete next.metadata.labels;

  const currentParsed = parseAwsAuth(current);
  const backupParsed = parseAwsAuth(backup);
  const refusals: Refusal[] = [];
  if (backupParsed.problems.length > 0) {
    refusals.push({
      code: 'backup-unparseable',
      message: `the backup does not parse (${backupParsed.problems.map((p) => `${p.key}${p.index === undefined ? '' : `[${p.index}]`}: ${p.reason}`).join('; ')})`,
    });
  }
  refusals.push(
    ...checkGuards({
      current,
      currentParsed: { ...currentParsed, problems: [] },
      next,
      removals: 0,
      maxRemovals: Number.POSITIVE_INFINITY,
      selfArn: input.selfArn,
    }),
  );
  const changes = restoreChanges(currentParsed, backupParsed);
  const changed = comparable(current) !== comparable(next);
  return { changed, next, refusals: input.force ? refusals.filter((r) => r.code === 'too-large') : refusals, changes };
}

function restoreChanges(before: ReturnType<typeof parseAwsAuth>, after: ReturnType<typeof parseAwsAuth>): EntryChange[] {
  const index = (p: ReturnType<typeof parseAwsAuth>): Map<string, { key: EntryChange['key']; arn: string; username: string; groups: string[] }> => {
    const m = new Map<string, { key: EntryChange['key']; arn: string; username: string; groups: string[] }>();
    for (const e of p.entries) if (e.canonical && e.mapping) m.set(e.canonical, { key: e.key, ...e.mapping });
    return m;
  };
  const b = index(before);
  const a = index(after);
  const changes: EntryChange[] = [];
  for (const [k, v] of a) {
    const prior = b.get(k);
    const after = { key: v.key, arn: v.arn, username: v.username, groups: [...v.groups].sort() };
    if (!prior) changes.push({ op: 'add', key: v.key, arn: v.arn, after });
    else if (prior.username !== v.username || [...prior.groups].sort().join() !== after.groups.join()) {
      changes.push({ op: 'update', key: v.key, arn: v.arn, before: prior, after });
    }
  }
  for (const [k, v] of b) if (!a.has(k)) changes.push({ op: 'remove', key: v.key, arn: v.arn, before: v });
  return changes;
}
