/**
 * The ConfigMap as a YAML manifest for people and kubectl (plan output, dry-run replies). Not the
 * aws-auth data itself: that is written by lib/core/yaml-write.ts. kubectl reads manifests with
 * sigs.k8s.io/yaml (go-yaml v2), so the same care applies.
 * Plain scalars that go-yaml would read as something other than a string are quoted (its number
 * forms: `0o17`, `017`, `1_000`), and U+0085/U+2028/U+2029 (line breaks to go-yaml) are written
 * as escapes inside double quotes, never raw.
 */
import { Document, isScalar, visit, type Tags, type ScalarTag } from 'yaml';
import type { ConfigMapObject } from '../core/types.js';

const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const GO_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** go-yaml v2's reading of a plain scalar that starts with a digit, a sign or a dot. */
function resolveGoNumber(text: string): number | bigint | string {
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(text)) return NaN;
  if (text.startsWith('.')) return GO_FLOAT.test(text) ? Number(text) : text;
  const plain = text.replace(/_/g, '');
  if (GO_INT.test(plain)) {
    const negative = plain.startsWith('-');
    const body = plain.replace(/^[-+]/, '');
    const big = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body.toLowerCase());
    const value = negative ? -big : big;
    // Go reads int64, then uint64; beyond that it falls back to float or string.
    if (value >= -(2n ** 63n) && value < 2n ** 64n) {
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    }
  }
  if (GO_FLOAT.test(plain)) return Number(plain);
  return text;
}

/** Resolves plain scalars starting with a digit, sign or dot, as go-yaml v2 does. */
const goNumber: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  identify: () => false, // never chosen to write a value; numbers are written by the stock tags
  test: /^[-+.0-9][-+.0-9A-Za-z_]*$/,
  resolve: (text: string) => resolveGoNumber(text) as unknown as number,
};

const binaryAsText: ScalarTag = {
  tag: 'tag:yaml.org,2002:binary',
  identify: () => false,
  resolve: (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8'),
};

/** The YAML 1.1 tags go-yaml v2 (as used through sigs.k8s.io/yaml) effectively has. */
function goYamlTags(tags: Tags): Tags {
  const dropped = new Set(['intTime', 'floatTime', 'timestamp', 'binary', 'omap', 'pairs', 'set']);
  const kept = tags.filter((t) => {
    const name = (t as { tag?: string; format?: string }).tag ?? '';
    const format = (t as { format?: string }).format;
    if (name.endsWith(':timestamp') || name.endsWith(':binary') || name.endsWith(':omap') || name.endsWith(':pairs') || name.endsWith(':set')) return false;
    if (format === 'TIME') return false;
    return !dropped.has(String((t as { name?: string }).name));
  });
  return [goNumber, binaryAsText, ...kept];
}

const OPTIONS = { version: '1.1' as const, customTags: goYamlTags, uniqueKeys: true, intAsBigInt: false };

const LINE_BREAKS = /[\u0085\u2028\u2029]/;
const ESCAPES: Record<string, string> = { '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P' };

/** Render a value as YAML that go-yaml v2 reads back as the same value. */
export function renderManifestYaml(value: unknown): string {
  const doc = new Document(value, { ...OPTIONS, aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && LINE_BREAKS.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
    Pair(_key, pair) {
      // A plain `<<` key means "merge" in YAML 1.1: a string key of that name gets an explicit
      // !!str tag (go-yaml and this parser then read it as the string it is).
      if (isScalar(pair.key) && pair.key.value === '<<') pair.key.tag = 'tag:yaml.org,2002:str';
    },
  });
  const text = doc.toString({ lineWidth: 0, minContentWidth: 0 });
  // Only double-quoted scalars can hold these characters now, and there an escape means the same.
  return text.replace(/[\u0085\u2028\u2029]/g, (c) => ESCAPES[c]!);
}

/**
 * A ConfigMap as a manifest for kubectl (the CLI's output and the replies' `manifest` alike):
 * server-set fields dropped, resourceVersion kept (so a stale apply conflicts).
 */
export function configMapManifest(cm: ConfigMapObject): string {
  const out = structuredClone(cm);
  for (const f of ['managedFields', 'uid', 'creationTimestamp', 'generation', 'selfLink']) delete out.metadata[f];
  return renderManifestYaml(out);
}
