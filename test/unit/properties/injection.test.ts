/**
 * Tag values are written by whoever may tag an IAM role or user. No value — Unicode, line and
 * paragraph separators, YAML syntax, 10 KB — may add, remove or change any entry other than
 * the tagged principal's own, or make the result unreadable.
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { canonicalKey } from '../../../lib/core/arn.js';
import { groupProblem, splitGroups, usernameProblem } from '../../../lib/core/names.js';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { planSync } from '../../../lib/core/plan.js';
import type { ConfigMapObject, IamSnapshot, MapKey } from '../../../lib/core/types.js';
import { stableJson } from '../../../lib/core/yaml.js';
import { RUNS, quietYamlKeyWarnings, TAG_GROUPS, TAG_USERNAME, basePolicy, hostileTagValue, readList } from './arbitraries.js';

quietYamlKeyWarnings();

const A = '111122223333';

/** Everyone but the victim: tagged roles (one with an SSO path), a tagged user, a group member. */
const others: IamSnapshot = {
  roles: [
    { arn: `arn:aws:iam::${A}:role/Admin`, roleName: 'Admin', path: '/', tags: { [TAG_GROUPS]: 'system:masters' } },
    { arn: `arn:aws:iam::${A}:role/Dev`, roleName: 'Dev', path: '/', tags: { [TAG_GROUPS]: 'dev view', [TAG_USERNAME]: 'dev-team' } },
    {
      arn: `arn:aws:iam::${A}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_0123`,
      roleName: 'AWSReservedSSO_Ops_0123',
      path: '/aws-reserved/sso.amazonaws.com/eu-west-1/',
      tags: { [TAG_GROUPS]: 'ops' },
    },
  ],
  users: [
    { arn: `arn:aws:iam::${A}:user/alice`, userName: 'alice', path: '/', groups: [], tags: { [TAG_GROUPS]: 'view' } },
    { arn: `arn:aws:iam::${A}:user/team/bob`, userName: 'bob', path: '/team/', groups: ['Devs'], tags: {} },
  ],
  groups: [{ arn: `arn:aws:iam::${A}:group/Devs`, groupName: 'Devs', path: '/' }],
};
const policy = basePolicy({ groupMappings: [{ iamGroup: 'Devs', kubernetesGroups: ['dev'] }] });

/** Hand-written entries the syncer does not own: a node role, an admin, an SSO matcher. */
const CURRENT: ConfigMapObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '7' },
  data: {
    mapRoles: [
      `- rolearn: arn:aws:iam::${A}:role/NodeInstanceRole`,
      '  username: system:node:{{EC2PrivateDNSName}}',
      '  groups: [system:bootstrappers, system:nodes]',
      `- rolearn: arn:aws:iam::${A}:role/BreakGlass`,
      '  username: break-glass',
      '  groups: [system:masters]',
      '',
    ].join('\n'),
    mapUsers: `- userarn: arn:aws:iam::${A}:user/root-ish\n  username: root-ish\n  groups: [system:masters]\n`,
    mapAccounts: '- "444455556666"\n',
  },
};

type Victim = { kind: 'role' | 'user'; groups?: string; username?: string };

function snapshotWith(v: Victim): IamSnapshot {
  const tags: Record<string, string> = {};
  if (v.groups !== undefined) tags[TAG_GROUPS] = v.groups;
  if (v.username !== undefined) tags[TAG_USERNAME] = v.username;
  const s = structuredClone(others);
  if (v.kind === 'role') s.roles.push({ arn: `arn:aws:iam::${A}:role/victim`, roleName: 'victim', path: '/', tags });
  else s.users.push({ arn: `arn:aws:iam::${A}:user/victim`, userName: 'victim', path: '/', groups: [], tags });
  return s;
}

const victimKey = (kind: 'role' | 'user'): string => canonicalKey(kind === 'role' ? 'mapRoles' : 'mapUsers', `arn:aws:iam::${A}:${kind}/victim`)!;

/** Every entry of both keys except the victim's, as YAML 1.1 reads them. */
function othersOf(cm: ConfigMapObject, kind: 'role' | 'user'): Record<MapKey, unknown[]> {
  const parsed = parseAwsAuth(cm);
  const out: Record<MapKey, unknown[]> = { mapRoles: [], mapUsers: [] };
  for (const e of parsed.entries) if (e.canonical !== victimKey(kind)) out[e.key].push(e.raw);
  return out;
}

const victimArb: fc.Arbitrary<Victim> = fc.record(
  {
    kind: fc.constantFrom('role' as const, 'user' as const),
    groups: fc.oneof(hostileTagValue, hostileTagValue.map((h) => `dev ${h} view`)),
    username: hostileTagValue,
  },
  { requiredKeys: ['kind'] },
);

/** The starting point: nothing yet, hand-written entries only, or the result of an earlier sync
 * in which the victim was mapped benignly (so the hostile value is an update or a removal). */
const startArb = fc.constantFrom('none', 'hand-written', 'synced-before');

function startFor(start: string, kind: 'role' | 'user'): ConfigMapObject | null {
  if (start === 'none') return null;
  if (start === 'hand-written') return structuredClone(CURRENT);
  return planSync({ current: structuredClone(CURRENT), snapshot: snapshotWith({ kind, groups: 'dev' }), policy }).next;
}

describe('hostile tag values', () => {
  test(`a tag value never touches another entry and the result always reads back cleanly (numRuns ${RUNS.injection})`, () => {
    fc.assert(
      fc.property(victimArb, startArb, (victim, start) => {
        const current = startFor(start, victim.kind);
        const benign = planSync({ current, snapshot: snapshotWith({ kind: victim.kind, groups: 'dev' }), policy });
        const hostile = planSync({ current, snapshot: snapshotWith(victim), policy });

        // Nothing refused: not the round-trip check, not the node or admin guards.
        expect(hostile.refusals).toEqual([]);
        // Everybody else's entries: identical, in the same order.
        expect(stableJson(othersOf(hostile.next, victim.kind))).toBe(stableJson(othersOf(benign.next, victim.kind)));
        // Other data keys byte for byte.
        expect(hostile.next.data?.mapAccounts).toBe(benign.next.data?.mapAccounts);
        // The whole result parses, in both keys, with no problem at all.
        const parsed = parseAwsAuth(hostile.next);
        expect(parsed.problems).toEqual([]);
        for (const key of ['mapRoles', 'mapUsers'] as const) {
          const text = hostile.next.data?.[key];
          if (text !== undefined) expect(readList(text)).toBeDefined();
          if (text !== undefined) expect(text).not.toMatch(/[\u0085\u2028\u2029]/u);
        }
        // The victim's own entry, if any: one entry, only allowed names, taken from its tags.
        const own = parsed.entries.filter((e) => e.canonical === victimKey(victim.kind));
        expect(own.length).toBeLessThanOrEqual(1);
        for (const e of own) {
          expect(e.mapping).toBeDefined();
          const { username, groups } = e.mapping!;
          expect(usernameProblem(username)).toBeUndefined();
          for (const g of groups) {
            expect(groupProblem(g)).toBeUndefined();
            expect(splitGroups(victim.groups ?? '')).toContain(g);
          }
          if (victim.username !== undefined) expect(username).toBe(victim.username);
        }
        // A skipped or trimmed victim is always explained.
        const requested = splitGroups(victim.groups ?? '');
        const written = own[0]?.mapping?.groups ?? [];
        if (requested.some((g) => !written.includes(g))) {
          expect(hostile.warnings.some((w) => w.arn !== undefined && w.arn.toLowerCase().includes('victim'))).toBe(true);
        }
      }),
      { numRuns: RUNS.injection },
    );
  });
});
