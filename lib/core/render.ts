/**
 * Render the next aws-auth ConfigMap from the decision rows. A key nobody changes keeps its exact
 * text. A changed key is spliced: entries that go are cut out, new managed entries are inserted
 * among the managed ones in ARN order, and every other entry keeps its exact text, comments and
 * all. Only when the text cannot be spliced (a flow-style list, CRLF line ends, no list yet) is
 * the key written whole, kept entries re-emitted from their own source scalars. Every other data
 * key, annotation, label and field is carried over as it is.
 */
import type { AwsAuthView, EntryView } from './awsauth.js';
import { entryObject, type edits as editsOf } from './decide.js';
import { formatOwned, OWNED_ANNOTATION } from './ownership.js';
import { MAP_KEYS, type ConfigMapObject, type MapKey, type Mapping } from './types.js';
import { toValue } from './yaml-read.js';
import { renderEntry, renderKeptItem, type EntryField } from './yaml-write.js';

export const AWS_AUTH_NAME = 'aws-auth';
export const AWS_AUTH_NAMESPACE = 'kube-system';
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** A new, empty kube-system/aws-auth (for a create). */
export function newAwsAuth(): ConfigMapObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: AWS_AUTH_NAME, namespace: AWS_AUTH_NAMESPACE } };
}

/**
 * Bytes a ConfigMap holds, as the API server counts them against its 1 MiB limit: the values of
 * `data` and the decoded values of `binaryData`, not the key names (measured on the stack's real
 * kube-apiserver: 1,048,576 bytes of values are accepted, one more is refused).
 */
export function dataSize(cm: ConfigMapObject): number {
  let total = 0;
  for (const v of Object.values(cm.data ?? {})) total += Buffer.byteLength(v);
  for (const v of Object.values((cm.binaryData as Record<string, string> | undefined) ?? {})) total += Buffer.byteLength(v, 'base64');
  return total;
}

const fieldsOf = (m: Mapping): EntryField[] => Object.entries(entryObject(m)) as EntryField[];

/** One item of a key's next list: an entry kept as it is, or a new managed entry and its text. */
export type Piece = { kind: 'kept'; entry: EntryView } | { kind: 'new'; mapping: Mapping; text: string };

/** The key's next list: kept entries in place, new ones before the first greater managed entry. */
function arrange(entries: readonly EntryView[], edit: ReturnType<typeof editsOf>[MapKey], indent: number): Piece[] {
  const sortKey = (m: Mapping): string => m.identity.arn.toLowerCase();
  const pending = [...edit.insert].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const fresh = (m: Mapping): Piece => ({ kind: 'new', mapping: m, text: renderEntry(fieldsOf(m), indent) });
  const out: Piece[] = [];
  for (const e of entries) {
    const managedKey = edit.managed.get(e);
    if (managedKey !== undefined) while (pending.length && sortKey(pending[0]!) < managedKey) out.push(fresh(pending.shift()!));
    if (!edit.drop.has(e)) out.push({ kind: 'kept', entry: e });
  }
  for (const m of pending) out.push(fresh(m));
  return out;
}

/** Splice a block-sequence text: cut dropped items, insert new ones, keep everything else. */
function splice(text: string, spans: readonly { start: number; end: number }[], entries: readonly EntryView[], pieces: readonly Piece[]): string {
  const before = new Map<EntryView, string>();
  let pendingNew = '';
  for (const p of pieces) {
    if (p.kind === 'new') pendingNew += p.text;
    else {
      before.set(p.entry, pendingNew);
      pendingNew = '';
    }
  }
  const parts: string[] = [text.slice(0, spans[0]?.start ?? text.length)];
  let cursor = spans[0]?.start ?? text.length;
  entries.forEach((e, i) => {
    const span = spans[i]!;
    const inserted = before.get(e);
    if (inserted !== undefined) parts.push(inserted, text.slice(span.start, span.end));
    cursor = span.end;
  });
  if (pendingNew) {
    const last = parts[parts.length - 1]!;
    if ((parts.length > 1 || last !== '') && !last.endsWith('\n')) parts.push('\n');
    parts.push(pendingNew);
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}

export interface Rendered {
  next: ConfigMapObject;
  /** Keys whose text changed. */
  rewritten: MapKey[];
  /** What each rewritten key must read back as (JSON values, in order). */
  expected: Partial<Record<MapKey, unknown[]>>;
  /** For keys that were spliced: the pieces of the next list (kept entries keep their exact text). */
  spliced: Partial<Record<MapKey, Piece[]>>;
}

export function renderAwsAuth(input: {
  current: ConfigMapObject | null;
  view: AwsAuthView;
  edits: ReturnType<typeof editsOf>;
  tokens: readonly string[];
  writeRef: string;
}): Rendered {
  const { current, view, edits } = input;
  // A shallow copy: the strings are shared (immutable), and nothing below changes a nested object
  // in place (`data` and the annotations are replaced whole). A deep copy of 1 MiB costs more.
  const out: ConfigMapObject = current ? { ...current, metadata: { ...current.metadata } } : { ...newAwsAuth(), data: {} };
  const data: Record<string, string> = { ...(out.data ?? {}) };
  const rewritten: MapKey[] = [];
  const expected: Rendered['expected'] = {};
  const spliced: Rendered['spliced'] = {};
  for (const key of MAP_KEYS) {
    const edit = edits[key];
    if (edit.drop.size === 0 && edit.insert.length === 0) continue;
    const kv = view[key];
    const entries = kv.state === 'ok' ? kv.entries : [];
    const canSplice = kv.state === 'ok' && kv.layout !== undefined && kv.text !== undefined;
    const pieces = arrange(entries, edit, canSplice ? kv.layout!.indent : 0);
    let text: string;
    if (pieces.length === 0) text = '[]\n';
    else if (canSplice) {
      text = splice(kv.text!, kv.layout!.spans, entries, pieces);
      spliced[key] = pieces;
    } else {
      text = pieces.map((p) => (p.kind === 'kept' ? renderKeptItem(p.entry.node, 0) : p.text)).join('');
      expected[key] = pieces.map((p) => (p.kind === 'kept' ? toValue(p.entry.node) : entryObject(p.mapping)));
    }
    if (text !== data[key]) {
      data[key] = text;
      rewritten.push(key);
    }
  }
  out.data = data;
  const annotations: Record<string, string> = { ...(out.metadata.annotations ?? {}) };
  if (input.tokens.length > 0) annotations[OWNED_ANNOTATION] = formatOwned(input.writeRef, input.tokens);
  else delete annotations[OWNED_ANNOTATION];
  if (Object.keys(annotations).length > 0) out.metadata = { ...out.metadata, annotations };
  else if (out.metadata.annotations) {
    const { annotations: _dropped, ...rest } = out.metadata;
    out.metadata = rest;
  }
  return { next: out, rewritten, expected, spliced };
}
