/**
 * Render the next aws-auth ConfigMap. Keys whose entries did not change keep their exact
 * current text (no reformatting churn, so a second run is a no-op); changed keys are rendered
 * through the YAML serializer. Every other data key, annotation, label and field is carried over
 * as it is.
 */
import { OWNED_ANNOTATION, formatOwned } from './ownership.js';
import { parseAwsAuth } from './parse.js';
import type { NextItem } from './reconcile.js';
import { renderYaml11, stableJson } from './yaml.js';
import { MAP_KEYS, type ConfigMapObject, type Mapping, type MapKey, type ParsedAwsAuth } from './types.js';

export const AWS_AUTH_NAME = 'aws-auth';
export const AWS_AUTH_NAMESPACE = 'kube-system';

/** The object written for one managed mapping: fields in the authenticator's spelling. */
export function mappingObject(m: Mapping): Record<string, unknown> {
  return m.key === 'mapRoles'
    ? { rolearn: m.arn, username: m.username, groups: m.groups }
    : { userarn: m.arn, username: m.username, groups: m.groups };
}

/** The plain list a key should hold. */
export function itemsToList(items: NextItem[]): unknown[] {
  return items.map((i) => (i.kind === 'managed' ? mappingObject(i.mapping) : i.entry.raw));
}

/** Does the key already hold exactly `list`? `currentList` is what parsing its text gave (the
 * plan has parsed it once already; parsing 1 MiB of YAML costs about a second). */
function holds(text: string | undefined, currentList: unknown[] | undefined, list: unknown[]): boolean {
  if (text === undefined) return list.length === 0;
  return currentList !== undefined && stableJson(currentList) === stableJson(list);
}

/** A new, empty kube-system/aws-auth (for a create). */
export function newAwsAuth(): ConfigMapObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: AWS_AUTH_NAME, namespace: AWS_AUTH_NAMESPACE } };
}

export function renderAwsAuth(input: {
  current: ConfigMapObject | null;
  next: Record<MapKey, NextItem[]>;
  owned: string[];
  /** Keys whose current text could not be read: always kept verbatim (they may hold node
   * mappings nobody can see). */
  unreadableKeys: MapKey[];
  /** The current entries per key as parsed (the raw list items); parsed here when not given. */
  currentLists?: Partial<Record<MapKey, unknown[]>>;
}): ConfigMapObject {
  const lists = input.currentLists ?? currentLists(parseAwsAuth(input.current));
  const { current, next, owned } = input;
  const out: ConfigMapObject = current
    ? structuredClone(current)
    : { ...newAwsAuth(), data: {} };
  const data: Record<string, string> = { ...(out.data ?? {}) };
  for (const key of MAP_KEYS) {
    if (input.unreadableKeys.includes(key)) continue;
    const list = itemsToList(next[key]);
    if (holds(data[key], lists[key], list)) continue;
    data[key] = list.length === 0 ? '[]\n' : renderYaml11(list);
  }
  out.data = data;
  const annotations: Record<string, string> = { ...(out.metadata.annotations ?? {}) };
  if (owned.length > 0) annotations[OWNED_ANNOTATION] = formatOwned(owned);
  else delete annotations[OWNED_ANNOTATION];
  if (Object.keys(annotations).length > 0) out.metadata = { ...out.metadata, annotations };
  else if (out.metadata.annotations) {
    const { annotations: _dropped, ...rest } = out.metadata;
    out.metadata = rest;
  }
  return out;
}

/** The raw list items per readable key, from a parse (for `renderAwsAuth`'s unchanged check). */
export function currentLists(parsed: ParsedAwsAuth): Partial<Record<MapKey, unknown[]>> {
  const out: Partial<Record<MapKey, unknown[]>> = {};
  for (const key of MAP_KEYS) if (!parsed.unreadableKeys.includes(key)) out[key] = parsed.entries.filter((e) => e.key === key).map((e) => e.raw);
  return out;
}

/** Bytes of data a ConfigMap holds, as the API server counts them against its 1 MiB limit. */
export function dataSize(cm: ConfigMapObject): number {
  let total = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) total += Buffer.byteLength(k) + Buffer.byteLength(v);
  for (const [k, v] of Object.entries((cm.binaryData as Record<string, string> | undefined) ?? {})) {
    total += Buffer.byteLength(k) + Buffer.byteLength(v, 'base64');
  }
  return total;
}

export const CONFIGMAP_MAX_BYTES = 1024 * 1024;
