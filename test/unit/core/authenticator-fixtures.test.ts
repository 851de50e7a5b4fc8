/**
 * Table-driven parse tests, one fixture per odd input (in the style of aws-iam-authenticator's
 * pkg/mapper/configmap/yaml/): test/fixtures/core/parse/<case>.yaml is a ConfigMap as
 * `kubectl get cm aws-auth -o yaml` prints it, <case>.authenticator.json what aws-iam-authenticator
 * v0.6.13 and v0.7.18 themselves make of it (recorded from their own code by
 * `npm run fixtures:record`; test/oracle/fixtures.test.ts keeps the recordings current).
 *
 * For every key the syncer reads, its reading must be the authenticator's: the key's state
 * (broken = the authenticator cannot read it either), every caller's username and groups in both
 * versions, the allowed accounts. Keys the syncer refuses to read (`unsure`) are listed here, each
 * with the reason; any other key it refuses fails the test.
 */
import { describe, expect, test } from '@jest/globals';
import { effectiveAccess } from '../../../lib/core/access.js';
import { viewAwsAuth } from '../../../lib/core/awsauth.js';
import { compareAccess, compareKeys } from '../../support/authenticator-compare.js';
import { fixtureNames, loadFixture, readKeys, readRecording, recordingCases, subsetName } from '../../support/authenticator-fixtures.js';

/** Fixtures with keys the syncer refuses to read, and why refusing is right there. */
const UNSURE: Record<string, Record<string, string>> = {
  'anchors-and-merge': { mapRoles: 'anchors, aliases and merge keys are outside the subset' },
  'case-colliding-fields': { mapRoles: 'two spellings of rolearn: which one encoding/json keeps depends on JSON key order' },
  'dot-float-with-underscore': { mapRoles: '.5_0 is a float to go-yaml (the username is lost); the syncer does not model floats' },
  'duplicate-field': { mapRoles: 'a duplicate key: the syncer does not guess which one wins' },
  'flow-value-starting-with-colon': { mapRoles: 'in a flow mapping, go-yaml takes the ":" of ":admin" for a value indicator (it cannot read the key)' },
  'go-number-forms': { mapRoles: 'numbers where strings are wanted: go-yaml reads 0O17, 0X1F, +0B1, 1e1_0 … as numbers' },
  'go-octal-is-a-number': { mapRoles: '0o17 is a number to go-yaml: the entry loses its groups' },
  'key-longer-than-1024': { mapRoles: 'a mapping key whose ":" comes 1,025 characters after its start (go-yaml gives up on the key: no entry read)' },
  'flow-key-colon-on-next-line': {
    mapRoles: 'a flow mapping key whose ":" is on the next line (go-yaml reads no entry)',
    mapUsers: 'the same in JSON style (go-yaml reads no entry)',
  },
  'inf-replaced-by-duplicate-key': { mapRoles: 'a duplicate key (its .inf value is dropped by go-yaml, so the key is not broken)' },
  'numeric-values': { mapUsers: 'numbers where strings are wanted' },
  'unicode-folded-field-name': { mapRoles: 'uſername fills username only through Go’s Unicode case folding' },
  'colon-at-end-of-text': { mapRoles: '"admin:" at the very end is a mapping key to go-yaml (the authenticator cannot read the key)' },
  'dash-and-colon-values': { mapRoles: 'note: - is a block sequence where go-yaml allows none (the authenticator cannot read the key)' },
  'date-is-a-string': { mapRoles: 'the authenticator reads 2024-03-01 as a string; the syncer keeps plain scalars that start like numbers opaque' },
  'invalid-yaml': { mapRoles: 'bad indentation: the authenticator fails on it too (the syncer only says it is not sure)' },
  'sexagesimal-is-a-string': { mapRoles: 'the authenticator reads 1:20 as a string; the syncer keeps plain scalars that start like numbers opaque' },
  'control-character-after-document-end': { mapUsers: 'a dedent ends go-yaml’s document early: the rest (and its control character) is never read' },
  'wrong-fields': { mapRoles: 'rolearn: 111122223333 and groups: system:masters are not strings / lists' },
  'yaml11-booleans': { mapRoles: 'on and yes are booleans to go-yaml' },
};

const names = fixtureNames();

test('every fixture has a recorded authenticator reading, and the table names only fixtures', () => {
  expect(names.length).toBeGreaterThanOrEqual(30);
  expect(names.filter((n) => readRecording(n) === undefined)).toEqual([]);
  expect(Object.keys(UNSURE).filter((n) => !names.includes(n))).toEqual([]);
});

describe('the syncer reads each fixture as the authenticator does, or refuses the key', () => {
  test.each(names)('%s', (name) => {
    const cm = loadFixture(name);
    const recorded = readRecording(name)!;
    // The fixture must be what was recorded (else: npm run fixtures:record).
    expect(recorded.input).toBe(recordingCases(cm).input);
    const view = viewAwsAuth(cm, 'aws');
    const present = Object.keys(readKeys(cm));
    const unsure = present.filter((k) => view[k as 'mapRoles'].state === 'unsure');
    expect(Object.fromEntries(unsure.map((k) => [k, view[k as 'mapRoles'].reason]))).toEqual(
      Object.fromEntries(Object.keys(UNSURE[name] ?? {}).map((k) => [k, expect.any(String)])),
    );
    const go = recorded.readings[subsetName(present.filter((k) => !unsure.includes(k)))]!;
    expect([...compareKeys(view, go), ...compareAccess(effectiveAccess(view), go, recorded.probes)]).toEqual([]);
  });
});

test('the comparison is not vacuous: a changed answer, a broken key read as fine and a missing answer all show', () => {
  const cm = loadFixture('node-roles');
  const recorded = readRecording('node-roles')!;
  const view = viewAwsAuth(cm, 'aws');
  const go = structuredClone(recorded.readings.mapRoles!);
  const admin = 'arn:aws:iam::111122223333:role/admin';
  expect(go['v0.7.18'].identities[admin]).toMatchObject({ mapped: true, groups: ['system:masters'] });
  (go['v0.7.18'].identities[admin] as { groups: string[] }).groups = ['view'];
  expect(compareAccess(effectiveAccess(view), go, recorded.probes)).toEqual([
    expect.stringContaining(`v0.7.18 "${admin}": syncer "admin" ["system:masters"], authenticator "admin" ["view"]`),
  ]);
  go['v0.6.13'].keys.mapRoles.yamlError = 'yaml: line 1: did not find expected node content';
  expect(compareKeys(view, go)).toEqual([expect.stringContaining('v0.6.13 mapRoles is ok to the syncer, but the authenticator cannot read it')]);
  const odd = viewAwsAuth({ metadata: {}, data: { mapUsers: '- userarn: "arn:aws:iam::111122223333:user/a\\x7fb/bob"\n' } }, 'aws');
  expect(compareAccess(effectiveAccess(odd), go, [])).toContainEqual(expect.stringContaining('the authenticator was not asked'));
});
