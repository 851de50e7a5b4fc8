/**
 * Hostile aws-auth texts for the property and differential tests: a small document model
 * (entries, values, anchors, tags, merge keys), a renderer that writes it in the styles people
 * and tools use (block, flow, JSON; plain, single- and double-quoted scalars; comments) and
 * mutations that break it the ways hand edits and hostile writers do (control and C1
 * characters, Unicode line breaks, tabs, CR, a BOM, directives, more documents, duplicated or
 * re-indented lines, truncation, deep or long or alias-heavy inputs).
 *
 * The ground truth is never the model: tests compare readings of the rendered text (the
 * syncer's, and in test/oracle the authenticator's own). The model only makes sure that most
 * texts are close to what aws-auth holds, so that the interesting cases are near misses.
 * Not a test file.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// Model

/** A scalar: a string the renderer quotes as it likes, or source text written as it is. */
export type Scalar = { s: string } | { raw: string };
export type Value =
  | Scalar
  | { list: Value[] }
  | { map: [key: string, value: Value][] }
  /** `&name value` */
  | { anchor: string; value: Value }
  /** `!tag value` */
  | { tag: string; value: Value };

/** One item of mapRoles/mapUsers: usually a mapping, sometimes anything else. */
export type Item = { map: [key: string, value: Value][] } | { other: Value };

export interface ListDoc {
  items: Item[];
  /** How the list is written. */
  form: 'block' | 'flow' | 'json';
  /** Block lists: the column of the `-` (kubectl's `data: |` shows it at 0; some write 2 or 4). */
  indent: number;
  /** Block lists: groups lists at the key's column (`indentless`, as eksctl and yamlencode write). */
  indentless: boolean;
  /** Seed for per-node style choices (scalar quoting, flow vs block values, comments). */
  seed: number;
}

/** A text mutation; positions are fractions of the text length, so they shrink nicely. */
export type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'dup-line'; at: number }
  | { op: 'indent-line'; at: number; by: string }
  | { op: 'truncate'; at: number }
  | { op: 'replace-all'; from: string; to: string }
  | { op: 'prefix'; text: string }
  | { op: 'suffix'; text: string }
  /** Drop the line breaks at the end (a text need not end with one). */
  | { op: 'chomp' };

// ---------------------------------------------------------------------------------------------
// Words

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';

/** Plain-scalar words YAML 1.1 / go-yaml read as something other than a string, and friends. */
export const YAML_SPECIAL_WORDS = [
  'on',
  'off',
  'On',
  'OFF',
  'yes',
  'no',
  'Yes',
  'NO',
  'y',
  'n',
  'Y',
  'N',
  'true',
  'False',
  'TRUE',
  'null',
  'Null',
  'NULL',
  '~',
  '',
  ' ',
  '0o17',
  '0O17',
  '012',
  '0777',
  '0888',
  '0x1F',
  '0X1f',
  '0b101',
  '+0x1F',
  '-0',
  '+1',
  '1:20',
  '1:20:30',
  '190:20:30.15',
  '1e3',
  '1E3',
  '1e+3',
  '1.e5',
  '.5',
  '+.5',
  '-.5',
  '0.',
  '.inf',
  '.Inf',
  '-.INF',
  '+.inf',
  '.nan',
  '.NaN',
  '1_000',
  '0x_1F',
  '1__0',
  '_1',
  '1_',
  '._5',
  '.5_0',
  '.1_0e5',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '9007199254740993',
  '2024-03-01',
  '2001-12-14t21:59:43.10-05:00',
  '2024-03-01T10:00:00Z',
  '=',
  '-',
  '--',
  '---',
  '...',
  '? x',
  '- x',
  ': x',
  'a: b',
  'a #b',
  '#c',
  '&a',
  '*a',
  '!x',
  '!!str',
  '%YAML',
  '@x',
  '`x',
  '``',
  '|',
  '>',
  '[x]',
  '{x: y}',
  '"q"',
  "'q'",
  ',',
  'a,b',
  '\t',
  ' lead',
  'trail ',
  'a\nb',
  'a\r\nb',
  'a\rb',
  '\u0085',
  'x\u0085y',
  'x\u2028y',
  'x\u2029y',
  '\u2028',
  '\ufeffbom',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  '\u009b',
  '\u00a0',
  '\u200b',
  '\uffff',
  '\ufffe',
  'é',
  'e\u0301',
  '日本語',
  '😀',
  'ſ',
  '\u212a',
  '\u0130',
  'system:masters',
  'system:nodes',
  '{{SessionName}}',
  '<<',
  'x:',
  'a:b',
  '- ',
  '-x',
  ':x',
];

/** Plain scalars made of or around YAML indicators (`-`, `?`, `:`, `#`, `,`). */
export const INDICATOR_WORDS = [
  '-',
  '--',
  '-x',
  '- x',
  '?',
  '?x',
  '? x',
  ':',
  ':x',
  ': x',
  'x:',
  'x:y',
  'x: y',
  'x :',
  '#',
  'x#y',
  'x #y',
  'x,y',
  '[x',
  'x]',
  '{x',
  'x}',
  '@x',
  'x@',
  '=',
  '~x',
  'x~',
  '...',
  '---x',
  '- -',
  '-:',
];

/** Pieces of YAML syntax, for hostile values and mutations. */
export const YAML_FRAGMENTS = [
  `\n- rolearn: arn:aws:iam::${ACCOUNT}:role/evil\n  groups: [system:masters]`,
  `\n- userarn: arn:aws:iam::${ACCOUNT}:user/evil\n  username: evil\n  groups:\n    - system:masters`,
  '", groups: [system:masters]}',
  "' ]\n- rolearn: x",
  ']',
  '[',
  '{',
  '}',
  '#',
  ': ',
  ', ',
  '\n',
  '\r\n',
  '\r',
  '\u2028',
  '\u2029',
  '\u0085',
  '\t',
  ' ',
  '- ',
  '  ',
  '"',
  "'",
  '&a ',
  '*a',
  '!!str ',
  '!!binary ',
  '!!int ',
  '!!float ',
  '!!timestamp ',
  '!!set ',
  '!!omap ',
  '!!map ',
  '!!seq ',
  '!local ',
  '<<: ',
  '<<: *a\n',
  '---\n',
  '...\n',
  '%YAML 1.1\n',
  '%TAG ! tag:x,2000:\n',
  '|',
  '|-\n  x\n',
  '>',
  '? ',
  '@',
  '`',
  'rolearn: ',
  'userarn: ',
  'groups: ',
  'username: ',
  'system:masters',
  'system:nodes',
  'eks:admin',
  '{{SessionName}}',
  'dev',
  '\u0000',
  '\ufeff',
  'on',
  '~',
  'null',
  '0o17',
  '1:20',
  '.inf',
];

/** Characters that matter to go-yaml's reader or to Go's and JavaScript's string handling. */
export const ODD_CHARACTERS = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\t',
  '\u000b',
  '\u000c',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u00ad',
  '\u1680',
  '\u2000',
  '\u200b',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ud7ff',
  '\ue000',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  '\u{10000}',
  '\u{1f600}',
  '\u{10ffff}',
  'ſ',
  '\u212a',
  '\u0130',
  '\u0131',
  'ß',
  'é',
];

// ---------------------------------------------------------------------------------------------
// Identities and ARNs

/** Few names, differing in case, so that generated entries collide often. */
export const NAMES = ['Admin', 'admin', 'Dev', 'dev', 'ops', 'NodeInstanceRole', 'ci.bot', 'a@b=c', 'sKa'] as const;
export const PATHS = ['/', '/team/', '/aws-reserved/sso.amazonaws.com/eu-west-1/'] as const;
export const ACCOUNTS = [ACCOUNT, OTHER_ACCOUNT] as const;

/** Every canonical ARN a caller of the generated universe can have (cluster partition `aws`):
 * roles without their path, users with it, root users, federated users. Lower-cased. */
export const UNIVERSE_PROBES: string[] = (() => {
  const out = new Set<string>();
  for (const a of ACCOUNTS) {
    out.add(`arn:aws:iam::${a}:root`);
    for (const n of NAMES) {
      out.add(`arn:aws:iam::${a}:role/${n}`.toLowerCase());
      for (const p of PATHS) out.add(`arn:aws:iam::${a}:user${p}${n}`.toLowerCase());
      if (n.length >= 2) out.add(`arn:aws:sts::${a}:federated-user/${n}`.toLowerCase());
    }
  }
  return [...out].sort();
})();

const principalKind = fc.constantFrom('role', 'role', 'user', 'user', 'root', 'federated-user', 'assumed-role');

/** ARN text as somebody might write it in aws-auth: mostly right, often subtly wrong. */
export const arnText: fc.Arbitrary<string> = fc
  .record({
    kind: principalKind,
    partition: fc.constantFrom('aws', 'aws', 'aws', 'aws', 'aws-cn', 'aws-us-gov', 'aws-mars', 'AWS'),
    account: fc.constantFrom(ACCOUNT, ACCOUNT, ACCOUNT, OTHER_ACCOUNT, '12345', '0111222233334'),
    path: fc.constantFrom('/', '/', '/', '/team/', '/aws-reserved/sso.amazonaws.com/eu-west-1/', '//', '/a//b/'),
    name: fc.constantFrom(...NAMES, 'AWSReservedSSO_Admin_0123456789abcdef', '*'),
    caseOp: fc.constantFrom('as-is', 'as-is', 'as-is', 'as-is', 'as-is', 'as-is', 'upper', 'upper', 'lower', 'lower', 'fold'),
    around: fc.constantFrom('', '', '', '', '', ' ', '\u00a0', '\t', '\u200b', '\n'),
    where: fc.constantFrom('end', 'start'),
  })
  .map(({ kind, partition, account, path, name, caseOp, around, where }) => {
    let arn: string;
    if (kind === 'root') arn = `arn:${partition}:iam::${account}:root`;
    else if (kind === 'federated-user') arn = `arn:${partition}:sts::${account}:federated-user/${name}`;
    else if (kind === 'assumed-role') arn = `arn:${partition}:sts::${account}:assumed-role/${name}/session`;
    else arn = `arn:${partition}:iam::${account}:${kind}${path}${name}`;
    if (caseOp === 'upper') arn = arn.toUpperCase();
    else if (caseOp === 'lower') arn = arn.toLowerCase();
    // Letters only Unicode folding maps to ASCII (v0.6.13 lower-cases, v0.7.x EqualFolds).
    else if (caseOp === 'fold')
      arn = arn
        .replace(/s/, 'ſ')
        .replace(/k/i, '\u212a')
        .replace(/i(?=[^:]*$)/, '\u0130');
    return where === 'end' ? arn + around : around + arn;
  });

/** A plain canonical role/user ARN of the universe (for realistic entries). */
export const goodArn = (key: 'mapRoles' | 'mapUsers'): fc.Arbitrary<string> =>
  fc
    .record({ account: fc.constantFrom(...ACCOUNTS), path: fc.constantFrom(...PATHS), name: fc.constantFrom(...NAMES) })
    .map(({ account, path, name }) => (key === 'mapRoles' ? `arn:aws:iam::${account}:role/${name}` : `arn:aws:iam::${account}:user${path}${name}`));

// ---------------------------------------------------------------------------------------------
// Values

/** `arb` with probability `p`, else null. */
const maybe = <T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: Math.round((1 - p) * 1000), arbitrary: fc.constant(null) }, { weight: Math.round(p * 1000), arbitrary: arb });

const str = (s: string): Scalar => ({ s });
const raw = (text: string): Scalar => ({ raw: text });

const GROUP_WORDS = ['system:masters', 'system:masters', 'system:nodes', 'system:bootstrappers', 'dev', 'view', 'ops', 'eks:kube-proxy-windows', 'Dev'];

export const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...YAML_SPECIAL_WORDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...ODD_CHARACTERS, 'a', 'b', ':', ' ', '#'), { maxLength: 5 }).map((a) => a.join('')) },
  {
    weight: 1,
    arbitrary: fc.array(fc.oneof(fc.constantFrom(...YAML_SPECIAL_WORDS), fc.constantFrom(...YAML_FRAGMENTS)), { maxLength: 3 }).map((a) => a.join('')),
  },
);

/** A scalar that is usually a plain word, sometimes anything at all. */
const scalarArb = (words: readonly string[]): fc.Arbitrary<Scalar> =>
  fc.oneof(
    { weight: 180, arbitrary: fc.constantFrom(...words).map(str) },
    { weight: 8, arbitrary: stringArb.map(str) },
    { weight: 3, arbitrary: fc.constantFrom(...YAML_SPECIAL_WORDS.filter((w) => !/[\n\r]/.test(w))).map(raw) },
    // Plain scalars at the edge of the indicators: go-yaml reads some of them as structure.
    { weight: 3, arbitrary: fc.constantFrom(...INDICATOR_WORDS).map(raw) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('*a', '&a x', '!!str 1', '!!int "1"', '!!binary aGk=', '!!null ""', '!!bool yes', '!custom x', '[]', '{}', '|\n  x', '"a" "b"')
        .map(raw),
    },
  );

const groupsValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 40, arbitrary: fc.array(scalarArb(GROUP_WORDS), { maxLength: 4 }).map((items): Value => ({ list: items })) },
  { weight: 1, arbitrary: scalarArb(GROUP_WORDS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Value>({ raw: 'null' }, { raw: '' }, { list: [{ list: [str('a')] }] }, { map: [['a', str('b')]] }, { list: [{ raw: 'null' }] }),
  },
);

const ssoValue: fc.Arbitrary<Value> = fc
  .record({
    permissionSetName: fc.constantFrom('Admin', 'ReadOnly', 'bad name!'),
    accountID: fc.constantFrom<Scalar>(str(ACCOUNT), raw(ACCOUNT), str('12345')),
    partition: maybe(fc.constantFrom('aws', 'aws-cn', 'mars'), 0.3),
  })
  .map(({ permissionSetName, accountID, partition }): Value => ({
    map: [
      ['permissionSetName', str(permissionSetName)],
      ['accountID', accountID],
      ...(partition !== null ? [['partition', str(partition)] as [string, Value]] : []),
    ],
  }));

/** Field names: the right ones, case variants, Unicode-folded ones, near misses, junk. */
const fieldName = (canonical: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constant(canonical) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        canonical.toUpperCase(),
        canonical[0]!.toUpperCase() + canonical.slice(1),
        canonical.replace(/arn$/, 'Arn').replace(/name$/, 'Name'),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        canonical.replace('s', 'ſ'),
        canonical.replace('k', '\u212a'),
        canonical.replace('i', '\u0130'),
        canonical.replace('i', 'ı'),
        `${canonical} `,
        ` ${canonical}`,
        `${canonical}\u00a0`,
      ),
    },
  );

const UNKNOWN_FIELDS = [
  ...['note', 'x-team', 'comment', 'expires', 'labels', '__proto__', 'constructor', 'arn', 'Groups2', 'user name'].flatMap((f) => [f, f, f]),
  'on',
  'null',
  '1',
];

const unknownValue: fc.Arbitrary<Value> = fc.oneof(
  scalarArb(['keep me', 'platform', '2030-01-01', '1.5', '0x1F', 'yes']),
  fc.constant<Value>({
    map: [
      ['team', str('platform')],
      ['tier', raw('1')],
    ],
  }),
  fc.constant<Value>({ list: [raw('1'), raw('true'), str('x')] }),
);

/** One mapping entry of mapRoles or mapUsers. */
export const entryArb = (key: 'mapRoles' | 'mapUsers'): fc.Arbitrary<Item> => {
  const arnField = key === 'mapRoles' ? 'rolearn' : 'userarn';
  const arnValue: fc.Arbitrary<Value> = fc.oneof(
    { weight: 10, arbitrary: goodArn(key).map(str) },
    { weight: 2, arbitrary: goodArn(key === 'mapRoles' ? 'mapUsers' : 'mapRoles').map(str) },
    { weight: 6, arbitrary: arnText.map(str) },
    { weight: 1, arbitrary: scalarArb(['', 'not-an-arn']) },
  );
  const username = scalarArb([
    'admin',
    'dev',
    'system:node:{{EC2PrivateDNSName}}',
    'ci:{{SessionName}}',
    'system:admin',
    'Admin',
    'arn:aws:sts::111122223333:assumed-role/Admin/{{SessionName}}',
  ]);
  return fc
    .record({
      arn: maybe(fc.tuple(fieldName(arnField), arnValue), 0.95),
      arn2: maybe(fc.tuple(fieldName(arnField), arnValue), 0.03),
      username: maybe(fc.tuple(fieldName('username'), username), 0.8),
      groups: maybe(fc.tuple(fieldName('groups'), groupsValue), 0.85),
      sso: key === 'mapRoles' ? maybe(fc.tuple(fieldName('sso'), ssoValue), 0.05) : fc.constant(null),
      userid: maybe(fc.tuple(fieldName('userid'), scalarArb(['AIDAX', 'AROAX'])), 0.03),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(fc.constantFrom(...UNKNOWN_FIELDS), unknownValue), { minLength: 1, maxLength: 2 }) },
      ),
      order: fc.integer({ min: 0, max: 5 }),
    })
    .map(({ arn, arn2, username, groups, sso, userid, extra, order }): Item => {
      const fields = [arn, username, groups, sso, userid, arn2, ...extra].filter((f): f is [string, Value] => f !== null);
      // eksctl writes groups first, most people the ARN first.
      const rotated = [...fields.slice(order % Math.max(1, fields.length)), ...fields.slice(0, order % Math.max(1, fields.length))];
      return { map: rotated };
    });
};

/** A node mapping exactly as EKS writes it. */
export const nodeEntryArb = (key: 'mapRoles' | 'mapUsers'): fc.Arbitrary<Item> =>
  goodArn(key).map((arn) => ({
    map: [
      [key === 'mapRoles' ? 'rolearn' : 'userarn', str(arn)],
      ['username', str('system:node:{{EC2PrivateDNSName}}')],
      ['groups', { list: [str('system:bootstrappers'), str('system:nodes')] }],
    ],
  }));

const otherItem: fc.Arbitrary<Item> = fc
  .constantFrom<Value>(str('just-a-string'), raw(''), raw('null'), { list: [str('a')] }, raw('42'), str(`arn:aws:iam::${ACCOUNT}:role/Admin`))
  .map((v) => ({ other: v }));

/** Anchors, aliases and merge keys woven into a list of entries (go-yaml resolves them; the
 * syncer refuses to). */
function withAnchors(items: Item[], how: number): Item[] {
  if (items.length === 0 || !('map' in items[0]!)) return items;
  const first = items[0] as { map: [string, Value][] };
  const out = items.map((i) => ('map' in i ? { map: [...i.map] } : i));
  const head = out[0] as { map: [string, Value][] };
  if (how === 0 && first.map.length > 0) {
    // `groups: &g [...]` then `groups: *g`
    const [k, v] = head.map[head.map.length - 1]!;
    head.map[head.map.length - 1] = [k, { anchor: 'g', value: v }];
    for (const i of out.slice(1)) if ('map' in i) i.map.push([k, raw('*g')]);
  } else if (how === 1) {
    // the whole entry anchored, later entries merging it and overriding fields
    out[0] = { other: { anchor: 'e', value: { map: head.map } } };
    for (const i of out.slice(1)) if ('map' in i) i.map.unshift(['<<', raw('*e')]);
  } else {
    out.push({ other: raw('*e') });
    out[0] = { other: { anchor: 'e', value: { map: head.map } } };
  }
  return out;
}

export const itemsArb = (key: 'mapRoles' | 'mapUsers', opts: { maxItems?: number } = {}): fc.Arbitrary<Item[]> =>
  fc
    .tuple(
      fc.array(fc.oneof({ weight: 8, arbitrary: entryArb(key) }, { weight: 2, arbitrary: nodeEntryArb(key) }, { weight: 1, arbitrary: otherItem }), {
        maxLength: opts.maxItems ?? 6,
      }),
      maybe(fc.integer({ min: 0, max: 2 }), 0.04),
    )
    .map(([items, anchors]) => (anchors === null ? items : withAnchors(items, anchors)));

export const listDocArb = (key: 'mapRoles' | 'mapUsers', opts: { maxItems?: number } = {}): fc.Arbitrary<ListDoc> =>
  fc.record({
    items: itemsArb(key, opts),
    form: fc.constantFrom<ListDoc['form']>('block', 'block', 'block', 'block', 'flow', 'json'),
    indent: fc.constantFrom(0, 0, 0, 2, 4),
    indentless: fc.boolean(),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  });

// ---------------------------------------------------------------------------------------------
// Rendering

/** mulberry32: a tiny deterministic PRNG for style choices. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings that read back as themselves when written plain, in block and flow context (roughly;
 * when this is wrong the text just means something else, which is fine: readings are compared). */
const PLAIN_SAFE = /^[A-Za-z0-9_/][A-Za-z0-9_./=+@:{}-]*$/;
const FLOW_SAFE = /^[A-Za-z0-9_/][A-Za-z0-9_./=+@:-]*$/;

function doubleQuoted(s: string, r: () => number): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0xfffe || c === 0xffff) {
      const p = r();
      // Mostly escaped (as a careful writer does), sometimes raw (as a careless one does).
      if (p < 0.05) out += ch;
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x09) out += p < 0.5 ? '\\t' : '\\x09';
      else if (c === 0x85) out += '\\N';
      else if (c === 0x2028) out += '\\L';
      else if (c === 0x2029) out += '\\P';
      else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, '0')}`;
      else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c > 0x7e && r() < 0.2) out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c === 0xa0 && r() < 0.3) out += '\\_';
    else out += ch;
  }
  return `${out}"`;
}

const singleQuoted = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function scalarSource(v: Scalar, r: () => number, ctx: 'block' | 'flow' | 'json'): string {
  if ('raw' in v) return v.raw;
  const s = v.s;
  if (ctx === 'json') return r() < 0.9 ? JSON.stringify(s) : doubleQuoted(s, r);
  const safe = (ctx === 'flow' ? FLOW_SAFE : PLAIN_SAFE).test(s);
  const p = r();
  if (safe ? p < 0.7 : p < 0.05) return s;
  // Single quotes cannot escape: a careful writer double-quotes control characters.
  // eslint-disable-next-line no-control-regex
  if (p < 0.85 && (!/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/.test(s) || r() < 0.05)) return singleQuoted(s);
  return doubleQuoted(s, r);
}

const keySource = (k: string, r: () => number, ctx: 'block' | 'flow' | 'json'): string =>
  ctx === 'json' ? JSON.stringify(k) : PLAIN_SAFE.test(k) && r() < 0.9 ? k : scalarSource({ s: k }, r, ctx);

/** A value in flow (or JSON) style. */
function flowValue(v: Value, r: () => number, ctx: 'flow' | 'json'): string {
  if ('anchor' in v) return `&${v.anchor} ${flowValue(v.value, r, ctx)}`;
  if ('tag' in v) return `${v.tag} ${flowValue(v.value, r, ctx)}`;
  if ('list' in v) return `[${v.list.map((x) => flowValue(x, r, ctx)).join(r() < 0.8 ? ', ' : ',')}]`;
  if ('map' in v) return `{${v.map.map(([k, x]) => `${keySource(k, r, ctx)}: ${flowValue(x, r, ctx)}`).join(', ')}}`;
  return scalarSource(v, r, ctx);
}

const comment = (r: () => number): string => [' # note', ' #', ' # a: b', ' # - rolearn: x', ' # ünïcödé'][Math.floor(r() * 5)]!;

/** Lines for `key: value` at column `col`, in block style. */
function blockPair(k: string, v: Value, col: number, r: () => number, indentless: boolean): string {
  const pad = ' '.repeat(col);
  const head = `${pad}${keySource(k, r, 'block')}:`;
  const trail = r() < 0.05 ? comment(r) : '';
  let prefix = '';
  let value = v;
  while ('anchor' in value || 'tag' in value) {
    prefix += 'anchor' in value ? `&${value.anchor} ` : `${value.tag} `;
    value = value.value;
  }
  if ('list' in value && value.list.length > 0 && r() < 0.7) {
    const lcol = indentless ? col : col + 2;
    return `${head}${prefix ? ` ${prefix.trimEnd()}` : ''}${trail}\n${value.list.map((x) => blockItem(x, lcol, r, indentless)).join('')}`;
  }
  if ('map' in value && value.map.length > 0 && r() < 0.6) {
    return `${head}${prefix ? ` ${prefix.trimEnd()}` : ''}${trail}\n${value.map.map(([kk, x]) => blockPair(kk, x, col + 2, r, indentless)).join('')}`;
  }
  const text = 'list' in value || 'map' in value ? flowValue(value, r, 'flow') : scalarSource(value, r, 'block');
  return `${head}${text === '' && prefix === '' ? '' : ` ${prefix}${text}`}${trail}\n`;
}

/** One `- item` at column `col`. */
function blockItem(v: Value | Item, col: number, r: () => number, indentless: boolean): string {
  const pad = ' '.repeat(col);
  const item: Value = 'other' in v ? v.other : v;
  if ('map' in item && item.map.length > 0) {
    if (r() < 0.1) return `${pad}-\n${item.map.map(([k, x]) => blockPair(k, x, col + 2, r, indentless)).join('')}`;
    if (r() < 0.08) return `${pad}- ${flowValue(item, r, 'flow')}\n`;
    const body = item.map.map(([k, x]) => blockPair(k, x, col + 2, r, indentless)).join('');
    return `${pad}- ${body.slice(col + 2)}`;
  }
  if ('anchor' in item && 'map' in item.value && item.value.map.length > 0) {
    const body = item.value.map.map(([k, x]) => blockPair(k, x, col + 2, r, indentless)).join('');
    return r() < 0.5 ? `${pad}- &${item.anchor}\n${body}` : `${pad}- &${item.anchor} ${body.slice(col + 2)}`;
  }
  if ('list' in item || 'map' in item || 'anchor' in item || 'tag' in item) return `${pad}- ${flowValue(item, r, 'flow')}\n`;
  const text = scalarSource(item, r, 'block');
  return text === '' ? `${pad}-\n` : `${pad}- ${text}\n`;
}

/** Write a list document. */
export function renderList(doc: ListDoc): string {
  const r = rng(doc.seed);
  const values: Value[] = doc.items.map((i) => ('other' in i ? i.other : i));
  if (doc.form === 'json' || doc.form === 'flow') {
    const ctx = doc.form;
    if (r() < 0.5) return `${flowValue({ list: values }, r, ctx)}${r() < 0.5 ? '\n' : ''}`;
    // Pretty, over several lines, as `JSON.stringify(v, null, 2)` or a person writes it.
    const inner = values.map((v) => `  ${flowValue(v, r, ctx)}`).join(',\n');
    return values.length === 0 ? '[]\n' : `[\n${inner}\n]\n`;
  }
  if (doc.items.length === 0) return ['', '[]\n', '# nothing yet\n', '[]'][Math.floor(r() * 4)]!;
  let out = r() < 0.1 ? '# managed by hand\n' : '';
  for (const item of doc.items) {
    if (r() < 0.05) out += `${' '.repeat(doc.indent)}# next entry\n`;
    if (r() < 0.03) out += '\n';
    out += blockItem(item, doc.indent, r, doc.indentless);
  }
  return out;
}

/** Apply mutations in order. */
export function mutate(text: string, mutations: readonly Mutation[]): string {
  let t = text;
  const pos = (at: number): number => Math.min(t.length, Math.floor(at * (t.length + 1)));
  for (const m of mutations) {
    switch (m.op) {
      case 'insert': {
        const i = pos(m.at);
        t = t.slice(0, i) + m.text + t.slice(i);
        break;
      }
      case 'delete': {
        const i = pos(m.at);
        t = t.slice(0, i) + t.slice(i + m.length);
        break;
      }
      case 'truncate':
        t = t.slice(0, pos(m.at));
        break;
      case 'dup-line':
      case 'indent-line': {
        const lines = t.split('\n');
        const i = Math.min(lines.length - 1, Math.floor(m.at * lines.length));
        if (m.op === 'dup-line') lines.splice(i, 0, lines[i]!);
        else lines[i] = m.by + lines[i]!;
        t = lines.join('\n');
        break;
      }
      case 'replace-all':
        t = t.split(m.from).join(m.to);
        break;
      case 'prefix':
        t = m.text + t;
        break;
      case 'suffix':
        t = t + m.text;
        break;
      case 'chomp':
        t = t.replace(/[\r\n]+$/, '');
        break;
    }
  }
  return t;
}

const at = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at, text: fc.constantFrom(...ODD_CHARACTERS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at, text: fc.constantFrom(...YAML_FRAGMENTS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dup-line' as const), at }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('indent-line' as const), at, by: fc.constantFrom(' ', '  ', '\t', '\u00a0') }) },
  // Edits that usually keep the text readable, and near the edges of what the syncer reads.
  {
    weight: 4,
    arbitrary: fc.constantFrom<Mutation>(
      { op: 'replace-all', from: ': ', to: ' : ' },
      { op: 'replace-all', from: ': ', to: ':   ' },
      { op: 'replace-all', from: '\n', to: '  \n' },
      { op: 'replace-all', from: '\n', to: ' # c\n' },
      { op: 'replace-all', from: '\n', to: '#c\n' },
      { op: 'replace-all', from: '\n', to: '\n\n' },
      { op: 'replace-all', from: '\n', to: '\n# - rolearn: x\n' },
      { op: 'replace-all', from: '- ', to: '-   ' },
      { op: 'replace-all', from: '[', to: '[ ' },
      { op: 'replace-all', from: ', ', to: ',' },
      { op: 'replace-all', from: '"', to: "'" },
      { op: 'replace-all', from: "'", to: '"' },
      { op: 'replace-all', from: 'arn:aws:', to: 'arn:aws:' },
      { op: 'replace-all', from: 'system:masters', to: 'System:Masters' },
      { op: 'replace-all', from: 'rolearn', to: 'RoleARN' },
      { op: 'replace-all', from: 'userarn', to: '"userarn"' },
      { op: 'suffix', text: '\n# end\n' },
      { op: 'prefix', text: '---\n' },
      { op: 'chomp' },
      { op: 'chomp' },
    ),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Mutation>(
      { op: 'replace-all', from: '\n', to: '\r\n' },
      { op: 'replace-all', from: '\n', to: '\r' },
      { op: 'replace-all', from: '\n', to: '\u0085' },
      { op: 'replace-all', from: '\n', to: '\u2028' },
      { op: 'replace-all', from: ': ', to: ':\t' },
      { op: 'replace-all', from: 'rolearn', to: 'roleArn' },
      { op: 'replace-all', from: 'groups', to: 'groupſ' },
      { op: 'replace-all', from: 'username', to: 'uſername' },
      { op: 'replace-all', from: 'system:masters', to: 'system:masters\u00a0' },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Mutation>(
      { op: 'prefix', text: '---\n' },
      { op: 'prefix', text: '--- # doc\n' },
      { op: 'prefix', text: '%YAML 1.1\n---\n' },
      { op: 'prefix', text: '%YAML 1.2\n---\n' },
      { op: 'prefix', text: '%TAG !e! tag:example.com,2000:\n---\n' },
      { op: 'prefix', text: '\ufeff' },
      { op: 'prefix', text: '\n\n' },
      { op: 'prefix', text: '# comment\n' },
      { op: 'suffix', text: '...\n' },
      { op: 'suffix', text: '---\n- rolearn: arn:aws:iam::111122223333:role/second\n  groups: [system:masters]\n' },
      { op: 'suffix', text: '\n---\n' },
      { op: 'suffix', text: '# trailing comment' },
      { op: 'suffix', text: '\n\n\n' },
      { op: 'suffix', text: '   ' },
    ),
  },
);

/** Texts the strict reader must stay fast and sane on: deep, long, alias-heavy. */
export const extremeText = (key: 'mapRoles' | 'mapUsers'): fc.Arbitrary<string> => {
  const arnField = key === 'mapRoles' ? 'rolearn' : 'userarn';
  const kind = key === 'mapRoles' ? 'role' : 'user';
  return fc.oneof(
    // Deep nesting, in flow and block.
    fc.integer({ min: 8, max: 80 }).map((d) => `- ${arnField}: arn:aws:iam::${ACCOUNT}:${kind}/Admin\n  groups: ${'['.repeat(d)}x${']'.repeat(d)}\n`),
    fc.integer({ min: 8, max: 60 }).map(
      (d) =>
        Array.from({ length: d }, (_v, i) => `${'  '.repeat(i)}- `)
          .join('\n')
          .replace(/- $/, '- x') + '\n',
    ),
    // Many entries (long input; duplicates of one identity among them).
    fc
      .integer({ min: 100, max: 1500 })
      .map((n) =>
        Array.from({ length: n }, (_v, i) => `- ${arnField}: arn:aws:iam::${ACCOUNT}:${kind}/r${i % 97}\n  username: u${i}\n  groups: [g${i % 5}]\n`).join(''),
      ),
    // An alias fan-out (go-yaml refuses excessive aliasing).
    fc.integer({ min: 2, max: 7 }).map((levels) => {
      const lines = [`- &a0 {${arnField}: arn:aws:iam::${ACCOUNT}:${kind}/Admin, groups: [system:masters]}`];
      for (let l = 1; l <= levels; l++)
        lines.push(
          `- &a${l} [${Array(10)
            .fill(`*a${l - 1}`)
            .join(', ')}]`,
        );
      return `${lines.join('\n')}\n`;
    }),
    // A very long scalar.
    fc
      .integer({ min: 1000, max: 70000 })
      .map((n) => `- ${arnField}: arn:aws:iam::${ACCOUNT}:${kind}/Admin\n  username: ${'u'.repeat(n)}\n  groups: [system:masters]\n`),
  );
};

/** A mapRoles or mapUsers text: rendered from the model, mutated now and then, or extreme. */
export const mapKeyTextArb = (key: 'mapRoles' | 'mapUsers', opts: { maxItems?: number; mutations?: number; extreme?: number } = {}): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 100 - (opts.mutations ?? 30) - (opts.extreme ?? 2), arbitrary: listDocArb(key, opts).map(renderList) },
    {
      weight: opts.mutations ?? 30,
      arbitrary: fc.tuple(listDocArb(key, opts), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([doc, ms]) => mutate(renderList(doc), ms)),
    },
    { weight: opts.extreme ?? 2, arbitrary: extremeText(key) },
  );

/** mapAccounts texts: the usual quoted list, bare numbers, odd scalars, wrong shapes. */
export const mapAccountsTextArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.oneof(
            fc.constantFrom(...ACCOUNTS).map(str),
            fc.constantFrom(...ACCOUNTS).map(raw),
            fc.constantFrom('0111222233334', '1e3', '0x1F', '~', 'null', 'yes', '', '.inf', '12345678901234567890', '2024-03-01').map(raw),
            stringArb.map(str),
          ),
          { maxLength: 4 },
        ),
        fc.constantFrom<ListDoc['form']>('block', 'block', 'flow', 'json'),
        fc.integer({ min: 0, max: 0x7fffffff }),
      )
      .map(([items, form, seed]) => renderList({ items: items.map((v) => ({ other: v })), form, indent: 0, indentless: false, seed })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '[]',
      '~',
      '"111122223333"\n',
      '111122223333\n',
      'a: b\n',
      '- [111122223333]\n',
      '- {a: b}\n',
      '- &x "111122223333"\n- *x\n',
      '- !!str 111122223333\n',
      '- .inf\n',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('- "111122223333"\n- 444455556666\n'), fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
      .map(([t, ms]) => mutate(t, ms)),
  },
);

// ---------------------------------------------------------------------------------------------
// Everyday shapes: kubectl, eksctl, Terraform, the AWS docs. The syncer must read all of these.

export const EVERYDAY_TEXTS: Record<string, { mapRoles?: string; mapUsers?: string; mapAccounts?: string }> = {
  'AWS docs (kubectl edit)': {
    mapRoles: `- rolearn: arn:aws:iam::${ACCOUNT}:role/my-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- rolearn: arn:aws:iam::${ACCOUNT}:role/my-console-viewer-role\n  username: my-console-viewer-role\n  groups:\n    - eks-console-dashboard-full-access-group\n`,
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/admin\n  username: admin\n  groups:\n    - system:masters\n- userarn: arn:aws:iam::${OTHER_ACCOUNT}:user/my-user\n  username: my-user\n  groups:\n    - eks-console-dashboard-restricted-access-group\n`,
    mapAccounts: `- "${ACCOUNT}"\n- "${OTHER_ACCOUNT}"\n`,
  },
  'eksctl (groups first, indentless lists)': {
    mapRoles: `- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: arn:aws:iam::${ACCOUNT}:role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D5E6F\n  username: system:node:{{EC2PrivateDNSName}}\n- groups:\n  - system:bootstrappers\n  - system:nodes\n  - eks:kube-proxy-windows\n  rolearn: arn:aws:iam::${ACCOUNT}:role/eksctl-prod-nodegroup-win-NodeInstanceRole-ABCDEF\n  username: system:node:{{EC2PrivateDNSName}}\n- groups:\n  - system:masters\n  rolearn: arn:aws:iam::${ACCOUNT}:role/Admin\n  username: admin\n`,
    mapUsers: `- groups:\n  - system:masters\n  userarn: arn:aws:iam::${ACCOUNT}:user/alice\n  username: alice\n`,
  },
  'Terraform yamlencode (quoted keys and values)': {
    mapRoles: `- "groups":\n  - "system:bootstrappers"\n  - "system:nodes"\n  "rolearn": "arn:aws:iam::${ACCOUNT}:role/default-eks-node-group-20240301"\n  "username": "system:node:{{EC2PrivateDNSName}}"\n- "groups":\n  - "system:masters"\n  "rolearn": "arn:aws:iam::${ACCOUNT}:role/Admin"\n  "username": "admin"\n`,
    mapUsers: `- "groups":\n  - "view"\n  "userarn": "arn:aws:iam::${ACCOUNT}:user/team/bob"\n  "username": "bob"\n`,
  },
  'Terraform jsonencode (compact JSON)': {
    mapRoles: `[{"rolearn":"arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole","username":"system:node:{{EC2PrivateDNSName}}","groups":["system:bootstrappers","system:nodes"]},{"rolearn":"arn:aws:iam::${ACCOUNT}:role/Admin","username":"admin","groups":["system:masters"]}]`,
    mapUsers: `[{"userarn":"arn:aws:iam::${ACCOUNT}:user/alice","username":"alice","groups":["system:masters"]}]`,
  },
  'pretty JSON (kubectl patch)': {
    mapRoles: `[\n  {\n    "rolearn": "arn:aws:iam::${ACCOUNT}:role/Admin",\n    "username": "admin",\n    "groups": [\n      "system:masters"\n    ]\n  }\n]\n`,
  },
  'flow groups and comments (hand-written)': {
    mapRoles: `# nodes\n- rolearn: arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole # EKS managed\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n# break-glass; ask #platform before use\n- rolearn: arn:aws:iam::${ACCOUNT}:role/BreakGlass\n  username: break-glass\n  groups: [system:masters]\n`,
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/ci-bot\n  username: ci:{{SessionName}}\n  groups: ["deployers", 'view']\n`,
  },
  'CloudFormation / cdk (document marker, quoted ARN)': {
    mapRoles: `---\n- rolearn: 'arn:aws:iam::${ACCOUNT}:role/cdk-prod-NodegroupRole-ABC'\n  username: 'system:node:{{EC2PrivateDNSName}}'\n  groups:\n  - 'system:bootstrappers'\n  - 'system:nodes'\n`,
  },
  'Windows editor (CRLF)': {
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/alice\r\n  username: alice\r\n  groups:\r\n    - system:masters\r\n`,
  },
  'indented data (kubectl apply of a manifest)': {
    mapRoles: `    - rolearn: arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n`,
  },
  'syncer-managed output (this project)': {
    mapRoles: `- rolearn: arn:aws:iam::${ACCOUNT}:role/Admin\n  username: arn:aws:sts::${ACCOUNT}:assumed-role/Admin/{{SessionName}}\n  groups:\n    - system:masters\n`,
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/alice\n  username: alice\n  groups:\n    - dev\n    - view\n`,
  },
  'empty and placeholder keys': { mapRoles: '[]\n', mapUsers: '', mapAccounts: '[]' },
  'unknown fields and a user path': {
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/engineering/platform/Alice\n  username: alice\n  groups:\n  - platform\n  owner: platform\n  expires: 2030-01-01\n`,
  },
};
