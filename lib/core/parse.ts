/**
 * Parse aws-auth the way aws-iam-authenticator does: each key is a YAML list; entry field names
 * match case-insensitively (Go's encoding/json), empty or null values mean "none", and every
 * bad entry is reported with its key, index and reason instead of stopping at the first
 * (the authenticator's ErrParsingMap).
 */
import { canonicalKey } from './arn.js';
import { parseYaml11, stableJson } from './yaml.js';
import { MAP_KEYS, type ConfigMapObject, type CurrentEntry, type MapKey, type ParsedAwsAuth, type ParseProblem } from './types.js';

const ARN_FIELD: Record<MapKey, string> = { mapRoles: 'rolearn', mapUsers: 'userarn' };

/**
 * The value of a field as the authenticator sees it: sigs.k8s.io/yaml hands encoding/json an
 * object with sorted keys, and json.Unmarshal matches field names case-insensitively, each
 * match overwriting the last — so among the spellings present, the last in byte order wins.
 */
export function field(obj: unknown, name: string): unknown {
  if (!isPlainObject(obj)) return undefined;
  const lower = name.toLowerCase();
  const matches = Object.keys(obj)
    .filter((k) => k.toLowerCase() === lower)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return matches.length ? obj[matches[matches.length - 1]!] : undefined;
}

/** A YAML/JSON mapping (not a list, not null, not a Date). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Parse the list held by one key. Returns undefined (and a problem) when the key is unreadable. */
export function parseMapKey(key: MapKey, text: string, problems: ParseProblem[]): unknown[] | undefined {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = parseYaml11(text);
  } catch (err) {
    problems.push({ key, reason: `not valid YAML: ${(err as Error).message}` });
    return undefined;
  }
  // The authenticator skips a key whose value is empty, null or an empty string.
  if (value === null || value === undefined || value === '') return [];
  if (!Array.isArray(value)) {
    problems.push({ key, reason: `expected a list of entries, found ${typeof value === 'object' ? 'a mapping' : typeof value}` });
    return undefined;
  }
  return value;
}

/** Read one list element into a CurrentEntry, reporting what is wrong with it. */
function readEntry(key: MapKey, index: number, item: unknown, problems: ParseProblem[]): CurrentEntry {
  const problem = (reason: string): void => {
    problems.push({ key, index, reason });
  };
  if (!isPlainObject(item)) {
    problem(`entry is ${item === null ? 'empty' : `a ${Array.isArray(item) ? 'list' : typeof item}`}, not a mapping`);
    return { key, index, raw: item };
  }
  const entry: CurrentEntry = { key, index, raw: item };
  const arnValue = field(item, ARN_FIELD[key]);
  let ok = true;
  let arn = '';
  if (arnValue === undefined || arnValue === null || arnValue === '') {
    // mapRoles entries may use the authenticator's `sso:` matcher instead of a rolearn.
    if (!(key === 'mapRoles' && field(item, 'sso') !== undefined)) problem(`${ARN_FIELD[key]} is missing or empty`);
    ok = false;
  } else if (typeof arnValue !== 'string') {
    problem(`${ARN_FIELD[key]} is not a string`);
    ok = false;
  } else {
    arn = arnValue;
    const canonical = canonicalKey(key, arnValue);
    if (canonical === undefined) {
      problem(`${ARN_FIELD[key]} ${JSON.stringify(arnValue)} is not an IAM ${key === 'mapRoles' ? 'role' : 'user'} ARN`);
      ok = false;
    } else {
      entry.canonical = canonical;
    }
  }
  const username = field(item, 'username');
  if (username !== undefined && username !== null && typeof username !== 'string') {
    problem(`username is not a string (YAML 1.1 reads ${stableJson(username)}; quote it)`);
    ok = false;
  }
  const groups = field(item, 'groups');
  let groupList: string[] = [];
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups)) {
      problem('groups is not a list');
      ok = false;
    } else {
      groups.forEach((g, i) => {
        if (typeof g !== 'string') {
          problem(`groups[${i}] is not a string (YAML 1.1 reads ${stableJson(g)}; quote it)`);
          ok = false;
        }
      });
      if (ok) groupList = groups as string[];
    }
  }
  if (ok) entry.mapping = { arn, username: typeof username === 'string' ? username : '', groups: groupList };
  return entry;
}

/** Parse a whole aws-auth ConfigMap (null when it does not exist: nothing to parse). */
export function parseAwsAuth(cm: ConfigMapObject | null): ParsedAwsAuth {
  const result: ParsedAwsAuth = { entries: [], unreadableKeys: [], problems: [] };
  if (!cm) return result;
  const data = cm.data ?? {};
  for (const key of MAP_KEYS) {
    const text = data[key];
    if (text === undefined) continue;
    if (typeof text !== 'string') {
      result.problems.push({ key, reason: 'value is not a string' });
      result.unreadableKeys.push(key);
      continue;
    }
    const list = parseMapKey(key, text, result.problems);
    if (list === undefined) {
      result.unreadableKeys.push(key);
      continue;
    }
    list.forEach((item, index) => result.entries.push(readEntry(key, index, item, result.problems)));
  }
  return result;
}

/** Does the entry map a node identity (never to be removed or changed by the syncer)? */
export function isNodeEntry(entry: CurrentEntry): boolean {
  const groups = field(entry.raw, 'groups');
  return Array.isArray(groups) && groups.some((g) => g === 'system:nodes' || g === 'system:bootstrappers');
}
