import { describe, expect, test } from '@jest/globals';
import { readYaml, resolvePlain, toValue } from '../../../lib/core/yaml-read.js';

/** The JSON value read, or `unsure:`/`broken:` and the start of the reason. */
function read(text: string): unknown {
  const r = readYaml(text);
  return r.ok ? toValue(r.node) : `${r.certain ? 'broken' : 'unsure'}: ${r.reason}`;
}

describe('the shapes aws-auth is written in are read', () => {
  test.each([
    [
      'kubectl / eksctl block style',
      '- rolearn: arn:aws:iam::1:role/a\n  username: a\n  groups:\n    - g1\n    - g2\n',
      [{ rolearn: 'arn:aws:iam::1:role/a', username: 'a', groups: ['g1', 'g2'] }],
    ],
    ['indented list, groups at the key column', '    - groups:\n      - system:nodes\n      rolearn: r\n', [{ groups: ['system:nodes'], rolearn: 'r' }]],
    ['compact JSON (Terraform jsonencode)', '[{"rolearn":"arn:aws:iam::1:role/a","groups":["g"]}]', [{ rolearn: 'arn:aws:iam::1:role/a', groups: ['g'] }]],
    ['pretty JSON over several lines', '[\n  {\n    "userarn": "u",\n    "groups": [\n      "a"\n    ]\n  }\n]\n', [{ userarn: 'u', groups: ['a'] }]],
    ['flow lists inside block', '- rolearn: r\n  groups: [a, "b", \'c\']\n', [{ rolearn: 'r', groups: ['a', 'b', 'c'] }]],
    ['comments everywhere', '# head\n- rolearn: r # trailing\n  # between\n  groups: [] # empty\n# tail\n', [{ rolearn: 'r', groups: [] }]],
    ['a document start marker', '---\n- a: 1\n', [{ a: 1 }]],
    ['CRLF line ends', '- a: x\r\n  b: z\r\n', [{ a: 'x', b: 'z' }]],
    ['templates in plain scalars', '- username: system:node:{{EC2PrivateDNSName}}\n', [{ username: 'system:node:{{EC2PrivateDNSName}}' }]],
    ['a value on the next, deeper line', '- a:\n    b\n', [{ a: 'b' }]],
    ['empty values are null', '- a:\n  b: ~\n-\n', [{ a: null, b: null }, null]],
    ['an empty text', '', null],
    ['only comments', '# nothing\n', null],
    ['flow mapping with plain keys', '- {rolearn: r, groups: [a]}\n', [{ rolearn: 'r', groups: ['a'] }]],
  ])('%s', (_name, text, want) => {
    expect(read(text)).toEqual(want);
  });
});

describe('plain scalars resolve as go-yaml v2 resolves them, or not at all', () => {
  test.each([
    ['yes', true],
    ['On', true],
    ['Y', true],
    ['no', false],
    ['OFF', false],
    ['n', false],
    ['~', null],
    ['null', null],
    ['', null],
    ['42', 42],
    ['-7', -7],
    ['0', 0],
    ['arn:aws:iam::1:role/x', 'arn:aws:iam::1:role/x'],
    ['system:masters', 'system:masters'],
    ['=', '='],
  ])('%j → %j', (text, want) => {
    expect(resolvePlain(text)).toEqual(want);
  });
  test.each(['0x1F', '0o17', '017', '1_000', '1e3', '.5', '.inf', '-.Inf', '.nan', '2024-03-01', '1:20', '-0', '+1', '9007199254740993', '-x', '<<'])(
    '%j is unsure',
    (text) => {
      expect(resolvePlain(text)).toBeUndefined();
    },
  );
});

describe('plain scalars go-yaml reads as something else are kept opaque, never guessed', () => {
  test.each(['1.5', '0x1F', '0o17', '017', '2024-03-01', '12345678901234567890', '1e3'])('%s', (text) => {
    expect(read(`- note: ${text}\n`)).toEqual([{ note: { opaque: text } }]);
  });
  test.each(['.inf', '-.Inf', '.NaN'])('%s has no JSON form: the whole key fails, as in the authenticator', (text) => {
    expect(read(`- note: ${text}\n`)).toMatch(/^broken: /);
  });
});

describe('double-quoted escapes follow go-yaml (scannerc.go)', () => {
  test.each([
    ['\\t\\n\\r\\0\\a\\b\\v\\f\\e', '\t\n\r\0\x07\b\v\f\x1b'],
    ['\\N\\_\\L\\P', '\u0085\u00a0\u2028\u2029'],
    ['\\x41\\u00e9\\U0001F600', 'Aé😀'],
    ['\\"\\\'\\\\\\ ', '"\'\\ '],
  ])('"%s"', (body, want) => {
    expect(read(`- "${body}"\n`)).toEqual([want]);
  });
  test.each([['\\/'], ['\\q'], ['\\ud800'], ['\\x4'], ['\\U00110000']])('"%s" fails the whole key, as in go-yaml', (body) => {
    expect(read(`- "${body}"\n`)).toMatch(/^broken: /);
  });
});

describe('what the syncer cannot be sure to read like go-yaml is unsure, never reinterpreted', () => {
  test.each([
    ['an anchor', '- &a x\n'],
    ['an alias', '- a\n- *a\n'],
    ['a merge key', '- <<: {a: 1}\n'],
    ['a quoted merge key', '- "<<": 1\n'],
    ['a tag', '- !!str x\n'],
    ['a custom tag', '- !local x\n'],
    ['a directive', '%YAML 1.2\n---\n- a\n'],
    ['two documents', '- a\n---\n- b\n'],
    ['a document end', '- a\n...\n'],
    ['a block scalar', '- a: |\n    x\n'],
    ['a folded scalar', '- a: >\n    x\n'],
    ['a multi-line plain scalar', '- a: x\n    y\n'],
    ['a multi-line quoted scalar', '- a: "x\n    y"\n'],
    ['an explicit key', '- ? a\n  : b\n'],
    ['a pair in a flow list', '[a: b]'],
    ['a tab', '- a:\tb\n'],
    ['a lone carriage return', '- a\r- b\n'],
    ['NEL as a line break', '- a\u0085- b\n'],
    ['a line separator', '- a\u2028b\n'],
    ['a byte-order mark', '\ufeff- a\n'],
    ['a duplicate key', '- a: 1\n  a: 2\n'],
    ['a duplicate key in flow', '[{"a": 1, "a": 2}]'],
    ['a null key', '- ~: 1\n'],
    ['a number key', '- 1: x\n'],
    ['a boolean key', '- yes: x\n'],
    ['a complex key in flow', '[{[a]: b}]'],
    ['a nested compact sequence', '- - a\n'],
    ['bad indentation', '- a: 1\n   b: 2\n'],
    ['deep nesting', `${'['.repeat(40)}${']'.repeat(40)}`],
    ['content after the value', '- a\nb: c\n'],
    ['a value with ": "', '- a: b: c\n'],
    ['a reserved indicator', '- @x\n'],
    ['a flow line not indented under its key', 'a: [\nb]\n'],
  ])('%s', (_name, text) => {
    expect(read(text)).toMatch(/^unsure: /);
  });
});

describe("characters go-yaml's reader rejects fail the whole key, as they do there", () => {
  test.each([
    ['DEL', '\u007f'],
    ['a C1 control', '\u0086'],
    ['NUL', '\u0000'],
    ['ESC', '\u001b'],
    ['U+FFFE', '\ufffe'],
    ['U+FFFF', '\uffff'],
    ['a lone surrogate', '\ud800'],
  ])('%s', (_name, ch) => {
    expect(read(`- rolearn: x${ch}y\n`)).toMatch(/^broken: /);
  });
  test('an unclosed flow list', () => {
    expect(read('[a, b')).toMatch(/^broken: /);
  });
});

describe('layout: where top-level items lie, for splicing', () => {
  test('a comment above an item travels with it; the header stays', () => {
    const text = '# header\n- a: 1\n  b: 2\n# about c\n- c: 3\n# tail\n';
    const r = readYaml(text);
    expect(r.ok && r.layout).toEqual({
      indent: 0,
      spans: [
        { start: 9, end: 23 },
        { start: 23, end: 40 },
      ],
    });
    if (r.ok && r.layout) expect(r.layout.spans.map((s) => text.slice(s.start, s.end))).toEqual(['- a: 1\n  b: 2\n', '# about c\n- c: 3\n']);
  });
  test('no layout for flow lists or CRLF texts (they are written whole)', () => {
    expect(readYaml('[a]').ok && (readYaml('[a]') as { layout?: unknown }).layout).toBeUndefined();
    expect((readYaml('- a\r\n') as { layout?: unknown }).layout).toBeUndefined();
  });
});

test('1 MiB of hostile text is read or refused without blowing up', () => {
  const bomb = `${'- ['.repeat(20000)}`;
  expect(read(bomb)).toMatch(/^unsure: /);
  const anchors = Array.from({ length: 5000 }, (_, i) => `- &a${i} [*a${Math.max(0, i - 1)}, *a${Math.max(0, i - 1)}]`).join('\n');
  expect(read(anchors)).toMatch(/^unsure: /);
});
