/**
 * Invariants 1, 2 and 5 as properties of planSync over random (often hostile) current aws-auth
 * objects, IAM snapshots and policies:
 * - entries the syncer may not touch (not owned, not adoptable) and node entries come through
 *   every plan that is not refused: with their exact text when the key is a block list that can
 *   be spliced, with their value otherwise; keys the syncer cannot read are kept byte for byte;
 *   every other part of the ConfigMap is kept byte for byte;
 * - the renderer never fails its own read-back guard;
 * - planning again on the result is a no-op.
 * The oracles cut entries out of the text line by line and read values with an independent
 * YAML library; they never ask the planner which entries it kept.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { viewAwsAuth } from '../../../lib/core/awsauth.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken, readOwned } from '../../../lib/core/ownership.js';
import { planSync, type SyncPlanInput } from '../../../lib/core/plan.js';
import { MAP_KEYS, type ConfigMapObject } from '../../../lib/core/types.js';
import {
  ACCOUNT,
  CLUSTER,
  RUNS,
  basePolicy,
  blockItems,
  contains,
  foreignParts,
  isNodeItem,
  isSubsequence,
  mayChange,
  occursInOrder,
  planInputArb,
  readList,
} from './arbitraries.js';

const inputArb: fc.Arbitrary<SyncPlanInput> = planInputArb();

/** Check the preservation invariants on one plan; returns the violations found. */
function violations(input: SyncPlanInput, next: ConfigMapObject, refused: boolean): string[] {
  const out: string[] = [];
  const current = input.current;
  if (!current) return out;
  const view = viewAwsAuth(current, input.policy.partition);
  const changeable = mayChange(input);
  for (const key of MAP_KEYS) {
    const text = current.data?.[key];
    const state = view[key].state;
    if (state === 'unsure' || state === 'broken') {
      // The syncer cannot read it: kept byte for byte (it may hold node mappings).
      if (next.data?.[key] !== text) out.push(`${key}: a ${state} key was not kept byte for byte`);
      continue;
    }
    const nextText = next.data?.[key];
    if (refused || nextText === text) continue;
    const before = readList(text) ?? [];
    const after = readList(nextText);
    if (after === undefined) {
      out.push(`${key}: the next text is not a list to an independent YAML reader: ${JSON.stringify(nextText)}`);
      continue;
    }
    const keep = before.filter((item) => !changeable(key, item));
    for (const item of before) if (isNodeItem(item) && !contains(after, item)) out.push(`${key}: node entry lost or changed: ${JSON.stringify(item)}`);
    if (!isSubsequence(keep, after)) out.push(`${key}: entries the syncer may not touch were not kept, in order`);
    // A block list is spliced: what is kept keeps its exact text, comments inside it included.
    const items = text === undefined ? undefined : blockItems(text);
    if (items !== undefined && items.length === before.length) {
      const kept = items.filter((_t, i) => !changeable(key, before[i]));
      if (!occursInOrder(kept, nextText ?? '')) out.push(`${key}: entries the syncer may not touch lost their exact text`);
    }
  }
  if (JSON.stringify(foreignParts(next)) !== JSON.stringify(foreignParts(current))) {
    out.push('data keys, annotations, labels or fields the syncer does not own changed');
  }
  return out;
}

describe('planSync properties', () => {
  test(`untouchable entries, node entries and foreign data survive every plan that is not refused (numRuns ${RUNS.preserve})`, () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const plan = planSync(input);
        expect(violations(input, plan.next, plan.refusals.length > 0)).toEqual([]);
        // A renderer that cannot read back what it wrote would block syncs forever.
        expect(plan.refusals.filter((r) => r.code === 'render-roundtrip')).toEqual([]);
        // No change → no guard ran → nothing to refuse.
        if (!plan.changed) expect(plan.refusals).toEqual([]);
      }),
      { numRuns: RUNS.preserve },
    );
  });

  test(`a second plan on the result of the first is a no-op (numRuns ${RUNS.idempotent})`, () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const first = planSync(input);
        fc.pre(first.refusals.length === 0);
        const second = planSync({ ...input, current: first.next });
        expect({ changed: second.changed, changes: second.changes, access: second.access, refusals: second.refusals }).toEqual({
          changed: false,
          changes: [],
          access: [],
          refusals: [],
        });
        expect(second.next).toEqual(first.next);
        // The managed set is recorded once, in the v2 form, bound to this cluster.
        const owned = first.next.metadata.annotations?.[OWNED_ANNOTATION];
        if (owned !== undefined) {
          expect(owned).toMatch(/^v2;[^;]+;([0-9a-f]{16}(,[0-9a-f]{16})*)?$/);
          expect(readOwned(first.next, { name: input.policy.cluster, arn: input.policy.clusterArn }).problem).toBeUndefined();
        }
      }),
      { numRuns: RUNS.idempotent },
    );
  });

  // The oracle itself must be able to fail: hand it broken results.
  test('the preservation oracle flags a lost entry, a changed node entry, lost text and a changed foreign key', () => {
    const hand = `- rolearn: arn:aws:iam::${ACCOUNT}:role/hand # kept as written\n  groups: [view]\n`;
    const node = `- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes]\n`;
    const current: ConfigMapObject = {
      metadata: { name: 'aws-auth', annotations: { team: 'x' } },
      data: { mapRoles: hand + node, mapAccounts: '- "111122223333"\n' },
    };
    const input: SyncPlanInput = { current, snapshot: { roles: [], users: [], groups: [] }, policy: basePolicy() };
    const withNew = (mapRoles: string): ConfigMapObject => ({ ...structuredClone(current), data: { ...current.data, mapRoles } });
    const added = `- rolearn: arn:aws:iam::${ACCOUNT}:role/new\n  groups: [dev]\n`;
    expect(violations(input, withNew(hand + added + node), false)).toEqual([]);
    expect(violations(input, withNew(node + added), false)).toEqual([
      expect.stringContaining('may not touch were not kept'),
      expect.stringContaining('lost their exact text'),
    ]);
    expect(violations(input, withNew(hand + node.replace('[system:nodes]', '[system:nodes, x]')), false)).toEqual(
      expect.arrayContaining([expect.stringContaining('node entry lost')]),
    );
    expect(violations(input, withNew(hand.replace(' # kept as written', '') + node + added), false)).toEqual([
      expect.stringContaining('lost their exact text'),
    ]);
    const foreign = withNew(hand + node + added);
    foreign.data!.mapAccounts = '- "111122223333"';
    expect(violations(input, foreign, false)).toEqual([expect.stringContaining('does not own changed')]);
    const unsure = { ...input, current: withNew('- &a {rolearn: x}\n') };
    expect(violations(unsure, withNew('[]\n'), false)).toEqual([expect.stringContaining('kept byte for byte')]);
  });

  test('the oracle lets owned and adoptable entries go', () => {
    const mine = `- rolearn: arn:aws:iam::${ACCOUNT}:role/dev\n  groups: [dev]\n`;
    const theirs = `- rolearn: arn:aws:iam::${ACCOUNT}:role/ops\n  groups: [ops]\n`;
    const current: ConfigMapObject = {
      metadata: {
        name: 'aws-auth',
        annotations: { [OWNED_ANNOTATION]: formatOwned(CLUSTER, [ownershipToken(CLUSTER, 'mapRoles', `arn:aws:iam::${ACCOUNT}:role/dev`)]) },
      },
      data: { mapRoles: mine + theirs },
    };
    const input: SyncPlanInput = { current, snapshot: { roles: [], users: [], groups: [] }, policy: basePolicy() };
    expect(violations(input, { ...current, data: { mapRoles: theirs } }, false)).toEqual([]);
    expect(violations(input, { ...current, data: { mapRoles: mine } }, false)).toEqual([
      expect.stringContaining('may not touch were not kept'),
      expect.stringContaining('lost their exact text'),
    ]);
    const ops = { arn: `arn:aws:iam::${ACCOUNT}:role/ops`, roleName: 'ops', path: '/', tags: { [`aws-auth-syncer/${CLUSTER}/groups`]: 'ops' } };
    const adopting = { ...input, snapshot: { roles: [ops], users: [], groups: [] }, policy: basePolicy({ adoptUnmanaged: true }) };
    expect(violations(adopting, { ...current, data: { mapRoles: mine } }, false)).toEqual([]);
  });
});

describe('planSync: counterexamples found by the properties', () => {
  const policy = basePolicy();
  const dev = { arn: `arn:aws:iam::${ACCOUNT}:role/dev`, roleName: 'dev', path: '/', tags: { 'aws-auth-syncer/prod/groups': 'dev' } };
  const snapshot = { roles: [dev], users: [], groups: [] };

  // Found by the old preservation property: with force, a list item that is not a mapping
  // (`- just-a-string`, `- ` (null), `- [a]`) was rewritten as `- value: just-a-string`. The
  // splicing renderer keeps such items as they are written; kept as a regression test.
  test('a non-mapping entry is kept as it is written when its key is rewritten', () => {
    const text = `- just-a-string\n-\n- [a]\n- rolearn: arn:aws:iam::${ACCOUNT}:role/node\n  groups: [system:nodes]\n`;
    const plan = planSync({ current: { metadata: { name: 'aws-auth' }, data: { mapRoles: text } }, snapshot, policy });
    expect(plan.refusals).toEqual([]);
    expect(plan.changed).toBe(true);
    expect(plan.next.data!.mapRoles!.startsWith(text)).toBe(true);
  });

  // Was a crash in the old core: a recursive YAML anchor (`- &a {x: *a}`). go-yaml rejects it
  // ("anchor 'a' value contains itself"); the strict reader does not read anchors at all.
  test('a recursive anchor in mapRoles makes the key unsure: kept verbatim, refused without force', () => {
    const current: ConfigMapObject = { metadata: { name: 'aws-auth' }, data: { mapRoles: '- &a {x: *a}\n', mapUsers: '[]\n' } };
    expect(viewAwsAuth(current, 'aws').mapRoles.state).toBe('unsure');
    // A tagged user, so that the plan has something to write (to mapUsers).
    const alice = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userName: 'alice', path: '/', groups: [], tags: { 'aws-auth-syncer/prod/groups': 'dev' } };
    const snapshot = { roles: [dev], users: [alice], groups: [] };
    const plan = planSync({ current, snapshot, policy });
    expect(plan.next.data!.mapRoles).toBe('- &a {x: *a}\n');
    expect(plan.refusals.map((r) => r.code)).toEqual(['current-unreadable']);
    const forced = planSync({ current, snapshot, policy, force: true });
    expect(forced.refusals).toEqual([]);
    expect(forced.next.data!.mapRoles).toBe('- &a {x: *a}\n');
    expect(forced.next.data!.mapUsers).toContain('userarn: arn:aws:iam::111122223333:user/alice');
    expect(forced.warnings.map((w) => w.code)).toContain('unreadable-key');
  });
});
