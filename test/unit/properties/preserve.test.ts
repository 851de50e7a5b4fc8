/**
 * Invariants 1, 2 and 5 as properties of planSync over random current aws-auth objects, IAM
 * snapshots and policies:
 * - entries the syncer does not own, node entries and every other part of the ConfigMap come
 *   through unchanged (as YAML 1.1 reads them) in every plan that is not refused;
 * - the renderer never fails its own round-trip guard;
 * - planning again on the result is a no-op.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { buildDesired } from '../../../lib/core/desired.js';
import { OWNED_ANNOTATION, ownershipToken, readOwned } from '../../../lib/core/ownership.js';
import { planSync, type SyncPlanInput } from '../../../lib/core/plan.js';
import { MAP_KEYS, type ConfigMapObject } from '../../../lib/core/types.js';
import { RUNS, quietYamlKeyWarnings, basePolicy, contains, currentArb, foreignParts, isNodeItem, isSubsequence, itemKey, policyArb, readList, snapshotArb } from './arbitraries.js';

quietYamlKeyWarnings();

const ACCOUNT = '111122223333';

const inputArb = (opts: { nonMappings?: boolean } = {}): fc.Arbitrary<SyncPlanInput> =>
  fc.record({
    current: currentArb(opts),
    snapshot: snapshotArb,
    policy: policyArb,
    selfArn: fc.option(fc.constantFrom(`arn:aws:iam::${ACCOUNT}:role/Admin`, `arn:aws:sts::${ACCOUNT}:assumed-role/ops/session-1`, `arn:aws:iam::${ACCOUNT}:user/team/dev`), {
      nil: undefined,
    }),
    force: fc.boolean(),
  });

/** Check invariants 1 and 2 on one plan; returns a description of the first violation. */
function violations(input: SyncPlanInput, next: ConfigMapObject, refused: boolean): string[] {
  const out: string[] = [];
  const current = input.current;
  if (!current) return out;
  const owned = readOwned(current).tokens;
  const desiredKeys = new Set(
    buildDesired(input.snapshot, input.policy).mappings.map((m) => `${m.key}:${m.arn.toLowerCase()}`),
  );
  for (const key of MAP_KEYS) {
    const text = current.data?.[key];
    const before = readList(text);
    if (text !== undefined && before === undefined) {
      // Unreadable: must be kept verbatim (it may hold node mappings nobody can see).
      if (next.data?.[key] !== text) out.push(`${key}: unreadable text was not kept verbatim`);
      continue;
    }
    const after = readList(next.data?.[key]) ?? (next.data?.[key] === undefined ? [] : undefined);
    if (after === undefined) {
      out.push(`${key}: the next text does not read back as a list: ${JSON.stringify(next.data?.[key])}`);
      continue;
    }
    if (refused) continue;
    const keep: unknown[] = [];
    for (const item of before ?? []) {
      const ck = itemKey(key, item);
      const isOwned = ck !== undefined && owned.has(ownershipToken(ck));
      const adoptable = input.policy.adoptUnmanaged && ck !== undefined && desiredKeys.has(ck) && !isNodeItem(item);
      if (isNodeItem(item) && !contains(after, item)) out.push(`${key}: node entry lost or changed: ${JSON.stringify(item)}`);
      if (!isOwned && !adoptable) keep.push(item);
    }
    if (!isSubsequence(keep, after)) out.push(`${key}: unmanaged entries not kept unchanged and in order`);
  }
  if (JSON.stringify(foreignParts(next)) !== JSON.stringify(foreignParts(current))) {
    out.push('data keys, annotations, labels or fields the syncer does not own changed');
  }
  return out;
}

describe('planSync properties', () => {
  test(`unmanaged entries, node entries and foreign data survive every plan that is not refused (numRuns ${RUNS.preserve})`, () => {
    fc.assert(
      fc.property(inputArb(), (input) => {
        const plan = planSync(input);
        expect(violations(input, plan.next, plan.refusals.length > 0)).toEqual([]);
        // A renderer that cannot read back what it wrote would block syncs forever.
        expect(plan.refusals.filter((r) => r.code === 'render-roundtrip')).toEqual([]);
        // No change → no guard ran → nothing to refuse; a create without entries is no create.
        if (!plan.changed) expect(plan.refusals).toEqual([]);
      }),
      { numRuns: RUNS.preserve },
    );
  });

  test(`a second plan on the result of the first is a no-op (numRuns ${RUNS.idempotent})`, () => {
    fc.assert(
      fc.property(inputArb(), (input) => {
        const first = planSync(input);
        fc.pre(first.refusals.length === 0);
        const second = planSync({ ...input, current: first.next });
        expect({ changed: second.changed, changes: second.changes, refusals: second.refusals }).toEqual({ changed: false, changes: [], refusals: [] });
        expect(second.next).toEqual(first.next);
        // The managed set is recorded exactly once.
        const owned = first.next.metadata.annotations?.[OWNED_ANNOTATION];
        if (owned !== undefined) expect(readOwned(first.next).malformed).toBe(false);
      }),
      { numRuns: RUNS.idempotent },
    );
  });

  // The oracle itself must be able to fail: hand it broken results.
  test('the preservation oracle flags a lost unmanaged entry, a changed node entry and a changed foreign key', () => {
    const current: ConfigMapObject = {
      metadata: { name: 'aws-auth', annotations: { team: 'x' } },
      data: {
        mapRoles: `- rolearn: arn:aws:iam::${ACCOUNT}:role/hand\n  groups: [view]\n- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes]\n`,
        mapAccounts: '- "111122223333"\n',
      },
    };
    const input: SyncPlanInput = { current, snapshot: { roles: [], users: [], groups: [] }, policy: basePolicy() };
    const ok = structuredClone(current);
    expect(violations(input, ok, false)).toEqual([]);
    const lost = structuredClone(current);
    lost.data!.mapRoles = `- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes]\n`;
    expect(violations(input, lost, false)).toEqual([expect.stringContaining('unmanaged entries not kept')]);
    const node = structuredClone(current);
    node.data!.mapRoles = `- rolearn: arn:aws:iam::${ACCOUNT}:role/hand\n  groups: [view]\n- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes, x]\n`;
    expect(violations(input, node, false)).toEqual(expect.arrayContaining([expect.stringContaining('node entry lost')]));
    const foreign = structuredClone(current);
    foreign.data!.mapAccounts = '- "111122223333"';
    expect(violations(input, foreign, false)).toEqual([expect.stringContaining('not own changed')]);
  });
});

describe('planSync: counterexamples found by the properties', () => {
  const policy = basePolicy();
  const dev = { arn: `arn:aws:iam::${ACCOUNT}:role/dev`, roleName: 'dev', path: '/', tags: { 'aws-auth-syncer/prod/groups': 'dev' } };
  const snapshot = { roles: [dev], users: [], groups: [] };

  // Found by the preservation property: with force, a list item that is not a mapping
  // (`- just-a-string`, `- ` (null), `- [a]`) used to be rewritten as `- value: just-a-string`
  // whenever its key was re-rendered (parse kept it as raw `{ value: item }`). Fixed in parse.ts
  // (raw is now the item itself); kept as a regression test.
  test('force keeps a non-mapping entry as it is (not wrapped in `value:`)', () => {
    const current: ConfigMapObject = {
      metadata: { name: 'aws-auth' },
      data: { mapRoles: `- just-a-string\n- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes]\n` },
    };
    const input: SyncPlanInput = { current, snapshot, policy, force: true };
    const plan = planSync(input);
    expect(plan.refusals).toEqual([]);
    expect(plan.changed).toBe(true);
    expect(readList(plan.next.data!.mapRoles)!.slice(0, 1)).toEqual(['just-a-string']);
  });

  // Was a bug (fixed): a recursive YAML anchor in the current aws-auth (`- &a {x: *a}`) made planSync
  // throw "Converting circular structure to JSON". go-yaml rejects such a document ("anchor 'a'
  // value contains itself"), and so does parseYaml11 now: the key is unreadable, kept verbatim,
  // and a plan that would change anything is refused until forced.
  test('a recursive anchor in mapRoles is reported, not thrown', () => {
    const current: ConfigMapObject = { metadata: { name: 'aws-auth' }, data: { mapRoles: '- &a {x: *a}\n', mapUsers: '[]\n' } };
    const parsed = parseAwsAuth(current);
    expect(parsed.unreadableKeys).toEqual(['mapRoles']);
    expect(parsed.problems[0]!.reason).toMatch(/recursive/);
    const plan = planSync({ current, snapshot, policy });
    expect(plan.next.data!.mapRoles).toBe('- &a {x: *a}\n');
    if (plan.changed) expect(plan.refusals.map((r) => r.code)).toContain('current-unparseable');
  });
});
