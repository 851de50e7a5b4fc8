/**
 * parse ∘ render is the identity on valid input: whatever list of entry objects the syncer
 * holds (managed mappings, or unmanaged entries carried over with their unknown fields), the
 * YAML it writes reads back, under the authenticator's YAML 1.1 rules, as exactly that list.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { mappingObject } from '../../../lib/core/render.js';
import { parseYaml11, renderYaml11, stableJson } from '../../../lib/core/yaml.js';
import { RUNS, quietYamlKeyWarnings, YAML_SPECIAL_WORDS, anyString, principalArn, principalSpec } from './arbitraries.js';

quietYamlKeyWarnings();

/** Keys an entry object may carry: the authenticator's fields in odd spellings, YAML-special
 * words, syntax, and arbitrary Unicode. `<<` is left out here (see the failing test below). */
const entryKey = fc
  .oneof(
    fc.constantFrom('rolearn', 'userarn', 'username', 'groups', 'RoleArn', 'Groups', 'sso', '__proto__', 'constructor', 'toString', '? x', '- x', 'a: b', '#', '&a', '*a', '!x'),
    fc.constantFrom(...YAML_SPECIAL_WORDS),
    fc.string({ unit: 'binary', maxLength: 12 }),
  )
  .filter((k) => k !== '<<');

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: anyString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(entryKey, tie('value'), { maxKeys: 3, noNullPrototype: true }),
  ),
}));

const entryObject = fc.dictionary(entryKey, value, { maxKeys: 5, noNullPrototype: true });

/** Objects shaped like managed mappings, with arbitrary usernames and groups. */
const mappingLike = fc
  .tuple(principalSpec(), anyString, fc.array(anyString, { maxLength: 4 }))
  .map(([p, username, groups]) => mappingObject({ key: p.kind === 'role' ? 'mapRoles' : 'mapUsers', arn: principalArn(p), username, groups }));

const list = fc.array(fc.oneof(entryObject, mappingLike), { maxLength: 5 });

describe('renderYaml11 / parseYaml11', () => {
  test(`parseYaml11(renderYaml11(x)) deep-equals x for lists of entry objects (numRuns ${RUNS.roundtrip})`, () => {
    fc.assert(
      fc.property(list, (x) => {
        const text = renderYaml11(x);
        const back = parseYaml11(text);
        expect(stableJson(back)).toBe(stableJson(x));
        expect(back).toEqual(x);
        // Raw U+0085/U+2028/U+2029 are line breaks to go-yaml: never written raw.
        expect(text).not.toMatch(/[\u0085\u2028\u2029]/u);
        // And the aws-auth parser reads the same list.
        const parsed = parseAwsAuth({ metadata: {}, data: { mapRoles: text } });
        expect(parsed.unreadableKeys).toEqual([]);
        expect(stableJson(parsed.entries.map((e) => e.raw))).toBe(stableJson(x));
      }),
      { numRuns: RUNS.roundtrip },
    );
  });

  test.each(YAML_SPECIAL_WORDS.map((w) => [w]))('the string %j survives as a value, a key and a list item', (w) => {
    const x = [{ username: w, groups: [w], [w]: w }];
    expect(parseYaml11(renderYaml11(x))).toEqual(x);
  });

  // Was a bug (fixed): renderYaml11 wrote a string key "<<" as a plain `<<`, which YAML 1.1 reads as a merge
  // key. An unmanaged entry written by hand as `"<<": {groups: [system:masters]}` (a legitimate
  // quoted key; go-yaml only merges a plain `<<`) is re-rendered as `<<:` + mapping, which reads
  // back with `groups: [system:masters]` merged into the entry; with a scalar value the output does
  // not parse at all ("Merge sources must be maps or map aliases"). planSync's render-roundtrip
  // guard refuses these plans, so nothing is written — but every sync touching that key is refused
  // until somebody edits the entry. Expected: the key is written quoted (`"<<": …`).
  test.each([
    [[{ '<<': { groups: ['system:masters'] }, rolearn: 'arn:aws:iam::111122223333:role/x' }]],
    [[{ '<<': 'x' }]],
  ])('a "<<" key round-trips (%j)', (x) => {
    expect(parseYaml11(renderYaml11(x))).toEqual(x);
  });
});
