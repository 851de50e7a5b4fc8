/**
 * Table-driven parse tests, one fixture per odd input (in the style of aws-iam-authenticator's
 * pkg/mapper/configmap/yaml/): test/fixtures/core/parse/<case>.yaml is a ConfigMap as
 * `kubectl get cm aws-auth -o yaml` prints it, <case>.expected.json the expected result.
 *
 * expected.json fields:
 *   entries[]        key, index, canonical (null = none), mapping (null = none),
 *                    optional rawKeys (field names of the raw entry, in order) and node (isNodeEntry)
 *   unreadableKeys[] keys whose YAML could not be read
 *   problems[]       key, optional index, optional reason (a substring of the reported reason)
 *   bug              optional: the case documents a known bug in lib/core; runs as test.failing
 *
 * Expectations follow what the authenticator itself reads (checked against sigs.k8s.io/yaml +
 * encoding/json); a case marked `bug` is where the syncer disagrees.
 */
import { describe, expect, test } from '@jest/globals';
import { isNodeEntry, parseAwsAuth } from '../../../lib/core/parse.js';
import type { MapKey, ParsedAwsAuth } from '../../../lib/core/types.js';
import { fixturePath, listDir, loadConfigMap, readJson, readText } from './support.js';

interface ExpectedEntry {
  key: MapKey;
  index: number;
  canonical: string | null;
  mapping: { arn: string; username: string; groups: string[] } | null;
  rawKeys?: string[];
  node?: boolean;
}
interface ExpectedParse {
  entries: ExpectedEntry[];
  unreadableKeys: MapKey[];
  problems: Array<{ key: string; index?: number; reason?: string }>;
  bug?: string;
}

const dir = fixturePath('parse');
const cases = listDir(dir, (f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));

function check(parsed: ParsedAwsAuth, want: ExpectedParse): void {
  expect(
    parsed.entries.map((e) => ({
      key: e.key,
      index: e.index,
      canonical: e.canonical ?? null,
      mapping: e.mapping ?? null,
    })),
  ).toEqual(want.entries.map(({ key, index, canonical, mapping }) => ({ key, index, canonical, mapping })));
  want.entries.forEach((w, i) => {
    const got = parsed.entries[i]!;
    if (w.rawKeys) expect(Object.keys(got.raw as object)).toEqual(w.rawKeys);
    if (w.node !== undefined) expect(isNodeEntry(got)).toBe(w.node);
  });
  expect(parsed.unreadableKeys).toEqual(want.unreadableKeys);
  expect(parsed.problems.map((p) => ({ key: p.key, index: p.index }))).toEqual(want.problems.map((p) => ({ key: p.key, index: p.index })));
  want.problems.forEach((w, i) => {
    if (w.reason !== undefined) expect(parsed.problems[i]?.reason).toContain(w.reason);
  });
}

test('the fixture directory has cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(20);
});

describe('parseAwsAuth fixtures', () => {
  for (const name of cases) {
    const want = readJson<ExpectedParse>(`${dir}/${name}.expected.json`);
    const run = (): void => check(parseAwsAuth(loadConfigMap(readText(`${dir}/${name}.yaml`))), want);
    if (process.env.SHOW_BUGS === undefined && want.bug) {
      // BUG: see `bug` in the fixture's expected.json; remove the field once lib/core is fixed.
      test.failing(`${name} (known bug: ${want.bug.slice(0, 60)}…)`, run);
    } else {
      test(name, run);
    }
  }
});

describe('parseAwsAuth edge cases outside fixtures', () => {
  test('no ConfigMap parses to nothing', () => {
    expect(parseAwsAuth(null)).toEqual({ entries: [], unreadableKeys: [], problems: [] });
  });

  test('a ConfigMap without data parses to nothing', () => {
    expect(parseAwsAuth({ metadata: { name: 'aws-auth' } })).toEqual({ entries: [], unreadableKeys: [], problems: [] });
  });

  test('a non-string data value is unreadable, not a crash', () => {
    const cm = { metadata: {}, data: { mapRoles: 42 as unknown as string } };
    const parsed = parseAwsAuth(cm);
    expect(parsed.unreadableKeys).toEqual(['mapRoles']);
    expect(parsed.problems).toEqual([{ key: 'mapRoles', reason: 'value is not a string' }]);
  });

  test('every bad entry is reported, not just the first', () => {
    const text = Array.from({ length: 5 }, (_, i) => `- rolearn: arn:aws:iam::111122223333:role/r${i}\n  username: on\n`).join('');
    const parsed = parseAwsAuth({ metadata: {}, data: { mapRoles: text } });
    expect(parsed.problems.map((p) => p.index)).toEqual([0, 1, 2, 3, 4]);
  });

  test('the raw entry is kept whole, original spelling and unknown fields included', () => {
    const parsed = parseAwsAuth({
      metadata: {},
      data: { mapRoles: '- RoleArn: arn:aws:iam::111122223333:role/A\n  x-note: keep me\n  groups: [a]\n' },
    });
    expect(parsed.entries[0]?.raw).toEqual({ RoleArn: 'arn:aws:iam::111122223333:role/A', 'x-note': 'keep me', groups: ['a'] });
  });
});
