/**
 * A strict reader for the YAML that aws-auth keys hold.
 *
 * aws-iam-authenticator reads each key with go-yaml v2 (through sigs.k8s.io/yaml, then
 * encoding/json). A general YAML library reads far more than we can prove it reads the same way
 * (merge keys, aliases, tags, directives, multi-line scalars, YAML 1.2 vs 1.1 resolution), and
 * parsing 1 MiB with one costs most of a second. So this module reads only a small, explicit
 * subset — the shapes kubectl, eksctl, Terraform and people actually write — and answers
 * "unsure" for everything else. "Unsure" is never reinterpreted: the caller treats the key as
 * unreadable (refused without force, kept byte for byte with force).
 *
 * The subset:
 * - one document, optionally opened by `---`; comments; LF or CRLF line ends; spaces only;
 * - block sequences (`- item`) and block mappings (`key: value`, compact `- key: value`);
 * - flow collections (`[a, "b"]`, `{"k": "v"}`, JSON), possibly over several lines;
 * - single-line scalars: plain, 'single-quoted', "double-quoted" (go-yaml's escapes);
 * - plain scalars resolve as go-yaml v2 resolves them, but only to strings, null, booleans and
 *   decimal integers; other plain scalars go-yaml reads as something else (floats, `0x1F`,
 *   dates) are kept opaque — fine where the authenticator ignores them, unsure where it reads
 *   them; `.inf` and `.nan` fail the whole key there (JSON has no infinity), so here too
 *   (but not in mapAccounts, which go-yaml decodes without JSON: `viaJson: false`).
 * Not in the subset (unsure): anchors, aliases, tags, `<<`, `?` keys, block scalars (`|`, `>`),
 * multi-line scalars, directives, more documents, tabs, lone CR, U+0085/U+2028/U+2029 as line
 * breaks, a BOM, non-string or duplicate mapping keys, nesting deeper than 32.
 * Characters go-yaml's reader rejects, bad escapes and unclosed brackets are "certain": the
 * authenticator cannot read the key either (a rejected character only when the rest of the text
 * is read: go-yaml never reads past the end of its first document).
 *
 * Every claim here is checked against the authenticator's own packages by the differential
 * tests (test/oracle).
 */

import { quoted } from './text.js';

/** Where a top-level block sequence item lies in the text (for splicing). */
export interface ItemSpan {
  /** Start offset: the item's first line, or for items after the first, the line after the
   * previous item (so a comment above an item travels with it). */
  start: number;
  /** Offset just past the item's last content line (including its line break). */
  end: number;
}

export type ScalarValue = string | number | boolean | null;

/**
 * A plain scalar go-yaml reads without error but as something the syncer does not model (a
 * float, a big or non-decimal integer, a timestamp). Harmless where the authenticator ignores the
 * value (an unknown field); anywhere it reads the value, the caller must treat it as unsure.
 */
export interface Opaque {
  opaque: string;
}

export interface YScalar {
  kind: 'scalar';
  style: 'plain' | 'single' | 'double';
  /** The scalar exactly as written (quotes included). */
  source: string;
  value: ScalarValue | Opaque;
}
export interface YSeq {
  kind: 'seq';
  flow: boolean;
  items: YNode[];
}
export interface YMap {
  kind: 'map';
  flow: boolean;
  /** Keys resolve to strings; no duplicates. */
  pairs: { key: YScalar; value: YNode }[];
}
export type YNode = YScalar | YSeq | YMap;

/** A top-level block sequence's layout, when the text can be spliced. */
export interface SeqLayout {
  indent: number;
  spans: ItemSpan[];
}

export type ReadResult =
  { ok: true; node: YNode | null; layout?: SeqLayout } | { ok: false; reason: string; /** go-yaml rejects this text too */ certain: boolean };

/** Thrown inside the reader; turned into a ReadResult by `readYaml`. */
class Refuse extends Error {
  constructor(
    message: string,
    readonly certain: boolean,
  ) {
    super(message);
  }
}

const unsure = (line: number, why: string): Refuse => new Refuse(`line ${line + 1}: ${why}`, false);
const broken = (line: number, why: string): Refuse => new Refuse(`line ${line + 1}: ${why}`, true);

const MAX_DEPTH = 32;
/** How far after its start go-yaml v2 still takes a ":" as a key's (scannerc.go: 1024). */
const SIMPLE_KEY_REACH = 1024;
/**
 * Most nodes one key may hold. A 1 MiB aws-auth holds ~10,000 entries of ~8 nodes each; half a
 * million one-character items would cost most of a gigabyte to hold, for nothing an operator
 * writes. Past this, the key is unreadable (bounded work on any input).
 */
const MAX_NODES = 250_000;
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);
const TRUE_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);

/**
 * go-yaml v2's resolution of a plain scalar, restricted to what we can be sure of.
 * Returns undefined when unsure.
 */
export function resolvePlain(text: string): ScalarValue | undefined {
  if (NULL_WORDS.has(text)) return null;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  if (text === '<<') return undefined; // merge key
  const first = text.charCodeAt(0);
  // go-yaml tries numbers, floats and timestamps only for these first characters.
  const numeric = first === 0x2b || first === 0x2d || first === 0x2e || (first >= 0x30 && first <= 0x39);
  if (!numeric) return text;
  if (/^-?(?:0|[1-9][0-9]{0,15})$/.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n) && !Object.is(n, -0)) return n;
  }
  return undefined;
}

/** Characters go-yaml v2's reader accepts (readerc.go); anything else fails the whole text. */
function goYamlRejects(code: number): boolean {
  return !(
    code === 0x09 ||
    code === 0x0a ||
    code === 0x0d ||
    (code >= 0x20 && code <= 0x7e) ||
    code === 0x85 ||
    (code >= 0xa0 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

/**
 * Check the raw text; returns the LF-normalised text and the first character go-yaml's reader
 * rejects, if any. That one fails the key only if go-yaml reads that far: it stops after the
 * first document, and a dedent below the document's indentation ends that document early
 * (what follows is never read). So the caller fails the key for it only once the whole text has
 * been read within the subset; anything unsure wins.
 */
function checkCharacters(text: string): { text: string; rejected?: Refuse } {
  let line = 0;
  let rejected: Refuse | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (c > 0xffff) {
      i++;
      continue;
    }
    if (c === 0x0a) line++;
    else if (c >= 0xd800 && c <= 0xdfff) rejected ??= broken(line, 'holds a lone UTF-16 surrogate (not UTF-8 text)');
    else if (goYamlRejects(c))
      rejected ??= broken(
        line,
        `holds the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}, which the authenticator's YAML reader rejects`,
      );
    else if (c === 0x09) throw unsure(line, 'holds a tab');
    else if (c === 0x85 || c === 0x2028 || c === 0x2029)
      throw unsure(line, `holds U+${c.toString(16).toUpperCase().padStart(4, '0')}, a line break to go-yaml`);
    else if (c === 0xfeff) throw unsure(line, 'holds a byte-order mark');
    else if (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a) throw unsure(line, 'holds a carriage return that does not end a line');
  }
  return { text: text.includes('\r') ? text.replace(/\r\n/g, '\n') : text, rejected };
}

interface Line {
  /** Offset of the line's first character. */
  start: number;
  /** Offset just past the line's last character (before its LF). */
  end: number;
  indent: number;
  /** False for blank and comment-only lines. */
  content: boolean;
}

const isSpace = (c: number | undefined): boolean => c === 0x20;
/** A space, a line break or the end of the text (where charCodeAt gives NaN). */
const isBlankOrEnd = (c: number | undefined): boolean => c === undefined || Number.isNaN(c) || c === 0x20 || c === 0x0a;

class Reader {
  private readonly lines: Line[] = [];
  /** Index of the current line. */
  private li = 0;
  private depth = 0;
  /** A `.inf`/`.nan` value seen: the key fails in JSON, if nothing else makes the syncer unsure
   * first (go-yaml drops a value a later duplicate key replaces, so the verdict waits for the end). */
  private jsonless: Refuse | undefined;
  private nodes = 0;

  constructor(
    private readonly text: string,
    /** The text goes on through JSON (sigs.k8s.io/yaml), as mapRoles and mapUsers do. */
    private readonly viaJson: boolean,
  ) {
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let i = start;
      while (i < end && text.charCodeAt(i) === 0x20) i++;
      const content = i < end && text.charCodeAt(i) !== 0x23; // not blank, not a comment
      this.lines.push({ start, end, indent: i - start, content });
      if (end === text.length) break;
      start = end + 1;
    }
  }

  read(): { node: YNode | null; layout?: SeqLayout } {
    this.skipBlank();
    const first = this.current();
    if (first && this.text.startsWith('---', first.start) && isBlankOrEnd(this.text.charCodeAt(first.start + 3))) {
      const rest = this.afterSpaces(first.start + 3, first.end);
      if (rest < first.end && this.text.charCodeAt(rest) !== 0x23) throw unsure(this.li, 'content after the document start marker');
      this.li++;
      this.skipBlank();
    }
    for (const l of this.lines) {
      if (l.indent === 0 && l.content) {
        const c = this.text.charCodeAt(l.start);
        if (c === 0x25) throw unsure(this.lines.indexOf(l), 'a directive (%…)');
        if (l !== first && (this.text.startsWith('---', l.start) || this.text.startsWith('...', l.start)) && isBlankOrEnd(this.text.charCodeAt(l.start + 3))) {
          throw unsure(this.lines.indexOf(l), 'a second document or a document end marker');
        }
      }
    }
    const line = this.current();
    if (!line) return { node: null };
    let layout: SeqLayout | undefined;
    const node = this.blockNode(-1, (l) => (layout = l));
    this.skipBlank();
    if (this.current()) throw unsure(this.li, 'unexpected content after the value');
    if (this.jsonless) throw this.jsonless;
    return { node, layout };
  }

  // ---- lines ---------------------------------------------------------------------------------

  private current(): Line | undefined {
    return this.lines[this.li];
  }

  private skipBlank(): void {
    while (this.li < this.lines.length && !this.lines[this.li]!.content) this.li++;
  }

  private afterSpaces(i: number, end: number): number {
    while (i < end && this.text.charCodeAt(i) === 0x20) i++;
    return i;
  }

  /** The rest of the line from `i` must be spaces and maybe a comment. */
  private expectLineEnd(i: number, line: Line): void {
    const j = this.afterSpaces(i, line.end);
    if (j === line.end) return;
    if (this.text.charCodeAt(j) === 0x23 && j > i) return; // " # comment"
    throw unsure(this.li, `unexpected ${quoted(this.text.slice(j, Math.min(line.end, j + 20)))}`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw unsure(this.li, `nesting deeper than ${MAX_DEPTH}`);
  }

  /** Count one node against the budget. */
  private count(): void {
    if (++this.nodes > MAX_NODES) throw unsure(this.li, `more than ${MAX_NODES} values in one key`);
  }

  // ---- block structure -----------------------------------------------------------------------

  /** A node on the current line, which must be indented more than `parent`. */
  private blockNode(parent: number, onLayout?: (l: SeqLayout) => void): YNode {
    this.skipBlank();
    const line = this.current()!;
    if (line.indent <= parent) throw unsure(this.li, 'expected an indented value');
    const at = line.start + line.indent;
    const c = this.text.charCodeAt(at);
    if (c === 0x2d && isBlankOrEnd(this.text.charCodeAt(at + 1))) return this.blockSeq(line.indent, onLayout);
    if (c === 0x5b || c === 0x7b) return this.flowValue(at, parent);
    if (this.keyEnd(at, line) !== undefined) return this.blockMap(line.indent, at);
    // A more indented line after it would continue the scalar: the callers refuse that.
    const node = this.inlineScalar(at, line);
    this.li++;
    return node;
  }

  private blockSeq(indent: number, onLayout?: (l: SeqLayout) => void): YSeq {
    this.enter();
    const items: YNode[] = [];
    const spans: ItemSpan[] = [];
    let prevEnd = -1;
    for (;;) {
      this.skipBlank();
      const line = this.current();
      if (!line || line.indent < indent) break;
      const at = line.start + line.indent;
      const isItem = this.text.charCodeAt(at) === 0x2d && isBlankOrEnd(this.text.charCodeAt(at + 1));
      if (line.indent > indent) throw unsure(this.li, 'bad indentation in a sequence');
      if (!isItem) break;
      const start = prevEnd === -1 ? line.start : prevEnd;
      const rest = this.afterSpaces(at + 1, line.end);
      if (rest === line.end || this.text.charCodeAt(rest) === 0x23) {
        this.li++;
        this.skipBlank();
        const next = this.current();
        if (next && next.indent > indent) items.push(this.blockNode(indent));
        else {
          this.count();
          items.push({ kind: 'scalar', style: 'plain', source: '', value: null });
        }
      } else {
        const c = this.text.charCodeAt(rest);
        if (c === 0x2d && isBlankOrEnd(this.text.charCodeAt(rest + 1))) throw unsure(this.li, 'a sequence inside a sequence on one line');
        if (c === 0x5b || c === 0x7b) items.push(this.flowValue(rest, indent));
        else if (this.keyEnd(rest, line) !== undefined) items.push(this.blockMap(rest - line.start, rest));
        else {
          items.push(this.inlineScalar(rest, line));
          this.li++;
        }
      }
      prevEnd = this.lastContentEnd();
      spans.push({ start, end: prevEnd });
    }
    this.depth--;
    onLayout?.({ indent, spans });
    this.count();
    return { kind: 'seq', flow: false, items };
  }

  /** Offset just past the last content line before the current line (with its LF). */
  private lastContentEnd(): number {
    let i = this.li - 1;
    while (i >= 0 && !this.lines[i]!.content) i--;
    const l = this.lines[i]!;
    return Math.min(l.end + 1, this.text.length);
  }

  /**
   * A block mapping whose keys sit at column `indent`; its first key starts at offset `first`
   * on the current line (mid-line for `- key: value`).
   */
  private blockMap(indent: number, first: number): YMap {
    this.enter();
    const pairs: YMap['pairs'] = [];
    const seen = new Set<string>();
    let at = first;
    for (;;) {
      const line = this.current()!;
      const keyEnd = this.keyEnd(at, line);
      if (keyEnd === undefined) throw unsure(this.li, 'expected "key: value" in a mapping');
      this.simpleKeyReach(at, keyEnd.colon);
      const key = this.keyScalar(at, keyEnd.colon, line);
      if (seen.has(key.value as string)) throw unsure(this.li, `duplicate key ${quoted(key.value as string)}`);
      seen.add(key.value as string);
      const v = this.afterSpaces(keyEnd.colon + 1, line.end);
      let value: YNode;
      if (v === line.end || this.text.charCodeAt(v) === 0x23) {
        this.li++;
        this.skipBlank();
        const next = this.current();
        const nextAt = next ? next.start + next.indent : -1;
        if (next && next.indent > indent) value = this.blockNode(indent);
        else if (next && next.indent === indent && this.text.charCodeAt(nextAt) === 0x2d && isBlankOrEnd(this.text.charCodeAt(nextAt + 1))) {
          value = this.blockSeq(indent);
        } else {
          this.count();
          value = { kind: 'scalar', style: 'plain', source: '', value: null };
        }
      } else {
        const c = this.text.charCodeAt(v);
        if (c === 0x5b || c === 0x7b) value = this.flowValue(v, indent);
        else {
          value = this.inlineScalar(v, line);
          this.li++;
        }
      }
      pairs.push({ key, value });
      this.skipBlank();
      const next = this.current();
      if (!next || next.indent < indent) break;
      if (next.indent > indent) throw unsure(this.li, 'bad indentation in a mapping (a multi-line value?)');
      at = next.start + next.indent;
      if (this.text.charCodeAt(at) === 0x2d && isBlankOrEnd(this.text.charCodeAt(at + 1))) {
        // A sequence item at the mapping's own column ends the mapping (the parent's next item).
        break;
      }
    }
    this.depth--;
    this.count();
    return { kind: 'map', flow: false, pairs };
  }

  /**
   * If a mapping key starts at `at` on `line`, where its ":" is. Keys are single-line plain or
   * quoted scalars followed by ":" and a space or the line end.
   */
  private keyEnd(at: number, line: Line): { colon: number } | undefined {
    const c = this.text.charCodeAt(at);
    if (c === 0x22 || c === 0x27) {
      const close = this.quotedEnd(at, line.end, c === 0x22);
      if (close === undefined) return undefined;
      const j = this.afterSpaces(close, line.end);
      if (this.text.charCodeAt(j) === 0x3a && isBlankOrEnd(this.text.charCodeAt(j + 1))) return { colon: j };
      return undefined;
    }
    for (let i = at; i < line.end; i++) {
      const ch = this.text.charCodeAt(i);
      if (ch === 0x23 && i > at && isSpace(this.text.charCodeAt(i - 1))) return undefined;
      if (ch === 0x3a && isBlankOrEnd(this.text.charCodeAt(i + 1))) return { colon: i };
    }
    return undefined;
  }

  /**
   * go-yaml v2 takes a ":" as the end of a key only while the key is "possible": on the line it
   * started on, and at most 1,024 characters on (scannerc.go, yaml_parser_stale_simple_keys);
   * past that the key fails (block) or the ":" is not a key's (flow), and the authenticator reads
   * nothing from the whole key. Code units, not characters: stricter on astral characters, which
   * is the safe side (unsure, never a wrong reading).
   */
  private simpleKeyReach(keyStart: number, colon: number): void {
    if (colon - keyStart > SIMPLE_KEY_REACH) throw unsure(this.li, `a mapping key whose ":" comes more than ${SIMPLE_KEY_REACH} characters after its start`);
    for (let i = keyStart; i < colon; i++) {
      if (this.text.charCodeAt(i) === 0x0a) throw unsure(this.li, 'a mapping key whose ":" is on a later line');
    }
  }

  private keyScalar(at: number, colon: number, line: Line): YScalar {
    const c = this.text.charCodeAt(at);
    let key: YScalar;
    if (c === 0x22 || c === 0x27) {
      key = this.quoted(at, line);
    } else {
      let end = colon;
      while (end > at && this.text.charCodeAt(end - 1) === 0x20) end--;
      key = this.plain(at, end, 'block');
    }
    if (typeof key.value !== 'string') throw unsure(this.li, `a mapping key that is not a string (${quoted(key.source)})`);
    if (key.value === '<<') throw unsure(this.li, 'a "<<" (merge) key');
    return key;
  }

  /** A single-line scalar value at `at`; the rest of the line must be empty or a comment. */
  private inlineScalar(at: number, line: Line): YScalar {
    const c = this.text.charCodeAt(at);
    if (c === 0x22 || c === 0x27) {
      const s = this.quoted(at, line);
      this.expectLineEnd(at + s.source.length, line);
      return s;
    }
    let end = at;
    for (; end < line.end; end++) {
      const ch = this.text.charCodeAt(end);
      if (ch === 0x23 && isSpace(this.text.charCodeAt(end - 1))) break;
      if (ch === 0x3a && isBlankOrEnd(this.text.charCodeAt(end + 1))) throw unsure(this.li, 'a ": " inside a value');
    }
    let trimmed = end;
    while (trimmed > at && this.text.charCodeAt(trimmed - 1) === 0x20) trimmed--;
    return this.plain(at, trimmed, 'block');
  }

  private plain(at: number, end: number, context: 'block' | 'flow'): YScalar {
    const source = this.text.slice(at, end);
    const c = source.charCodeAt(0);
    // Indicators that cannot start a plain scalar (or that we do not accept: anchors, tags,
    // aliases, block scalars, directives, reserved characters).
    if ('&*!|>%@`,[]{}#\'"'.includes(source[0] ?? '')) throw unsure(this.li, `a value starting with ${JSON.stringify(source[0])}`);
    if ((c === 0x2d || c === 0x3f || c === 0x3a) && isBlankOrEnd(source.charCodeAt(1)))
      throw unsure(this.li, `a value starting with ${JSON.stringify(source[0])}`);
    if (context === 'flow' && /[?\s]/.test(source)) throw unsure(this.li, `a flow value with spaces or "?" (${quoted(source)})`);
    // Inside [ ] and { }, go-yaml takes a ":" that starts a value as the value indicator.
    if (context === 'flow' && c === 0x3a) throw unsure(this.li, `a flow value starting with ":" (${quoted(source)})`);
    if (source === '<<') throw unsure(this.li, 'a "<<" (merge) key');
    // sigs.k8s.io/yaml cannot turn infinity or NaN into JSON: the authenticator reads no entry of the key.
    if (this.viaJson && /^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$/.test(source))
      this.jsonless ??= broken(this.li, `${source} has no JSON form: the authenticator cannot read the key`);
    const value = resolvePlain(source);
    this.count();
    return { kind: 'scalar', style: 'plain', source, value: value === undefined ? { opaque: source } : value };
  }

  /** End (offset past the closing quote) of a quoted scalar on one line, or undefined. */
  private quotedEnd(at: number, end: number, double: boolean): number | undefined {
    for (let i = at + 1; i < end; i++) {
      const ch = this.text.charCodeAt(i);
      if (double && ch === 0x5c) {
        i++;
        continue;
      }
      if (double && ch === 0x22) return i + 1;
      if (!double && ch === 0x27) {
        if (this.text.charCodeAt(i + 1) === 0x27) {
          i++;
          continue;
        }
        return i + 1;
      }
    }
    return undefined;
  }

  private quoted(at: number, line: Line): YScalar {
    const double = this.text.charCodeAt(at) === 0x22;
    const close = this.quotedEnd(at, line.end, double);
    if (close === undefined) throw unsure(this.li, 'a quoted value that does not close on its line');
    const source = this.text.slice(at, close);
    const body = source.slice(1, -1);
    const value = double ? this.unescape(body) : body.replace(/''/g, "'");
    this.count();
    return { kind: 'scalar', style: double ? 'double' : 'single', source, value };
  }

  /** go-yaml v2's double-quoted escapes (scannerc.go). Anything else fails the key there too. */
  private unescape(body: string): string {
    if (!body.includes('\\')) return body;
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const ch = body[i]!;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = body[++i];
      const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      const width = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (width === 0) throw broken(this.li, `unknown escape "\\${e ?? ''}" in a double-quoted value`);
      const hex = body.slice(i + 1, i + 1 + width);
      if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== width) throw broken(this.li, 'a bad hexadecimal escape');
      const code = parseInt(hex, 16);
      if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) throw broken(this.li, `an invalid Unicode escape \\${e}${hex}`);
      out += String.fromCodePoint(code);
      i += width;
    }
    return out;
  }

  // ---- flow collections ------------------------------------------------------------------------

  /**
   * A flow collection starting at `at` (on the current line), possibly over several lines whose
   * indentation must stay deeper than `parent`. Leaves the current line after it.
   */
  private flowValue(at: number, parent: number): YNode {
    const cursor = { pos: at };
    const node = this.flowNode(cursor, parent);
    const line = this.current()!;
    this.expectLineEnd(cursor.pos, line);
    this.li++;
    return node;
  }

  /** Skip spaces, line breaks and comments inside a flow collection. */
  private flowSpace(cursor: { pos: number }, parent: number): void {
    for (;;) {
      const line = this.current();
      if (!line) throw broken(this.li - 1, 'a flow collection that never closes');
      let i = cursor.pos;
      while (i < line.end && this.text.charCodeAt(i) === 0x20) i++;
      if (i < line.end && this.text.charCodeAt(i) === 0x23 && (i === line.start || i > cursor.pos || this.text.charCodeAt(i - 1) === 0x20)) i = line.end;
      if (i < line.end) {
        cursor.pos = i;
        return;
      }
      this.li++;
      const next = this.current();
      if (!next) throw broken(this.li - 1, 'a flow collection that never closes');
      if (next.content && next.indent <= parent) throw unsure(this.li, 'a flow collection line not indented under its key');
      cursor.pos = next.start;
    }
  }

  private flowNode(cursor: { pos: number }, parent: number): YNode {
    const c = this.text.charCodeAt(cursor.pos);
    if (c === 0x5b) return this.flowSeq(cursor, parent);
    if (c === 0x7b) return this.flowMap(cursor, parent);
    return this.flowScalar(cursor);
  }

  private flowScalar(cursor: { pos: number }): YScalar {
    const line = this.current()!;
    const c = this.text.charCodeAt(cursor.pos);
    if (c === 0x22 || c === 0x27) {
      const s = this.quoted(cursor.pos, line);
      cursor.pos += s.source.length;
      return s;
    }
    let end = cursor.pos;
    for (; end < line.end; end++) {
      const ch = this.text.charCodeAt(end);
      if (ch === 0x2c || ch === 0x5b || ch === 0x5d || ch === 0x7b || ch === 0x7d || ch === 0x20) break;
      if (ch === 0x3a && (end + 1 === line.end || ' ,[]{}'.includes(this.text[end + 1]!))) break;
    }
    if (end === cursor.pos) throw unsure(this.li, `unexpected ${JSON.stringify(this.text[cursor.pos] ?? 'end')} in a flow collection`);
    const s = this.plain(cursor.pos, end, 'flow');
    cursor.pos = end;
    return s;
  }

  private flowSeq(cursor: { pos: number }, parent: number): YSeq {
    this.enter();
    cursor.pos++;
    const items: YNode[] = [];
    for (;;) {
      this.flowSpace(cursor, parent);
      if (this.text.charCodeAt(cursor.pos) === 0x5d) {
        cursor.pos++;
        break;
      }
      const c = this.text.charCodeAt(cursor.pos);
      if (c === 0x3f || c === 0x3a || c === 0x2c) throw unsure(this.li, `unexpected ${JSON.stringify(this.text[cursor.pos])} in a flow sequence`);
      items.push(this.flowNode(cursor, parent));
      this.flowSpace(cursor, parent);
      const d = this.text.charCodeAt(cursor.pos);
      if (d === 0x2c) cursor.pos++;
      else if (d === 0x5d) {
        cursor.pos++;
        break;
      } else if (d === 0x3a) throw unsure(this.li, 'a "key: value" pair inside a flow sequence');
      else throw unsure(this.li, `unexpected ${JSON.stringify(this.text[cursor.pos])} in a flow sequence`);
    }
    this.depth--;
    this.count();
    return { kind: 'seq', flow: true, items };
  }

  private flowMap(cursor: { pos: number }, parent: number): YMap {
    this.enter();
    cursor.pos++;
    const pairs: YMap['pairs'] = [];
    const seen = new Set<string>();
    for (;;) {
      this.flowSpace(cursor, parent);
      const c = this.text.charCodeAt(cursor.pos);
      if (c === 0x7d) {
        cursor.pos++;
        break;
      }
      if (c === 0x5b || c === 0x7b || c === 0x3f || c === 0x2c || c === 0x3a)
        throw unsure(this.li, `unexpected ${JSON.stringify(this.text[cursor.pos])} as a flow mapping key`);
      const keyStart = cursor.pos;
      const key = this.flowScalar(cursor);
      if (typeof key.value !== 'string') throw unsure(this.li, `a mapping key that is not a string (${quoted(key.source)})`);
      if (key.value === '<<') throw unsure(this.li, 'a "<<" (merge) key');
      if (seen.has(key.value)) throw unsure(this.li, `duplicate key ${quoted(key.value as string)}`);
      seen.add(key.value);
      this.flowSpace(cursor, parent);
      if (this.text.charCodeAt(cursor.pos) !== 0x3a) throw unsure(this.li, 'a flow mapping key without ": value"');
      this.simpleKeyReach(keyStart, cursor.pos);
      cursor.pos++;
      // A plain key needs a space after its ":" in YAML; a quoted (JSON) key does not.
      if (key.style === 'plain' && !isBlankOrEnd(this.text.charCodeAt(cursor.pos))) throw unsure(this.li, 'no space after ":"');
      this.flowSpace(cursor, parent);
      const v = this.text.charCodeAt(cursor.pos);
      if (v === 0x2c || v === 0x7d) throw unsure(this.li, 'a flow mapping key without a value');
      pairs.push({ key, value: this.flowNode(cursor, parent) });
      this.flowSpace(cursor, parent);
      const d = this.text.charCodeAt(cursor.pos);
      if (d === 0x2c) cursor.pos++;
      else if (d === 0x7d) {
        cursor.pos++;
        break;
      } else throw unsure(this.li, `unexpected ${JSON.stringify(this.text[cursor.pos])} in a flow mapping`);
    }
    this.depth--;
    this.count();
    return { kind: 'map', flow: true, pairs };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  "'": "'",
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

/**
 * Read one aws-auth key's text. Never throws. `viaJson: false` for a text go-yaml decodes
 * directly (mapAccounts, into []string): there `.inf` and `.nan` are just plain scalars.
 */
export function readYaml(text: string, opts: { viaJson?: boolean } = {}): ReadResult {
  try {
    const { text: normalised, rejected } = checkCharacters(text);
    const { node, layout } = new Reader(normalised, opts.viaJson !== false).read();
    // The whole text was read as one document: go-yaml reads all of it too.
    if (rejected) throw rejected;
    // Offsets of a CRLF text no longer match the original: such a text is re-rendered whole.
    return normalised === text && layout ? { ok: true, node, layout } : { ok: true, node };
  } catch (err) {
    if (err instanceof Refuse) return { ok: false, reason: err.message, certain: err.certain };
    throw err;
  }
}

/** Is the scalar's value one the syncer does not model? */
export function isOpaque(v: YScalar['value']): v is Opaque {
  return typeof v === 'object' && v !== null;
}

/** The JSON value a node stands for (objects keep key order; no prototype). Opaque scalars stay
 * `{ "opaque": <source> }`, so two values compare equal only if written the same. */
export function toValue(node: YNode | null): unknown {
  if (node === null) return null;
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toValue);
    case 'map': {
      const out = Object.create(null) as Record<string, unknown>;
      for (const p of node.pairs) out[p.key.value as string] = toValue(p.value);
      return out;
    }
  }
}
