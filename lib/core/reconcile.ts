/**
 * Reconcile (pure): next = every entry the syncer does not own, untouched and in its place,
 * followed by the desired managed entries, sorted. Only owned entries are ever removed or
 * changed; a desired ARN already held by an unmanaged entry is reported as a conflict (or
 * adopted, when the policy says so — never a node entry).
 */
import { isNodeEntry } from './parse.js';
import { ownershipToken } from './ownership.js';
import { mappingObject } from './render.js';
import { stableJson } from './yaml.js';
import type { Conflict, CurrentEntry, EntryChange, Mapping, MapKey, ParsedAwsAuth } from './types.js';
import { MAP_KEYS } from './types.js';

export type NextItem = { kind: 'unmanaged'; entry: CurrentEntry } | { kind: 'managed'; mapping: Mapping };

export interface Reconciliation {
  next: Record<MapKey, NextItem[]>;
  /** Ownership tokens of the managed entries in `next`. */
  owned: string[];
  changes: EntryChange[];
  conflicts: Conflict[];
  /** Owned entries in current that go (counted by the removal guard). */
  removals: number;
  unmanagedCount: number;
}

function sameMapping(a: { username: string; groups: string[] }, b: { username: string; groups: string[] }): boolean {
  const ga = [...a.groups].sort();
  const gb = [...b.groups].sort();
  return a.username === b.username && ga.length === gb.length && ga.every((g, i) => g === gb[i]);
}

export function reconcile(input: {
  parsed: ParsedAwsAuth;
  owned: Set<string>;
  desired: Mapping[];
  adoptUnmanaged: boolean;
}): Reconciliation {
  const { parsed, owned, desired, adoptUnmanaged } = input;
  const desiredKeys = new Map<string, Mapping>();
  for (const m of desired) desiredKeys.set(`${m.key}:${m.arn.toLowerCase()}`, m);

  const next: Record<MapKey, NextItem[]> = { mapRoles: [], mapUsers: [] };
  const conflicts: Conflict[] = [];
  const changes: EntryChange[] = [];
  /** First owned (or adopted) current entry per canonical key: what the change is relative to. */
  const before = new Map<string, { entry: CurrentEntry; adopted: boolean }>();
  const blocked = new Set<string>();
  /** Further copies of an owned or adopted ARN: merged away, so each is a removal to show. */
  const duplicates: CurrentEntry[] = [];
  let unmanagedCount = 0;

  // A node mapping is never the syncer's, even when its ARN is (someone added system:nodes by hand).
  const isOwned = (entry: CurrentEntry): boolean =>
    entry.canonical !== undefined && owned.has(ownershipToken(entry.canonical)) && !isNodeEntry(entry);
  const adoptable = (entry: CurrentEntry): boolean => adoptUnmanaged && entry.mapping !== undefined && !isNodeEntry(entry);
  // A desired key is blocked when any unmanaged entry holding it may not be adopted: then every
  // copy stays as it is and the syncer writes none of its own.
  for (const entry of parsed.entries) {
    const ck = entry.canonical;
    if (ck !== undefined && desiredKeys.has(ck) && !isOwned(entry) && !adoptable(entry)) blocked.add(ck);
  }

  for (const entry of parsed.entries) {
    const ck = entry.canonical;
    if (ck !== undefined && isOwned(entry)) {
      if (!before.has(ck)) before.set(ck, { entry, adopted: false });
      else duplicates.push(entry);
      continue;
    }
    if (ck !== undefined && desiredKeys.has(ck)) {
      if (!blocked.has(ck)) {
        if (!before.has(ck)) before.set(ck, { entry, adopted: true });
        else duplicates.push(entry);
        continue;
      }
      if (!conflicts.some((c) => `${c.key}:${c.arn.toLowerCase()}` === ck)) {
        conflicts.push({
          key: entry.key,
          arn: desiredKeys.get(ck)!.arn,
          reason: isNodeEntry(entry)
            ? `a node mapping at ${entry.key}[${entry.index}] holds this ARN; it is never changed`
            : `an entry the syncer does not own (${entry.key}[${entry.index}]) holds this ARN; left as it is` +
              (adoptUnmanaged ? '' : ' (set adoptUnmanaged to take it over)'),
        });
      }
    }
    next[entry.key].push({ kind: 'unmanaged', entry });
    unmanagedCount++;
  }

  const owningTokens: string[] = [];
  for (const [ck, mapping] of desiredKeys) {
    if (blocked.has(ck)) continue;
    next[mapping.key].push({ kind: 'managed', mapping });
    owningTokens.push(ownershipToken(ck));
    const prior = before.get(ck);
    if (!prior) changes.push({ op: 'add', key: mapping.key, arn: mapping.arn, after: mapping });
    else {
      const was = prior.entry.mapping ?? { username: '', groups: [] };
      if (prior.adopted) changes.push({ op: 'adopt', key: mapping.key, arn: mapping.arn, before: was, after: mapping });
      else if (!prior.entry.mapping || !sameMapping(was, mapping) || stableJson(prior.entry.raw) !== stableJson(mappingObject(mapping))) {
        changes.push({ op: 'update', key: mapping.key, arn: mapping.arn, before: was, after: mapping });
      }
    }
  }
  let removals = 0;
  for (const dup of duplicates) {
    removals++;
    changes.push({
      op: 'remove',
      key: dup.key,
      arn: dup.mapping?.arn ?? String(dup.canonical),
      before: dup.mapping ?? { username: '', groups: [] },
    });
  }
  for (const [ck, prior] of before) {
    if (desiredKeys.has(ck) && !blocked.has(ck)) continue;
    if (prior.adopted) continue;
    removals++;
    changes.push({
      op: 'remove',
      key: prior.entry.key,
      arn: prior.entry.mapping?.arn ?? String(ck.split(':').slice(1).join(':')),
      before: prior.entry.mapping ?? { username: '', groups: [] },
    });
  }
  for (const key of MAP_KEYS) {
    const managed = next[key].filter((i) => i.kind === 'managed');
    const unmanaged = next[key].filter((i) => i.kind === 'unmanaged');
    managed.sort((a, b) => {
      const ka = (a as { mapping: Mapping }).mapping.arn.toLowerCase();
      const kb = (b as { mapping: Mapping }).mapping.arn.toLowerCase();
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    next[key] = [...unmanaged, ...managed];
  }
  changes.sort((a, b) => (a.key === b.key ? (a.arn.toLowerCase() < b.arn.toLowerCase() ? -1 : 1) : a.key < b.key ? -1 : 1));
  return { next, owned: owningTokens.sort(), changes, conflicts, removals, unmanagedCount };
}
