/**
 * The access-entries planner as properties over random IAM snapshots, policies and current entries
 * (owned by this cluster, by another, or by no one; stale or not; usernames that collide with
 * the tags'):
 * - an entry the syncer does not own is never named by a call (never updated, deleted, created
 *   over, or given or stripped of a policy);
 * - the plan never throws;
 * - planning again on the entries the calls leave (applyCalls, EKS's semantics) is a no-op.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import {
  applyCalls,
  entryKey,
  isOwned,
  principalIndex,
  staleness,
  type PrincipalIndex,
  OWNED_TAG,
  planEntriesRestore,
  planEntriesSync,
  PRINCIPAL_ID_TAG,
  type AccessEntry,
  type CurrentEntries,
} from '../../../lib/core/access-entries.js';
import type { IamSnapshot } from '../../../lib/core/types.js';
import { ACCOUNT, CLUSTER, RUNS, SSO_PATH, SSO_ROLE, policyArb, selfArnsArb, snapshotArb } from './arbitraries.js';

const ADMIN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const VIEW = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const EDIT = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

/** Principals EKS may hold entries for beyond the snapshot's: deleted ones, the creator, nodes. */
const EXTRA_PRINCIPALS = [
  `arn:aws:iam::${ACCOUNT}:role/cluster-creator`,
  `arn:aws:iam::${ACCOUNT}:role/Admin`,
  `arn:aws:iam::${ACCOUNT}:user/alice`,
  `arn:aws:iam::${ACCOUNT}:role${SSO_PATH}${SSO_ROLE}`,
  `arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole`,
  `arn:aws:iam::444455556666:role/Dev`,
  // The same role name under another path (one of the two is for a role deleted since).
  `arn:aws:iam::444455556666:role/team/Dev`,
  `arn:aws:iam::${ACCOUNT}:role/team/Admin`,
];

/** Snapshots as IAM can hold them (a role name once per account, whatever the path), whose
 * principals sometimes carry the unique id IAM reports. */
const roleKey = (arn: string): string => arn.replace(/:role\/.*\//, ':role/').toLowerCase();
const snapshotWithIds: fc.Arbitrary<IamSnapshot> = snapshotArb
  .map((s) => ({ ...s, roles: s.roles.filter((r, i) => s.roles.findIndex((x) => roleKey(x.arn) === roleKey(r.arn)) === i) }))
  .chain((s) =>
    fc
      .tuple(
        fc.array(fc.option(fc.constantFrom('AROA1', 'AROA2'), { nil: undefined }), { minLength: s.roles.length, maxLength: s.roles.length }),
        fc.array(fc.option(fc.constantFrom('AIDA1', 'AIDA2'), { nil: undefined }), { minLength: s.users.length, maxLength: s.users.length }),
      )
      .map(([rids, uids]) => ({
        ...s,
        roles: s.roles.map((r, i) => (rids[i] === undefined ? r : { ...r, id: rids[i] })),
        users: s.users.map((u, i) => (uids[i] === undefined ? u : { ...u, id: uids[i] })),
      })),
  );

const entryArb = (principalArn: string): fc.Arbitrary<{ entry: AccessEntry; policies: { policyArn: string; scope: { type: 'cluster' } }[] }> =>
  fc
    .record({
      owner: fc.constantFrom(undefined, CLUSTER, CLUSTER, 'staging'),
      principalId: fc.constantFrom(undefined, 'AROA1', 'AIDA2', 'AROAOLD'),
      username: fc.constantFrom('', 'alice', 'dev', 'admin', 'team:{{SessionName}}', `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/{{SessionName}}`, 'ops:x'),
      groups: fc.subarray(['dev', 'view', 'ops']),
      type: fc.constantFrom('STANDARD', 'STANDARD', 'STANDARD', 'EC2_LINUX'),
      policies: fc.subarray([ADMIN, VIEW, EDIT]),
    })
    .map(({ owner, principalId, username, groups, type, policies }) => ({
      entry: {
        principalArn,
        kubernetesGroups: type === 'STANDARD' ? groups : [],
        username,
        type,
        tags: { ...(owner ? { [OWNED_TAG]: owner } : {}), ...(owner && principalId ? { [PRINCIPAL_ID_TAG]: principalId } : {}) },
      },
      policies: type === 'STANDARD' ? policies.map((policyArn) => ({ policyArn, scope: { type: 'cluster' as const } })) : [],
    }));

const inputArb = fc.tuple(snapshotWithIds, policyArb, selfArnsArb).chain(([snapshot, policy, selfArns]) => {
  // EKS holds one entry per ARN, compared without case (IAM names are unique without case).
  const all = [...snapshot.roles.map((r) => r.arn), ...snapshot.users.map((u) => u.arn), ...EXTRA_PRINCIPALS];
  const principals = all.filter((a, i) => all.findIndex((b) => b.toLowerCase() === a.toLowerCase()) === i);
  return fc
    .subarray(principals)
    .chain((chosen) => fc.tuple(...chosen.map(entryArb)))
    .map((es): { snapshot: IamSnapshot; policy: typeof policy; selfArns: string[]; current: CurrentEntries } => ({
      snapshot,
      policy,
      selfArns,
      current: { entries: es.map((e) => e.entry), policies: Object.fromEntries(es.map((e) => [e.entry.principalArn, e.policies])) },
    }));
});

/**
 * Cluster admins over the raw entries (not the planner's reading): there may be one when any
 * entry not known to be dead holds the admin policy at cluster scope; there surely is one when
 * every such entry of some identity does (which of an identity's entries works may be unknown).
 */
function admins(c: CurrentEntries, index: PrincipalIndex): { may: boolean; surely: boolean } {
  const byId = new Map<string, boolean[]>();
  for (const e of c.entries) {
    if (staleness(e, index) !== undefined) continue;
    const admin = e.type === 'STANDARD' && (c.policies[e.principalArn] ?? []).some((p) => p.policyArn === ADMIN && p.scope.type === 'cluster');
    byId.set(entryKey(e.principalArn), [...(byId.get(entryKey(e.principalArn)) ?? []), admin]);
  }
  const lists = [...byId.values()];
  return { may: lists.some((l) => l.some(Boolean)), surely: lists.some((l) => l.every(Boolean)) };
}

const noWorse = (before: { may: boolean; surely: boolean }, after: { may: boolean; surely: boolean }): boolean =>
  (!before.surely || after.surely) && (!before.may || after.may);

describe('planEntriesSync properties', () => {
  test(`entries the syncer does not own are never named by a call; a second plan on the result is a no-op (numRuns ${RUNS.idempotent})`, () => {
    let compared = 0;
    let withAdmin = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const first = planEntriesSync(input);
        const unowned = new Set(input.current.entries.filter((e) => !isOwned(e, CLUSTER)).map((e) => e.principalArn));
        expect(first.calls.filter((c) => unowned.has(c.principalArn))).toEqual([]);
        if (first.refusals.length > 0) return;
        const next = applyCalls(input.current, first.calls);
        // Not refused: admins are no worse (a sure one stays sure, a possible one stays possible).
        const index = principalIndex(input.snapshot);
        if (admins(input.current, index).may) {
          expect(noWorse(admins(input.current, index), admins(next, index))).toBe(true);
          withAdmin++;
        }
        const again = planEntriesSync({ ...input, current: next });
        expect(again.refusals).toEqual([]);
        expect(again.calls).toEqual([]);
        expect(again.changed).toBe(false);
        compared++;
      }),
      { numRuns: RUNS.idempotent },
    );
    // The property must have been checked on most inputs, not skipped by refusals.
    expect(compared).toBeGreaterThan(RUNS.idempotent / 2);
    // ... and the admin check on some of them (about 1 in 6 have an admin before; the bound is
    // far enough below that a fair run never misses it).
    expect(withAdmin).toBeGreaterThan(RUNS.idempotent / 30);
  });
});

describe('planEntriesRestore properties', () => {
  test(`a restore after a sync brings the owned entries back as they were; restoring again is a no-op (numRuns ${RUNS.idempotent})`, () => {
    const shape = (c: CurrentEntries) =>
      c.entries
        .filter((e) => isOwned(e, CLUSTER))
        .map((e) => ({
          arn: e.principalArn,
          type: e.type,
          username: e.username,
          groups: [...e.kubernetesGroups].sort(),
          policies: (c.policies[e.principalArn] ?? []).map((p) => `${p.policyArn} ${JSON.stringify(p.scope)}`).sort(),
        }))
        .sort((a, b) => (a.arn < b.arn ? -1 : 1));
    let restored = 0;
    fc.assert(
      fc.property(inputArb, (input) => {
        const sync = planEntriesSync({ ...input, force: true });
        if (sync.refusals.length > 0) return;
        const synced = applyCalls(input.current, sync.calls);
        // The backup is what the sync replaced: the owned entries and their associations before it.
        const back = planEntriesRestore({ current: synced, backup: sync.owned, cluster: CLUSTER, force: true });
        expect(back.refusals).toEqual([]);
        // The same restore without force: not refused means an admin that may exist stays surely.
        const guarded = planEntriesRestore({ current: synced, backup: sync.owned, cluster: CLUSTER });
        if (guarded.refusals.length === 0)
          expect(noWorse(admins(synced, principalIndex(undefined)), admins(applyCalls(synced, guarded.calls), principalIndex(undefined)))).toBe(true);
        const after = applyCalls(synced, back.calls);
        expect(shape(after)).toEqual(shape(input.current).map((e) => ({ ...e, type: 'STANDARD' })));
        expect(planEntriesRestore({ current: after, backup: sync.owned, cluster: CLUSTER }).calls).toEqual([]);
        // Entries it does not own are the same objects before and after.
        expect(after.entries.filter((e) => !isOwned(e, CLUSTER))).toEqual(input.current.entries.filter((e) => !isOwned(e, CLUSTER)));
        restored++;
      }),
      { numRuns: RUNS.idempotent },
    );
    expect(restored).toBeGreaterThan(RUNS.idempotent / 2);
  });
});
