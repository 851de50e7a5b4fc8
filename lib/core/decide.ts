/**
 * The decision table: one row per identity the syncer wants or owns, saying what happens to it.
 *
 *   wanted? | entries for the identity in aws-auth           | action
 *   --------+------------------------------------------------+------------------------------------
 *   yes     | a node mapping                                 | conflict (node mappings are never touched)
 *   yes     | entries the syncer does not own                | adopt if allowed, else conflict
 *   yes     | exactly its own entry, already as wanted       | keep
 *   yes     | its own entries, otherwise                     | update (rewrite as one entry)
 *   yes     | none                                           | add
 *   no      | its own entries                                | remove
 *
 * Identities compare as the authenticator compares them (lower-cased canonical ARN, either key),
 * so a hand-written mapRoles entry for a user is the same identity as a mapUsers one. The
 * rendering, the entry diff and the ownership record are all derived from these rows.
 */
import type { AwsAuthView, EntryView } from './awsauth.js';
import { sortChanges } from './diff.js';
import { NODE_GROUPS } from './names.js';
import { ownershipToken, type OwnedRecord } from './ownership.js';
import type { Conflict, EntryChange, EntryValue, MapKey, Mapping } from './types.js';
import type { YMap, YNode } from './yaml-read.js';
import { groupBy } from './objects.js';

export type Action = 'keep' | 'add' | 'update' | 'adopt' | 'remove' | 'conflict';

export interface Row {
  /** Identity key (lower-cased canonical ARN). */
  id: string;
  action: Action;
  /** The mapping wanted, if any. */
  want?: Mapping;
  /** Current entries of this identity (live ones, in the readable keys). */
  entries: EntryView[];
  /** Entries this row removes from the text. */
  drop: EntryView[];
  /** True when the row writes `want` as a new entry. */
  write: boolean;
  reason?: string;
}

export interface Decisions {
  rows: Row[];
  /** Ownership tokens for the managed entries in the next aws-auth. */
  tokens: string[];
}

export interface DecideInput {
  view: AwsAuthView;
  owned: OwnedRecord;
  /** Entries the ownership record claims, with their recorded token (computed once by the caller). */
  claimed: ReadonlyMap<EntryView, string>;
  /** Wanted mappings, only for keys that can be written. */
  want: readonly Mapping[];
  adoptUnmanaged: boolean;
  /** Identities of the syncer itself: their unmanaged entries are never adopted without force. */
  selfIds: ReadonlySet<string>;
  force: boolean;
}

const isNode = (e: EntryView): boolean => e.groups.some((g) => NODE_GROUPS.includes(g));
const isAdmin = (e: EntryView): boolean => e.groups.includes('system:masters');

/** The object the syncer writes for a mapping: fields in the authenticator's spelling and order. */
export function entryObject(m: Mapping): Record<string, unknown> {
  return m.key === 'mapRoles'
    ? { rolearn: m.identity.arn, username: m.username, groups: m.groups }
    : { userarn: m.identity.arn, username: m.username, groups: m.groups };
}

/** Is the entry exactly what the syncer would write for the mapping (fields, order, values)? */
function sameValue(e: EntryView, m: Mapping): boolean {
  if (e.key !== m.key || e.node.kind !== 'map' || e.node.pairs.length !== 3) return false;
  const [a, u, g] = e.node.pairs as [YMap['pairs'][number], YMap['pairs'][number], YMap['pairs'][number]];
  const str = (n: YNode, v: string): boolean => n.kind === 'scalar' && n.value === v;
  return (
    a.key.value === (m.key === 'mapRoles' ? 'rolearn' : 'userarn') &&
    str(a.value, m.identity.arn) &&
    u.key.value === 'username' &&
    str(u.value, m.username) &&
    g.key.value === 'groups' &&
    g.value.kind === 'seq' &&
    g.value.items.length === m.groups.length &&
    g.value.items.every((x, i) => str(x, m.groups[i]!))
  );
}

export function decide(input: DecideInput): Decisions {
  const { view, owned } = input;
  const live = [view.mapRoles, view.mapUsers].flatMap((k) => (k.state === 'ok' ? k.entries : []));
  const entries = groupBy(
    live.filter((e) => e.target.kind === 'identity'),
    (e) => (e.target.kind === 'identity' ? e.target.identity.key : ''),
  );
  // A node mapping is never the syncer's, even when the record names it (someone added system:nodes by hand).
  const ownsEntry = (e: EntryView): boolean => input.claimed.has(e) && !isNode(e);
  const wanted = new Map(input.want.map((m) => [m.identity.key, m]));
  const ids = new Set([...wanted.keys(), ...[...entries].filter(([, es]) => es.some(ownsEntry)).map(([id]) => id)]);

  const rows: Row[] = [];
  for (const id of [...ids].sort()) {
    const want = wanted.get(id);
    const es = entries.get(id) ?? [];
    const mine = es.filter(ownsEntry);
    const others = es.filter((e) => !ownsEntry(e));
    const row = (action: Action, drop: EntryView[], write: boolean, reason?: string): Row => ({
      id,
      action,
      want,
      entries: es,
      drop,
      write,
      ...(reason ? { reason } : {}),
    });
    if (!want) {
      rows.push(row('remove', mine, false));
      continue;
    }
    const where = (e: EntryView): string => `${e.key}[${e.index}]`;
    if (others.some(isNode)) {
      rows.push(row('conflict', [], false, `a node mapping at ${where(others.find(isNode)!)} holds this identity; it is never changed`));
      continue;
    }
    if (others.length > 0) {
      const guarded = others.find((e) => isAdmin(e) || input.selfIds.has(id));
      if (input.adoptUnmanaged && (!guarded || input.force)) {
        rows.push(row('adopt', [...others, ...mine], true));
      } else {
        const why = !input.adoptUnmanaged
          ? ' (set adoptUnmanaged to take it over)'
          : guarded && isAdmin(guarded)
            ? ' (it grants system:masters: adopted only with force)'
            : " (it maps the syncer's own identity: adopted only with force)";
        rows.push(row('conflict', mine, false, `an entry the syncer does not own (${where(others[0]!)}) holds this identity; left as it is${why}`));
      }
      continue;
    }
    if (mine.length === 1 && sameValue(mine[0]!, want)) rows.push(row('keep', [], false));
    else if (mine.length > 0) rows.push(row('update', mine, true));
    else rows.push(row('add', [], true));
  }
  // A kept entry's token is the one already recorded when the reference has not changed.
  const tokens = rows
    .filter((r) => r.want && (r.action === 'keep' || r.write))
    .map((r) =>
      r.action === 'keep' && owned.readRef === owned.writeRef ? input.claimed.get(r.entries[0]!)! : ownershipToken(owned.writeRef, r.want!.key, r.id),
    );
  return { rows, tokens };
}

const valueOf = (e: EntryView): EntryValue => ({ username: e.username, groups: e.groups });
const wantValue = (m: Mapping): EntryValue => ({ username: m.username, groups: m.groups });

/** The entry diff the rows make. */
export function entryChanges(rows: readonly Row[]): EntryChange[] {
  const changes: EntryChange[] = [];
  for (const r of rows) {
    const arnOf = (e: EntryView): string => e.arn;
    if (r.action === 'add') changes.push({ op: 'add', key: r.want!.key, arn: r.want!.identity.arn, after: wantValue(r.want!) });
    else if (r.action === 'remove' || r.action === 'conflict') {
      for (const e of r.drop) changes.push({ op: 'remove', key: e.key, arn: arnOf(e), before: valueOf(e) });
    } else if (r.action === 'update' || r.action === 'adopt') {
      const want = r.want!;
      const before = r.drop.find((e) => e.key === want.key) ?? r.drop[0]!;
      changes.push({ op: r.action, key: want.key, arn: want.identity.arn, before: valueOf(before), after: wantValue(want) });
      for (const e of r.drop) if (e !== before) changes.push({ op: 'remove', key: e.key, arn: arnOf(e), before: valueOf(e) });
    }
  }
  return sortChanges(changes);
}

/** Conflicts an operator should see. */
export function conflictsOf(rows: readonly Row[]): Conflict[] {
  return rows.filter((r) => r.action === 'conflict').map((r) => ({ key: r.want!.key, arn: r.want!.identity.arn, reason: r.reason! }));
}

/** Where rows write, per key, for rendering: entries to drop and mappings to insert. */
export function edits(rows: readonly Row[]): Record<MapKey, { drop: Set<EntryView>; insert: Mapping[]; managed: Map<EntryView, string> }> {
  const out = {
    mapRoles: { drop: new Set<EntryView>(), insert: [] as Mapping[], managed: new Map<EntryView, string>() },
    mapUsers: { drop: new Set<EntryView>(), insert: [] as Mapping[], managed: new Map<EntryView, string>() },
  };
  for (const r of rows) {
    for (const e of r.drop) out[e.key].drop.add(e);
    if (r.write) out[r.want!.key].insert.push(r.want!);
    if (r.action === 'keep') {
      const e = r.entries[0]!;
      out[e.key].managed.set(e, r.want!.identity.arn.toLowerCase());
    }
  }
  return out;
}
