/**
 * Writing aws-auth YAML that go-yaml v2 reads back as exactly what was meant.
 *
 * Only two shapes are ever written: block sequences of block mappings (new managed entries),
 * and nodes the strict reader (yaml-read.ts) produced, re-emitted in block style with every
 * scalar kept as its original source text (kept entries are never re-serialised from values).
 * A new string is written plain only when it is unmistakably a string to go-yaml; otherwise it
 * is double-quoted, with every character go-yaml's reader would reject or treat as a line break
 * written as an escape. The plan re-reads what it wrote before it trusts it.
 */
import { resolvePlain, type YNode, type YScalar } from './yaml-read.js';

/** Plain scalars we write: no indicator first, no spaces, no ": ", not ending in ":". */
const SAFE_PLAIN = /^[A-Za-z_/][A-Za-z0-9_./=+@:{}-]*$/;

/** Escapes for characters that must not appear raw in a double-quoted scalar. */
function escapeChar(code: number): string | undefined {
  switch (code) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x00:
      return '\\0';
    case 0x85:
      return '\\N';
    case 0x2028:
      return '\\L';
    case 0x2029:
      return '\\P';
  }
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code === 0xfeff || code === 0xfffe || code === 0xffff) return `\\u${code.toString(16)}`;
  return undefined;
}

/** True when the string can be written at all (no lone surrogates: not UTF-8 text). */
export function isWritable(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
const LONE_SURROGATE = /\p{Cs}/u;

/** A string as a YAML scalar go-yaml reads back as that same string. */
export function scalarText(s: string): string {
  if (!isWritable(s)) throw new Error(`cannot write ${JSON.stringify(s)}: it holds a lone surrogate`);
  if (SAFE_PLAIN.test(s) && !s.endsWith(':') && resolvePlain(s) === s) return s;
  let out = '"';
  for (const ch of s) {
    const e = escapeChar(ch.codePointAt(0)!);
    out += e ?? ch;
  }
  return `${out}"`;
}

/** One field of an entry the syncer writes: a string or a list of strings. */
export type EntryField = [name: string, value: string | readonly string[]];

/** A block sequence item for a managed entry, indented by `indent` spaces. */
export function renderEntry(fields: readonly EntryField[], indent: number): string {
  const pad = ' '.repeat(indent);
  let out = '';
  fields.forEach(([name, value], i) => {
    const lead = i === 0 ? `${pad}- ` : `${pad}  `;
    if (typeof value === 'string') out += `${lead}${name}: ${scalarText(value)}\n`;
    else if (value.length === 0) out += `${lead}${name}: []\n`;
    else out += `${lead}${name}:\n${value.map((v) => `${pad}    - ${scalarText(v)}\n`).join('')}`;
  });
  return out;
}

const isEmptyCollection = (n: YNode): boolean => (n.kind === 'seq' && n.items.length === 0) || (n.kind === 'map' && n.pairs.length === 0);
const emptyText = (n: YNode): string => (n.kind === 'seq' ? '[]' : '{}');
const scalarSource = (s: YScalar): string => s.source;

/** Re-emit a node the reader produced, in block style, as lines indented by `indent`. */
function emitBlock(node: YNode, indent: number): string {
  const pad = ' '.repeat(indent);
  if (node.kind === 'scalar') return `${pad}${scalarSource(node)}\n`;
  if (isEmptyCollection(node)) return `${pad}${emptyText(node)}\n`;
  let out = '';
  if (node.kind === 'seq') {
    for (const item of node.items) {
      if (item.kind === 'scalar') out += `${pad}-${item.source === '' ? '' : ` ${item.source}`}\n`;
      else if (isEmptyCollection(item)) out += `${pad}- ${emptyText(item)}\n`;
      else if (item.kind === 'map') {
        // Compact form: the first pair on the "-" line, the rest under it.
        const body = emitBlock(item, indent + 2);
        out += `${pad}- ${body.slice(indent + 2)}`;
      } else out += `${pad}-\n${emitBlock(item, indent + 2)}`;
    }
    return out;
  }
  for (const { key, value } of node.pairs) {
    if (value.kind === 'scalar') out += `${pad}${key.source}:${value.source === '' ? '' : ` ${value.source}`}\n`;
    else if (isEmptyCollection(value)) out += `${pad}${key.source}: ${emptyText(value)}\n`;
    else out += `${pad}${key.source}:\n${emitBlock(value, indent + 2)}`;
  }
  return out;
}

/** A kept item, re-emitted as a block sequence item at `indent`. */
export function renderKeptItem(node: YNode, indent: number): string {
  return emitBlock({ kind: 'seq', flow: false, items: [node] }, indent);
}
