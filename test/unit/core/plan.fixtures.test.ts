/**
 * Table-driven planSync / planRestore tests. One directory per case under
 * test/fixtures/core/plan/<case>/ (see the README there for the file formats):
 *   current.yaml   aws-auth as `kubectl get -o yaml` prints it; absent = no ConfigMap
 *   iam.json       GetAccountAuthorizationDetails output (one page, or an array of pages)  [sync]
 *   backup.yaml    the backup to restore; its presence makes the case a planRestore case   [restore]
 *   config.json    policy fields (defaults: support.makePolicy) plus `selfArn` and `force`
 *   expected.json  what the plan must say and what the next object must hold
 *
 * Every case also runs the generic invariants (DESIGN.md): input not mutated, other data keys
 * and metadata untouched, keys the current object cannot read kept byte-for-byte, node entries
 * survive unless refused, managed entries sorted and in the authenticator's field order, no raw
 * YAML 1.1 line breaks, no write without a change listed (sync), and a second run on the result
 * is a no-op.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { viewAwsAuth } from '../../../lib/core/awsauth.js';
import { entryObject } from '../../../lib/core/decide.js';
import { formatAccessChange, formatChange } from '../../../lib/core/diff.js';
import { snapshotFromAuthorizationDetails, type AuthorizationDetailsPage } from '../../../lib/core/iam-snapshot.js';
import { identityOfPrincipal } from '../../../lib/core/identity.js';
import { NODE_GROUPS } from '../../../lib/core/names.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken, owns, readOwned } from '../../../lib/core/ownership.js';
import { planRestore, planSync, type RestorePlan, type SyncPlan } from '../../../lib/core/plan.js';
import type { SyncPolicy } from '../../../lib/core/policy.js';
import { MAP_KEYS, type ConfigMapObject, type IamSnapshot } from '../../../lib/core/types.js';
import { readYaml, toValue } from '../../../lib/core/yaml-read.js';
import { YAML11_LINE_BREAKS, fixturePath, listDir, loadConfigMap, makePolicy, readJson, readJsonIfExists, readText } from './support.js';

interface Expected {
  changed: boolean;
  create?: boolean;
  /** formatChange lines, in plan order. */
  changes: string[];
  /** formatAccessChange lines, in plan order (omitted = not checked). */
  access?: string[];
  /** `<key> <arn>` of each conflict. */
  conflicts?: string[];
  /** Refusal codes (compared as a sorted list). */
  refusals: string[];
  /** Warning codes (compared as a sorted list; omitted = not checked). */
  warnings?: string[];
  /** `<key>:<identity key>` the ownership annotation must record; [] = no annotation. */
  owned?: string[];
  /** Exact text of data keys; null = the key must be absent. */
  data?: Record<string, string | null>;
  /** The sorted list of data keys. */
  dataKeys?: string[];
  /** Data keys read (strict reader) and compared as lists. */
  entries?: Record<string, unknown[]>;
  /** Substrings a data key's text must contain. */
  dataContains?: Record<string, string[]>;
}

interface CaseConfig extends Partial<SyncPolicy> {
  selfArn?: string;
  force?: boolean;
}

interface Case {
  name: string;
  current: ConfigMapObject | null;
  backup?: ConfigMapObject;
  snapshot?: IamSnapshot;
  policy: SyncPolicy;
  selfArn?: string;
  force?: boolean;
  expected: Expected;
}

const root = fixturePath('plan');
const CLUSTER = { name: 'prod' };

function loadCase(name: string): Case {
  const dir = `${root}/${name}`;
  const { selfArn, force, ...policyFields } = readJsonIfExists<CaseConfig>(`${dir}/config.json`) ?? {};
  const iam = readJsonIfExists<AuthorizationDetailsPage | AuthorizationDetailsPage[]>(`${dir}/iam.json`);
  return {
    name,
    current: existsSync(`${dir}/current.yaml`) ? loadConfigMap(readText(`${dir}/current.yaml`)) : null,
    backup: existsSync(`${dir}/backup.yaml`) ? loadConfigMap(readText(`${dir}/backup.yaml`)) : undefined,
    snapshot: iam === undefined ? undefined : snapshotFromAuthorizationDetails(Array.isArray(iam) ? iam : [iam]),
    policy: makePolicy(policyFields),
    selfArn,
    force,
    expected: readJson<Expected>(`${dir}/expected.json`),
  };
}

function run(c: Case, current: ConfigMapObject | null = c.current): SyncPlan | RestorePlan {
  const selfArns = c.selfArn ? [c.selfArn] : [];
  if (c.backup) return planRestore({ current, backup: c.backup, partition: 'aws', selfArns, force: c.force });
  if (!c.snapshot) throw new Error(`${c.name}: a sync case needs iam.json`);
  return planSync({ current, snapshot: c.snapshot, policy: c.policy, selfArns, force: c.force });
}

const isSync = (p: SyncPlan | RestorePlan): p is SyncPlan => 'create' in p;
const sorted = (xs: string[]): string[] => [...xs].sort();
const readList = (text: string | undefined): unknown => {
  const r = readYaml(text ?? '');
  return r.ok ? toValue(r.node) : `unreadable: ${r.reason}`;
};

function checkExpected(c: Case): void {
  const plan = run(c);
  const want = c.expected;
  const next = plan.next;
  expect(plan.changes.map(formatChange)).toEqual(want.changes);
  if (want.access) expect(plan.access.map(formatAccessChange)).toEqual(want.access);
  expect(sorted(plan.refusals.map((r) => r.code))).toEqual(sorted(want.refusals));
  expect(plan.changed).toBe(want.changed);
  if (isSync(plan)) {
    if (want.create !== undefined) expect(plan.create).toBe(want.create);
    expect(plan.conflicts.map((x) => `${x.key} ${x.arn}`)).toEqual(want.conflicts ?? []);
    if (want.warnings) expect(sorted(plan.warnings.map((w) => w.code))).toEqual(sorted(want.warnings));
  }
  if (want.owned) {
    const annotation = next.metadata.annotations?.[OWNED_ANNOTATION];
    const tokens = want.owned.map((o) => {
      const [key, ...id] = o.split(':');
      return ownershipToken('prod', key as 'mapRoles' | 'mapUsers', id.join(':'));
    });
    expect(annotation).toBe(want.owned.length === 0 ? undefined : formatOwned('prod', tokens));
  }
  for (const [key, text] of Object.entries(want.data ?? {})) {
    expect([key, next.data?.[key]]).toEqual([key, text ?? undefined]);
  }
  if (want.dataKeys) expect(Object.keys(next.data ?? {}).sort()).toEqual(want.dataKeys);
  for (const [key, list] of Object.entries(want.entries ?? {})) {
    expect([key, readList(next.data?.[key])]).toEqual([key, list]);
  }
  for (const [key, parts] of Object.entries(want.dataContains ?? {})) {
    for (const part of parts) expect(next.data?.[key]).toContain(part);
  }
}

function checkInvariants(c: Case): void {
  const before = JSON.stringify({ current: c.current, backup: c.backup, snapshot: c.snapshot });
  const plan = run(c);
  expect(JSON.stringify({ current: c.current, backup: c.backup, snapshot: c.snapshot })).toBe(before); // pure: inputs untouched
  const next = plan.next;

  // The object stays kube-system/aws-auth; metadata other than annotations/labels is carried over.
  expect(next.metadata.name).toBe('aws-auth');
  expect(next.metadata.namespace).toBe('kube-system');
  if (c.current) {
    const strip = (m: ConfigMapObject['metadata']): unknown => ({ ...m, annotations: undefined, labels: undefined });
    expect(strip(next.metadata)).toEqual(strip(c.current.metadata));
  }

  const currentView = viewAwsAuth(c.current, 'aws');
  if (isSync(plan) && c.current) {
    // Other data keys are never touched; nor are annotations other than the ownership record.
    for (const [key, text] of Object.entries(c.current.data ?? {})) {
      if (!(MAP_KEYS as readonly string[]).includes(key)) expect([key, next.data?.[key]]).toEqual([key, text]);
    }
    const others = (cm: ConfigMapObject): unknown => ({ ...(cm.metadata.annotations ?? {}), [OWNED_ANNOTATION]: undefined });
    expect(others(next)).toEqual(others(c.current));
    expect(next.metadata.labels).toEqual(c.current.metadata.labels);

    // A key the syncer cannot read is never rewritten, forced or not.
    for (const key of MAP_KEYS) {
      if (currentView[key].state === 'unsure' || currentView[key].state === 'broken') expect([key, next.data?.[key]]).toEqual([key, c.current.data?.[key]]);
    }

    // Every entry the syncer does not own keeps its exact value (and node entries always), unless refused.
    if (plan.refusals.length === 0) {
      const owned = readOwned(c.current, CLUSTER);
      const nextValues = new Set(MAP_KEYS.flatMap((k) => viewAwsAuth(next, 'aws')[k].entries.map((e) => `${k} ${JSON.stringify(toValue(e.node))}`)));
      for (const k of MAP_KEYS) {
        for (const e of currentView[k].entries) {
          const mine = e.target.kind === 'identity' && owns(owned, k, e.target.identity.key) && !e.groups.some((g) => NODE_GROUPS.includes(g));
          const adopted = plan.changes.some(
            (ch) => ch.op === 'adopt' && e.target.kind === 'identity' && identityOfPrincipal(ch.arn)?.key === e.target.identity.key,
          );
          if (!mine && !adopted) expect([k, nextValues.has(`${k} ${JSON.stringify(toValue(e.node))}`), e.index]).toEqual([k, true, e.index]);
        }
      }
    }

    // A write always comes with the changes that explain it, unless it only clears a foreign or
    // malformed ownership annotation (reported as a warning).
    if (plan.changed && !plan.warnings.some((w) => w.code === 'owned-annotation')) expect(plan.changes.length).toBeGreaterThan(0);
  }

  // Keys the plan rewrote: readable, no raw line breaks, managed entries sorted, canonical.
  const owned = readOwned(next, CLUSTER);
  const nextView = viewAwsAuth(next, 'aws');
  for (const key of MAP_KEYS) {
    const text = next.data?.[key];
    if (text === undefined || text === c.current?.data?.[key]) continue;
    expect(text).not.toMatch(YAML11_LINE_BREAKS);
    if (c.backup) continue;
    expect([key, nextView[key].state]).toEqual([key, 'ok']);
    const managed = nextView[key].entries.filter((e) => e.target.kind === 'identity' && owns(owned, key, e.target.identity.key));
    const arns = managed.map((e) => e.arn.toLowerCase());
    expect(arns).toEqual([...arns].sort());
    for (const e of managed) {
      const identity = (e.target as { identity: NonNullable<ReturnType<typeof identityOfPrincipal>> }).identity;
      expect(JSON.stringify(toValue(e.node))).toBe(
        JSON.stringify(
          entryObject({ key, identity, principalArn: identity.arn, username: e.username, groups: [...new Set(e.groups)].sort(), accessPolicies: [] }),
        ),
      );
    }
  }

  // Idempotency: planning again on the result changes nothing.
  const again = run(c, next);
  expect({ changed: again.changed, changes: again.changes.map(formatChange) }).toEqual({ changed: false, changes: [] });
  if (isSync(again)) expect(again.create).toBe(false);
}

const cases = listDir(root, (n) => !n.includes('.')).map(loadCase);

test('the fixture directory has cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(20);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('plan matches expected.json', () => checkExpected(c));
  test('invariants hold and a second run is a no-op', () => checkInvariants(c));
});
