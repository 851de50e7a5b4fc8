import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { readYaml, toValue } from '../../../lib/core/yaml-read.js';
import { renderEntry, renderKeptItem, scalarText } from '../../../lib/core/yaml-write.js';

const readBack = (text: string): unknown => {
  const r = readYaml(text);
  if (!r.ok) throw new Error(`${r.certain ? 'broken' : 'unsure'}: ${r.reason}\n${text}`);
  return toValue(r.node);
};

/** Words and characters that would change meaning or break a key if written raw. */
const HOSTILE = [
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  '~',
  'null',
  '',
  ' ',
  '0o17',
  '012',
  '0x1F',
  '1e3',
  '.inf',
  '1:20',
  '2024-03-01',
  '-',
  '- x',
  '? x',
  ': x',
  'a: b',
  'a #b',
  '#',
  '&a',
  '*a',
  '!x',
  '%',
  '@',
  '`',
  '|',
  '>',
  '[',
  '{',
  '"',
  "'",
  '<<',
  'x:',
  'a\nb',
  '\t',
  '\r',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u0000',
  '\u007f',
  '\u009f',
  '\ufffe',
  '\uffff',
  '😀',
  'é',
  '{{SessionName}}',
  'system:masters',
];

describe('scalarText', () => {
  test.each(HOSTILE)('%j reads back as itself', (s) => {
    expect(readBack(`- ${scalarText(s)}\n`)).toEqual([s]);
  });
  test('plain only when unmistakable', () => {
    expect(scalarText('arn:aws:iam::1:role/x')).toBe('arn:aws:iam::1:role/x');
    expect(scalarText('system:node:{{EC2PrivateDNSName}}')).toBe('system:node:{{EC2PrivateDNSName}}');
    expect(scalarText('{{SessionName}}')).toBe('"{{SessionName}}"');
    expect(scalarText('yes')).toBe('"yes"');
    expect(scalarText('x\u2028y')).toBe('"x\\Ly"');
    expect(scalarText('a\u007fb')).toBe('"a\\x7fb"');
  });
  test('any well-formed string reads back as itself (fast-check, 2,000 runs)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE)), (s) => {
        fc.pre(!/\p{Cs}/u.test(s));
        expect(readBack(`- ${scalarText(s)}\n`)).toEqual([s]);
      }),
      { numRuns: 2000 },
    );
  });
  test('a lone surrogate cannot be written', () => {
    expect(() => scalarText('a\ud800')).toThrow(/lone surrogate/);
  });
});

describe('renderEntry', () => {
  test('the authenticator field order, groups as a block list, empty groups as []', () => {
    expect(
      renderEntry(
        [
          ['rolearn', 'arn:aws:iam::1:role/a'],
          ['username', 'a:{{SessionName}}'],
          ['groups', ['x', 'yes']],
        ],
        2,
      ),
    ).toBe('  - rolearn: arn:aws:iam::1:role/a\n    username: a:{{SessionName}}\n    groups:\n      - x\n      - "yes"\n');
    expect(
      readBack(
        renderEntry(
          [
            ['userarn', 'u'],
            ['username', ''],
            ['groups', []],
          ],
          0,
        ),
      ),
    ).toEqual([{ userarn: 'u', username: '', groups: [] }]);
  });
});

describe('renderKeptItem: nodes re-emitted in block style from their own source scalars', () => {
  const value = fc.letrec((tie) => ({
    scalar: fc.oneof(fc.constantFrom('a', 'yes', 'null', '42', '"q"', "'s'", '"\\u00e9"', 'x:y'), fc.stringMatching(/^[a-z][a-z0-9:/-]{0,8}$/)),
    seq: fc.array(tie('node'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
    map: fc
      .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,4}$/), tie('node')), { maxLength: 3, selector: ([k]) => k })
      .map((ps) => `{${ps.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
    node: fc.oneof({ depthSize: 'small' }, tie('scalar'), tie('seq'), tie('map')),
  }));
  test('a flow item re-emitted as block reads back as the same value (fast-check, 1,000 runs)', () => {
    fc.assert(
      fc.property(value.node, (flow) => {
        const r = readYaml(`[${flow}]`);
        fc.pre(r.ok);
        if (!r.ok || r.node?.kind !== 'seq') return;
        const item = r.node.items[0]!;
        expect(readBack(renderKeptItem(item, 4))).toEqual([toValue(item)]);
      }),
      { numRuns: 1000 },
    );
  });
});
