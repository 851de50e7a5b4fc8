/**
 * Random text and random ConfigMap-shaped objects never crash the core: parseAwsAuth reports
 * problems, planSync returns a plan (refusing where it must). The objects stay within what the
 * inputs guarantee — the API server (data and annotations map strings to strings) and the
 * CLI's `--current` check (metadata is an object, data maps strings to strings) — and are
 * arbitrary inside that.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { OWNED_ANNOTATION } from '../../../lib/core/ownership.js';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { planSync } from '../../../lib/core/plan.js';
import { MAP_KEYS, type ConfigMapObject } from '../../../lib/core/types.js';
import { parseYaml11, renderYaml11 } from '../../../lib/core/yaml.js';
import { RUNS, quietYamlKeyWarnings, YAML_FRAGMENTS, YAML_SPECIAL_WORDS, anyString, basePolicy, policyArb, snapshotArb } from './arbitraries.js';

quietYamlKeyWarnings();

/** Does the text read as a self-referencing structure (`&a [*a]`)? Those are a known crash
 * (see the failing test in preserve.test.ts) and are kept out of the random runs. */
function isCyclic(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  let value: unknown;
  try {
    value = parseYaml11(text);
  } catch {
    return false;
  }
  const seen = new Set<unknown>();
  const walk = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null) return false;
    if (seen.has(v)) return true;
    seen.add(v);
    const found = Object.values(v).some(walk);
    seen.delete(v);
    return found;
  };
  return walk(value);
}

/** Random YAML-ish documents: syntax fragments, words, and entries in between. */
const yamlish: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...YAML_FRAGMENTS, ...YAML_SPECIAL_WORDS, '\n  ', '\n    - ', '- rolearn: ', 'arn:aws:iam::111122223333:role/x', '\n  groups:\n'), { maxLength: 30 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => renderYaml11(v)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('[[[[[[[[[[[[[[[[[[[[', '- - - - - - - - x', '\u0000\u0001\u0002', '%TAG ! tag:x,2000:\n--- !a\n- b\n', '--- a\n--- b\n', '- !!binary "%%%"\n', '- !!set {a, b}\n', '- !!omap [a: 1]\n', '- ? [a]\n  : b\n') },
);

describe('no crash on hostile input', () => {
  test(`parseAwsAuth reports problems for any text (numRuns ${RUNS.noCrash})`, () => {
    fc.assert(
      fc.property(yamlish, yamlish, fc.option(anyString, { nil: undefined }), (roles, users, accounts) => {
        fc.pre(!isCyclic(roles) && !isCyclic(users));
        const data: Record<string, string> = { mapRoles: roles, mapUsers: users };
        if (accounts !== undefined) data.mapAccounts = accounts;
        const parsed = parseAwsAuth({ metadata: {}, data });
        for (const p of parsed.problems) {
          expect(MAP_KEYS).toContain(p.key);
          expect(typeof p.reason).toBe('string');
          expect(p.reason.length).toBeGreaterThan(0);
        }
        // Every unreadable key is explained; every entry is placed and indexed within its key.
        for (const key of parsed.unreadableKeys) expect(parsed.problems.some((p) => p.key === key && p.index === undefined)).toBe(true);
        for (const e of parsed.entries) {
          expect(parsed.unreadableKeys).not.toContain(e.key);
          if (e.mapping === undefined && e.canonical === undefined) expect(parsed.problems.some((p) => p.key === e.key && p.index === e.index) || e.raw !== null).toBe(true);
        }
        // A readable entry without problems is understood.
        for (const e of parsed.entries) {
          const hasProblem = parsed.problems.some((p) => p.key === e.key && p.index === e.index);
          if (!hasProblem && e.canonical !== undefined) expect(e.mapping).toBeDefined();
        }
      }),
      { numRuns: RUNS.noCrash },
    );
  });

  test('parseAwsAuth reports a data value that is not a string (any JSON value)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MAP_KEYS), fc.jsonValue().filter((v) => typeof v !== 'string'), (key, v) => {
        const parsed = parseAwsAuth({ metadata: {}, data: { [key]: v } as unknown as Record<string, string> });
        expect(parsed.unreadableKeys).toEqual([key]);
        expect(parsed.problems).toEqual([{ key, reason: 'value is not a string' }]);
      }),
      { numRuns: 100 },
    );
  });

  const configMapArb: fc.Arbitrary<ConfigMapObject> = fc
    .record({
      data: fc.option(
        fc.record(
          { mapRoles: yamlish, mapUsers: yamlish, mapAccounts: anyString, other: anyString },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
      annotations: fc.option(fc.dictionary(fc.oneof(fc.constant(OWNED_ANNOTATION), anyString), fc.oneof(anyString, fc.constantFrom('v1:', 'v1:0123456789abcdef', 'v1:0123456789abcdef,', 'v1:,', 'v1:0123456789ABCDEF'))), { nil: undefined }),
      labels: fc.option(fc.dictionary(anyString, anyString, { maxKeys: 2 }), { nil: undefined }),
      extraMetadata: fc.dictionary(fc.constantFrom('uid', 'managedFields', 'finalizers', 'generateName', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      extraTop: fc.dictionary(fc.constantFrom('immutable', 'x-extra', 'status', 'spec'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      binaryData: fc.option(fc.dictionary(anyString, fc.base64String({ maxLength: 16 }), { maxKeys: 2 }), { nil: undefined }),
    })
    .map((r) => {
      const cm: ConfigMapObject = { ...r.extraTop, apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...r.extraMetadata, name: 'aws-auth', namespace: 'kube-system' } };
      if (r.data) cm.data = r.data as Record<string, string>;
      if (r.annotations) cm.metadata.annotations = r.annotations;
      if (r.labels) cm.metadata.labels = r.labels;
      if (r.binaryData) cm.binaryData = r.binaryData;
      return cm;
    });

  test(`planSync returns a plan for any ConfigMap-shaped object (numRuns ${RUNS.planNoCrash})`, () => {
    fc.assert(
      fc.property(configMapArb, snapshotArb, policyArb, fc.boolean(), (cm, snapshot, policy, force) => {
        fc.pre(!isCyclic(cm.data?.mapRoles) && !isCyclic(cm.data?.mapUsers));
        const plan = planSync({ current: cm, snapshot, policy, force });
        expect(typeof plan.changed).toBe('boolean');
        expect(plan.next.metadata.name).toBe('aws-auth');
        // A current object with problems is never rewritten without force.
        if (plan.changed && !force && parseAwsAuth(cm).problems.length > 0) expect(plan.refusals.map((r) => r.code)).toContain('current-unparseable');
      }),
      { numRuns: RUNS.planNoCrash },
    );
  });

  // Was a bug (fixed): a recursive anchor inside an entry's field makes parseAwsAuth itself throw
  // "TypeError: Converting circular structure to JSON" (parse.ts readEntry → stableJson for the
  // problem message), so every caller — planSync, planRestore, the guards — crashes.
  // Expected: a problem for mapRoles (go-yaml: "anchor 'a' value contains itself").
  test.each([
    [`- rolearn: arn:aws:iam::111122223333:role/x\n  username: &a [*a]\n`],
    [`- rolearn: arn:aws:iam::111122223333:role/x\n  groups: &a [*a]\n`],
  ])('parseAwsAuth reports a recursive anchor in a field (%j)', (text) => {
    const parsed = parseAwsAuth({ metadata: {}, data: { mapRoles: text } });
    expect(parsed.problems.some((p) => p.key === 'mapRoles')).toBe(true);
  });

  // Was a bug (fixed): a non-string ownership annotation (`aws-auth-syncer.io/owned: 123` in a
  // `--current` file; the CLI's readCurrent checks data but not annotations) makes planSync throw
  // "TypeError: value.startsWith is not a function" (ownership.ts readOwned). Expected: treated as
  // a malformed annotation (owns nothing, warning `owned-annotation`), like any other bad value.
  test('a non-string ownership annotation is a malformed annotation, not a crash', () => {
    const cm = { metadata: { name: 'aws-auth', annotations: { [OWNED_ANNOTATION]: 123 } }, data: {} } as unknown as ConfigMapObject;
    const plan = planSync({ current: cm, snapshot: { roles: [], users: [], groups: [] }, policy: basePolicy() });
    expect(plan.warnings.map((w) => w.code)).toContain('owned-annotation');
  });
});
