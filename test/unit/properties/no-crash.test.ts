/**
 * Random text and random ConfigMap-shaped objects never crash the core: viewAwsAuth gives every
 * key a state (and a reason when it cannot read it), planSync and planRestore return plans
 * (refusing where they must). The objects stay within what the inputs guarantee — the API server
 * (data and annotations map strings to strings) and the CLI's `--current` check (metadata is an
 * object, data maps strings to strings) — and are arbitrary inside that.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { effectiveAccess } from '../../../lib/core/access.js';
import { viewAwsAuth, viewProblems } from '../../../lib/core/awsauth.js';
import { OWNED_ANNOTATION } from '../../../lib/core/ownership.js';
import { planRestore, planSync } from '../../../lib/core/plan.js';
import type { ConfigMapObject } from '../../../lib/core/types.js';
import { RUNS, YAML_FRAGMENTS, YAML_SPECIAL_WORDS, anyString, basePolicy, policyArb, selfArnsArb, snapshotArb } from './arbitraries.js';
import { mapAccountsTextArb, mapKeyTextArb } from './awsauth-text.js';

/** Random YAML-ish documents: syntax fragments, words, and entries in between; JSON values in
 * flow form; binary strings; generated aws-auth texts with mutations. */
const yamlish: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.constantFrom(...YAML_FRAGMENTS, ...YAML_SPECIAL_WORDS, '\n  ', '\n    - ', '- rolearn: ', 'arn:aws:iam::111122223333:role/x', '\n  groups:\n'),
        { maxLength: 30 },
      )
      .map((a) => a.join('')),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: mapKeyTextArb('mapRoles', { mutations: 60, extreme: 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '[[[[[[[[[[[[[[[[[[[[',
      '- - - - - - - - x',
      '\u0000\u0001\u0002',
      '%TAG ! tag:x,2000:\n--- !a\n- b\n',
      '--- a\n--- b\n',
      '- !!binary "%%%"\n',
      '- !!set {a, b}\n',
      '- !!omap [a: 1]\n',
      '- ? [a]\n  : b\n',
      '- &a [*a]\n',
      '"\\',
      "'",
      '- "\\x"\n',
      '- "\\uD800"\n',
    ),
  },
);

const STATES = ['absent', 'empty', 'ok', 'broken', 'unsure'];

describe('no crash on hostile input', () => {
  test(`viewAwsAuth gives every key a state and explains the ones it cannot read (numRuns ${RUNS.noCrash})`, () => {
    fc.assert(
      fc.property(yamlish, yamlish, fc.option(fc.oneof(anyString, mapAccountsTextArb), { nil: undefined }), (roles, users, accounts) => {
        const data: Record<string, string> = { mapRoles: roles, mapUsers: users };
        if (accounts !== undefined) data.mapAccounts = accounts;
        const view = viewAwsAuth({ metadata: {}, data }, 'aws');
        for (const k of [view.mapRoles, view.mapUsers, view.mapAccounts]) {
          expect(STATES).toContain(k.state);
          if (k.state === 'broken' || k.state === 'unsure') expect(k.reason).toMatch(/\S/);
        }
        for (const k of [view.mapRoles, view.mapUsers]) {
          // Entries only where the key is read; each placed and indexed within its key.
          if (k.state !== 'ok') expect(k.entries).toEqual([]);
          k.entries.forEach((e, i) => {
            expect(e.key).toBe(k.key);
            expect(e.index).toBe(i);
            expect(['identity', 'dead']).toContain(e.target.kind);
            if (e.target.kind === 'dead') expect(e.target.reason).toMatch(/\S/);
          });
        }
        // Every unreadable key is reported as blocking; every dead entry as a problem.
        const problems = new Set(viewProblems(view).map((p) => `${p.key} ${p.index ?? ''} ${p.blocking}`));
        for (const k of [view.mapRoles, view.mapUsers]) {
          if (k.state === 'broken' || k.state === 'unsure') expect(problems.has(`${k.key}  true`)).toBe(true);
          const dead = k.entries.filter((e) => e.target.kind === 'dead' && !problems.has(`${k.key} ${e.index} false`));
          expect(dead).toEqual([]);
        }
        // The effective access knows which keys it could not read.
        const access = effectiveAccess(view);
        for (const v of Object.values(access)) {
          expect(v.unknownKeys.sort()).toEqual(
            [view.mapRoles, view.mapUsers]
              .filter((k) => k.state === 'unsure')
              .map((k) => k.key as string)
              .concat(view.mapAccounts.state === 'unsure' ? ['mapAccounts'] : [])
              .sort(),
          );
        }
      }),
      { numRuns: RUNS.noCrash },
    );
  });

  test('a data value that is not a string is unsure, with a reason (any JSON value)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('mapRoles', 'mapUsers', 'mapAccounts'),
        fc.jsonValue().filter((v) => typeof v !== 'string'),
        (key, v) => {
          const view = viewAwsAuth({ metadata: {}, data: { [key]: v } as unknown as Record<string, string> }, 'aws');
          if (v === undefined) return;
          expect(view[key as 'mapRoles']).toMatchObject({ state: 'unsure', reason: 'its value is not a string' });
        },
      ),
      { numRuns: 100 },
    );
  });

  const configMapArb: fc.Arbitrary<ConfigMapObject> = fc
    .record({
      data: fc.option(
        fc.record({ mapRoles: yamlish, mapUsers: yamlish, mapAccounts: fc.oneof(anyString, mapAccountsTextArb), other: anyString }, { requiredKeys: [] }),
        { nil: undefined },
      ),
      annotations: fc.option(
        fc.dictionary(
          fc.oneof(fc.constant(OWNED_ANNOTATION), anyString),
          fc.oneof(
            anyString,
            fc.constantFrom(
              'v1:',
              'v1:0123456789abcdef',
              'v2;prod;',
              'v2;prod;0123456789abcdef',
              'v2;prod;0123456789abcdef,',
              'v2;;',
              'v2;prod;0123456789ABCDEF',
              'v2;arn:aws:eks:eu-west-1:111122223333:cluster/prod;',
            ),
          ),
        ),
        { nil: undefined },
      ),
      labels: fc.option(fc.dictionary(anyString, anyString, { maxKeys: 2 }), { nil: undefined }),
      extraMetadata: fc.dictionary(fc.constantFrom('uid', 'managedFields', 'finalizers', 'generateName', 'x'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      extraTop: fc.dictionary(fc.constantFrom('immutable', 'x-extra', 'status', 'spec'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      binaryData: fc.option(fc.dictionary(anyString, fc.base64String({ maxLength: 16 }), { maxKeys: 2 }), { nil: undefined }),
    })
    .map((r) => {
      const cm: ConfigMapObject = {
        ...r.extraTop,
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { ...r.extraMetadata, name: 'aws-auth', namespace: 'kube-system' },
      };
      if (r.data) cm.data = r.data as Record<string, string>;
      if (r.annotations) cm.metadata.annotations = r.annotations;
      if (r.labels) cm.metadata.labels = r.labels;
      if (r.binaryData) cm.binaryData = r.binaryData;
      return cm;
    });

  test(`planSync returns a plan for any ConfigMap-shaped object (numRuns ${RUNS.planNoCrash})`, () => {
    fc.assert(
      fc.property(configMapArb, snapshotArb, policyArb, selfArnsArb, fc.boolean(), (cm, snapshot, policy, selfArns, force) => {
        const plan = planSync({ current: cm, snapshot, policy, selfArns, force });
        expect(typeof plan.changed).toBe('boolean');
        expect(plan.next.metadata.name).toBe('aws-auth');
        // A current object the syncer cannot fully read is never rewritten without force.
        const blocking = viewProblems(viewAwsAuth(cm, policy.partition)).some((p) => p.blocking);
        if (plan.changed && !force && blocking) expect(plan.refusals.map((r) => r.code)).toContain('current-unreadable');
        if (force) expect(plan.refusals.map((r) => r.code)).not.toContain('current-unreadable');
      }),
      { numRuns: RUNS.planNoCrash },
    );
  });

  test(`planRestore returns a plan for any pair of ConfigMap-shaped objects (numRuns ${RUNS.planNoCrash})`, () => {
    fc.assert(
      fc.property(fc.option(configMapArb, { nil: null }), configMapArb, selfArnsArb, fc.boolean(), (current, backup, selfArns, force) => {
        const plan = planRestore({ current, backup, partition: 'aws', selfArns, force });
        expect(typeof plan.changed).toBe('boolean');
        expect(plan.next.data ?? {}).toEqual(backup.data ?? {});
        const blocking = viewProblems(viewAwsAuth(backup, 'aws')).some((p) => p.blocking);
        if (plan.changed && !force && blocking) expect(plan.refusals.map((r) => r.code)).toContain('backup-unreadable');
      }),
      { numRuns: RUNS.planNoCrash },
    );
  });

  // Was a bug in the old core (fixed): a non-string ownership annotation (`aws-auth-syncer.io/owned:
  // 123` in a `--current` file; the CLI's readCurrent checks data but not annotations) made
  // planSync throw. Expected: treated as a malformed annotation (owns nothing, warning).
  test('a non-string ownership annotation is a malformed annotation, not a crash', () => {
    const cm = { metadata: { name: 'aws-auth', annotations: { [OWNED_ANNOTATION]: 123 } }, data: {} } as unknown as ConfigMapObject;
    const plan = planSync({ current: cm, snapshot: { roles: [], users: [], groups: [] }, policy: basePolicy() });
    expect(plan.warnings.map((w) => w.code)).toContain('owned-annotation');
  });
});
