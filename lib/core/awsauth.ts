/**
 * The typed view of an aws-auth ConfigMap: each key read once, as aws-iam-authenticator decodes
 * it (pkg/mapper/configmap ParseMap: skippable text, YAML → JSON → encoding/json into
 * RoleMapping/UserMapping; mapAccounts straight from YAML into []string).
 *
 * A key is `ok` (read exactly as the authenticator reads it), `empty`, `absent`, `broken` (the
 * authenticator cannot read it either: it grants nothing) or `unsure` (the syncer cannot be sure
 * to read it the same way: never reinterpreted). Entries that can never match a caller are kept
 * and reported as dead, with the reason.
 */
import { readEntryArn, type EntryTarget } from './identity.js';
import { quoted } from './text.js';
import type { ConfigMapObject, MapKey } from './types.js';
import { isOpaque, readYaml, type SeqLayout, type YMap, type YNode } from './yaml-read.js';

export type KeyState = 'absent' | 'empty' | 'ok' | 'broken' | 'unsure';

/** One list item of mapRoles or mapUsers, decoded. */
export interface EntryView {
  key: MapKey;
  index: number;
  node: YNode;
  /** False when the item is not a mapping (the authenticator decodes it as an empty entry). */
  isMapping: boolean;
  /** The ARN field as decoded ("" when absent or null). */
  arn: string;
  username: string;
  /** As listed (order and repeats kept: the authenticator passes them on as they are). */
  groups: string[];
  /** mapRoles only: an `sso` matcher is present (v0.7 drops an entry with both rolearn and sso). */
  sso: boolean;
  target: EntryTarget;
}

export interface MapKeyView {
  key: MapKey;
  state: KeyState;
  reason?: string;
  /** The key's text, when present. */
  text?: string;
  entries: EntryView[];
  /** Where the top-level items lie in the text, when it can be spliced. */
  layout?: SeqLayout;
  /**
   * Unsure keys: the identities (keys) its entries name, when the YAML reads and only an entry's
   * other fields are in doubt; absent: it may map anyone.
   */
  named?: string[];
}

export interface AccountsView {
  state: KeyState;
  reason?: string;
  /** Account ids as the authenticator stores them (strings, verbatim). */
  accounts: string[];
}

export interface AwsAuthView {
  partition: string;
  mapRoles: MapKeyView;
  mapUsers: MapKeyView;
  mapAccounts: AccountsView;
}

/** Go's unicode.IsSpace (what strings.TrimSpace trims), not JavaScript's trim (which also drops U+FEFF). */
function isGoSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** The authenticator skips a key whose trimmed text is empty or an empty quoted string. (A scan
 * from both ends: linear on any text, where a trim regular expression is quadratic on long
 * inner runs of spaces.) */
export function isSkippable(text: string): boolean {
  let start = 0;
  let end = text.length;
  while (start < end && isGoSpace(text.charCodeAt(start))) start++;
  while (end > start && isGoSpace(text.charCodeAt(end - 1))) end--;
  if (end - start > 2) return false;
  const t = text.slice(start, end);
  return t === '' || t === '``' || t === '""' || t === "''";
}

/** The struct fields encoding/json fills, per key (config.RoleMapping / config.UserMapping). */
const FIELDS: Record<MapKey, readonly string[]> = {
  mapRoles: ['rolearn', 'sso', 'username', 'groups', 'userid'],
  mapUsers: ['userarn', 'username', 'groups', 'userid'],
};
const ARN_FIELD: Record<MapKey, string> = { mapRoles: 'rolearn', mapUsers: 'userarn' };

/** Non-ASCII letters encoding/json folds onto ASCII ones when matching field names. */
const FOLDS: Record<string, string> = { '\u017f': 's', '\u212a': 'k', '\u0130': 'i' };

class Unsure extends Error {}

/** A field name as encoding/json's case-insensitive match sees it (Go's simple folding, lower case). */
function foldName(name: string): string {
  return /^[\x20-\x7e]*$/.test(name)
    ? name.toLowerCase()
    : [...name]
        .map((c) => FOLDS[c] ?? c)
        .join('')
        .toLowerCase();
}

/** The field a mapping key fills, if any. */
const EXACT = new Set(['rolearn', 'userarn', 'username', 'groups', 'sso', 'userid']);
function fieldOf(name: string, key: MapKey): string | undefined {
  // Fast path: the spellings everyone writes.
  if (EXACT.has(name)) return FIELDS[key].includes(name) ? name : undefined;
  const ascii = /^[\x20-\x7e]*$/.test(name);
  const folded = foldName(name);
  if (!FIELDS[key].includes(folded)) return undefined;
  if (!ascii) throw new Unsure(`the field name ${quoted(name)} matches "${folded}" only through Go's Unicode case folding`);
  return folded;
}

const describe = (n: YNode): string =>
  n.kind === 'seq'
    ? 'a list'
    : n.kind === 'map'
      ? 'a mapping'
      : n.value === null
        ? 'null'
        : isOpaque(n.value)
          ? `${quoted(n.source)} (not a string to go-yaml)`
          : `a ${typeof n.value}`;

function stringField(n: YNode, field: string): string {
  if (n.kind === 'scalar' && n.value === null) return '';
  if (n.kind === 'scalar' && typeof n.value === 'string') return n.value;
  throw new Unsure(`${field} is ${describe(n)}, not a string`);
}

/** Decode one list item like encoding/json decodes it into the mapping struct. */
function readEntry(key: MapKey, index: number, node: YNode, partition: string): EntryView {
  const entry: EntryView = {
    key,
    index,
    node,
    isMapping: node.kind === 'map',
    arn: '',
    username: '',
    groups: [],
    sso: false,
    target: { kind: 'dead', reason: '' },
  };
  if (node.kind !== 'map') {
    entry.target = { kind: 'dead', reason: `it is ${describe(node)}, not a mapping: the authenticator ignores it` };
    return entry;
  }
  const seen = new Map<string, string>();
  for (const { key: k, value } of (node as YMap).pairs) {
    const name = k.value as string;
    const field = fieldOf(name, key);
    if (field === undefined) continue;
    const before = seen.get(field);
    if (before !== undefined) throw new Unsure(`both ${quoted(before)} and ${quoted(name)} fill the field ${field}`);
    seen.set(field, name);
    if (field === ARN_FIELD[key]) entry.arn = stringField(value, field);
    else if (field === 'username') entry.username = stringField(value, field);
    else if (field === 'userid') stringField(value, field);
    else if (field === 'groups') {
      if (value.kind === 'scalar' && value.value === null) entry.groups = [];
      else if (value.kind === 'seq' && value.items.every((g) => g.kind === 'scalar' && typeof g.value === 'string')) {
        entry.groups = value.items.map((g) => (g as { value: string }).value);
      } else throw new Unsure(`groups is ${describe(value)}${value.kind === 'seq' ? ' holding something other than strings' : ''}, not a list of strings`);
    } else if (field === 'sso') {
      if (value.kind === 'map') entry.sso = true;
      else if (!(value.kind === 'scalar' && value.value === null)) throw new Unsure(`sso is ${describe(value)}, not a mapping`);
    }
  }
  entry.target =
    entry.arn === '' && entry.sso
      ? {
          kind: 'dead',
          reason:
            'an sso matcher matches nothing: the authenticator enables it only with the SSORoleMatch feature gate, which is off (as on EKS); map the permission set with roleMappings',
        }
      : readEntryArn(entry.arn, partition);
  if (entry.target.kind === 'unsure') throw new Unsure(entry.target.reason);
  return entry;
}

export function readMapKey(key: MapKey, text: string | undefined, partition: string): MapKeyView {
  if (text === undefined) return { key, state: 'absent', entries: [] };
  if (typeof text !== 'string') return { key, state: 'unsure', reason: 'its value is not a string', entries: [] };
  if (isSkippable(text)) return { key, state: 'empty', text, entries: [] };
  const read = readYaml(text);
  if (!read.ok) {
    return {
      key,
      state: read.certain ? 'broken' : 'unsure',
      reason: read.certain
        ? `the authenticator cannot read it: ${read.reason}`
        : `the syncer cannot be sure to read it as the authenticator does: ${read.reason}`,
      text,
      entries: [],
    };
  }
  const { node } = read;
  if (node === null || (node.kind === 'scalar' && node.value === null)) return { key, state: 'empty', text, entries: [] };
  if (node.kind !== 'seq')
    return { key, state: 'broken', reason: `it holds ${describe(node)}, not a list: the authenticator reads no entry from it`, text, entries: [] };
  try {
    const entries = node.items.map((item, i) => readEntry(key, i, item, partition));
    return { key, state: 'ok', text, entries, layout: read.layout };
  } catch (err) {
    if (!(err instanceof Unsure)) throw err;
    const i = node.items.findIndex((item, j) => {
      try {
        readEntry(key, j, item, partition);
        return false;
      } catch {
        return true;
      }
    });
    const named = namedIdentities(key, node.items, partition);
    return {
      key,
      state: 'unsure',
      reason: `the syncer cannot be sure to read it as the authenticator does: entry ${i}: ${err.message}`,
      text,
      entries: [],
      ...(named ? { named } : {}),
    };
  }
}

/**
 * The identities a key's entries name, each entry's ARN read as readEntry reads it; undefined when
 * one of them cannot be told (its ARN field in doubt, or a userid, which matches by id, not ARN).
 */
function namedIdentities(key: MapKey, items: readonly YNode[], partition: string): string[] | undefined {
  const out: string[] = [];
  try {
    for (const item of items) {
      if (item.kind !== 'map') continue;
      for (const { key: k, value } of item.pairs) {
        let field: string | undefined;
        try {
          field = fieldOf(k.value as string, key);
        } catch (err) {
          // A name only Go's folding matches: in doubt only if it may fill the ARN (or the id).
          if (!(err instanceof Unsure)) throw err;
          const folded = foldName(k.value as string);
          if (folded === ARN_FIELD[key] || folded === 'userid') return undefined;
          continue;
        }
        if (field === 'userid') return undefined;
        if (field !== ARN_FIELD[key]) continue;
        const target = readEntryArn(stringField(value, field), partition);
        if (target.kind === 'unsure') return undefined;
        if (target.kind === 'identity') out.push(target.identity.key);
      }
    }
  } catch (err) {
    if (err instanceof Unsure) return undefined;
    throw err;
  }
  return out;
}

function readAccounts(text: string | undefined): AccountsView {
  if (text === undefined) return { state: 'absent', accounts: [] };
  if (typeof text !== 'string') return { state: 'unsure', reason: 'its value is not a string', accounts: [] };
  if (isSkippable(text)) return { state: 'empty', accounts: [] };
  // ParseMap decodes mapAccounts with gopkg.in/yaml.v2 straight into []string, not through JSON.
  const read = readYaml(text, { viaJson: false });
  if (!read.ok) return { state: read.certain ? 'broken' : 'unsure', reason: read.reason, accounts: [] };
  const { node } = read;
  if (node === null || (node.kind === 'scalar' && node.value === null)) return { state: 'empty', accounts: [] };
  if (node.kind !== 'seq') return { state: 'broken', reason: `it holds ${describe(node)}, not a list`, accounts: [] };
  const accounts: string[] = [];
  for (const item of node.items) {
    if (item.kind !== 'scalar') return { state: 'unsure', reason: `an item is ${describe(item)}`, accounts: [] };
    // go-yaml decodes any scalar into a string field as its text (null as "").
    accounts.push(item.style === 'plain' ? (item.value === null ? '' : item.source) : String(item.value));
  }
  return { state: 'ok', accounts };
}

/** Read a whole aws-auth ConfigMap (null: it does not exist). */
export function viewAwsAuth(cm: ConfigMapObject | null, partition: string): AwsAuthView {
  const data = cm?.data ?? {};
  return {
    partition,
    mapRoles: readMapKey('mapRoles', data.mapRoles, partition),
    mapUsers: readMapKey('mapUsers', data.mapUsers, partition),
    mapAccounts: readAccounts(data.mapAccounts),
  };
}

/** The problems of a view an operator must see, one line each: unreadable keys and dead entries. */
export function viewProblems(view: AwsAuthView): { key: string; index?: number; reason: string; blocking: boolean }[] {
  const out: { key: string; index?: number; reason: string; blocking: boolean }[] = [];
  for (const k of [view.mapRoles, view.mapUsers]) {
    if (k.state === 'broken' || k.state === 'unsure') out.push({ key: k.key, reason: k.reason ?? k.state, blocking: true });
    for (const e of k.entries) if (e.target.kind === 'dead') out.push({ key: k.key, index: e.index, reason: e.target.reason, blocking: false });
  }
  const a = view.mapAccounts;
  if (a.state === 'broken' || a.state === 'unsure') out.push({ key: 'mapAccounts', reason: a.reason ?? a.state, blocking: true });
  return out;
}
