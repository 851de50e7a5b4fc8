/**
 * Tag values are written by whoever may tag an IAM role or user. No value — Unicode, line and
 * paragraph separators, control characters, YAML syntax, other principals' names, 10 KB — may
 * add, remove or change any entry other than the tagged principal's own, make the result
 * unreadable, grant what config does not allow (system:masters only when tags.allowedGroups
 * lists it; never a node or reserved group), or give the principal a username that could
 * impersonate someone (such a tag falls back to the default username, with a warning).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { viewAwsAuth, viewProblems } from '../../../lib/core/awsauth.js';
import { groupProblem, NODE_GROUPS, RESERVED_TAG_USERNAME_PREFIXES, splitGroups, usernameProblem } from '../../../lib/core/names.js';
import { planSync } from '../../../lib/core/plan.js';
import type { SyncPolicy } from '../../../lib/core/policy.js';
import { MAP_KEYS, type ConfigMapObject, type IamSnapshot } from '../../../lib/core/types.js';
import { ACCOUNT, RUNS, TAG_GROUPS, TAG_USERNAME, basePolicy, blockItems, hostileTagValue } from './arbitraries.js';

/** Everyone but the victim: tagged roles (one with an SSO path), a tagged user, a group member. */
const others: IamSnapshot = {
  roles: [
    { arn: `arn:aws:iam::${ACCOUNT}:role/Admin`, roleName: 'Admin', path: '/', tags: { [TAG_GROUPS]: 'system:masters' } },
    { arn: `arn:aws:iam::${ACCOUNT}:role/Dev`, roleName: 'Dev', path: '/', tags: { [TAG_GROUPS]: 'dev view', [TAG_USERNAME]: 'dev-team' } },
    {
      arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_0123`,
      roleName: 'AWSReservedSSO_Ops_0123',
      path: '/aws-reserved/sso.amazonaws.com/eu-west-1/',
      tags: { [TAG_GROUPS]: 'ops' },
    },
  ],
  users: [
    { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, userName: 'alice', path: '/', groups: [], tags: { [TAG_GROUPS]: 'view' } },
    { arn: `arn:aws:iam::${ACCOUNT}:user/team/bob`, userName: 'bob', path: '/team/', groups: ['Devs'], tags: {} },
  ],
  groups: [{ arn: `arn:aws:iam::${ACCOUNT}:group/Devs`, groupName: 'Devs', path: '/' }],
};

/** Tags may grant any group but system:masters (the default), or system:masters too. */
const POLICIES: SyncPolicy[] = [
  basePolicy({ groupMappings: [{ iamGroup: 'Devs', kubernetesGroups: ['dev'] }] }),
  basePolicy({ groupMappings: [{ iamGroup: 'Devs', kubernetesGroups: ['dev'] }], tags: { allowedGroups: ['*', 'system:masters'] } }),
];

/** Hand-written entries the syncer does not own: a node role, an admin, a user admin. */
const CURRENT: ConfigMapObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '7' },
  data: {
    mapRoles: [
      `- rolearn: arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole`,
      '  username: system:node:{{EC2PrivateDNSName}}',
      '  groups: [system:bootstrappers, system:nodes]',
      `- rolearn: arn:aws:iam::${ACCOUNT}:role/BreakGlass # ask #platform`,
      '  username: break-glass',
      '  groups: [system:masters]',
      '',
    ].join('\n'),
    mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/root-ish\n  username: root-ish\n  groups: [system:masters]\n`,
    mapAccounts: '- "444455556666"\n',
  },
};

type Victim = { kind: 'role' | 'user'; groups?: string; username?: string };

const victimArn = (kind: 'role' | 'user'): string => `arn:aws:iam::${ACCOUNT}:${kind}/victim`;
const defaultUsername = (kind: 'role' | 'user'): string => (kind === 'role' ? `arn:aws:sts::${ACCOUNT}:assumed-role/victim/{{SessionName}}` : 'victim');

function snapshotWith(v: Victim): IamSnapshot {
  const tags: Record<string, string> = {};
  if (v.groups !== undefined) tags[TAG_GROUPS] = v.groups;
  if (v.username !== undefined) tags[TAG_USERNAME] = v.username;
  const s = structuredClone(others);
  if (v.kind === 'role') s.roles.push({ arn: victimArn('role'), roleName: 'victim', path: '/', tags });
  else s.users.push({ arn: victimArn('user'), userName: 'victim', path: '/', groups: [], tags });
  return s;
}

/** A key's text with the victim's entry cut out (line by line, without reading YAML). */
function withoutVictim(text: string | undefined, kind: 'role' | 'user'): string | undefined {
  if (text === undefined) return undefined;
  const items = blockItems(text);
  if (items === undefined) return `(not a block list) ${text}`;
  return items.filter((i) => !i.includes(`:${kind}/victim`)).join('\n');
}

const victimArb: fc.Arbitrary<Victim> = fc.record(
  {
    kind: fc.constantFrom('role' as const, 'user' as const),
    groups: fc.oneof(
      hostileTagValue,
      hostileTagValue.map((h) => `dev ${h} view`),
    ),
    username: hostileTagValue,
  },
  { requiredKeys: ['kind'] },
);

/** The starting point: nothing yet, hand-written entries only, or the result of an earlier sync
 * in which the victim was mapped benignly (so the hostile value is an update or a removal). */
const startArb = fc.constantFrom('none', 'hand-written', 'synced-before');

function startFor(start: string, kind: 'role' | 'user', policy: SyncPolicy): ConfigMapObject | null {
  if (start === 'none') return null;
  if (start === 'hand-written') return structuredClone(CURRENT);
  return planSync({ current: structuredClone(CURRENT), snapshot: snapshotWith({ kind, groups: 'dev' }), policy }).next;
}

/** Characters go-yaml rejects or reads as line breaks, and tabs: never written raw. */
// eslint-disable-next-line no-control-regex
const UNWRITABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/u;

describe('hostile tag values', () => {
  test(`a tag value never touches another entry and the result always reads back cleanly (numRuns ${RUNS.injection})`, () => {
    fc.assert(
      fc.property(victimArb, startArb, fc.constantFrom(...POLICIES), (victim, start, policy) => {
        const current = startFor(start, victim.kind, policy);
        const benign = planSync({ current, snapshot: snapshotWith({ kind: victim.kind, groups: 'dev' }), policy });
        const hostile = planSync({ current, snapshot: snapshotWith(victim), policy });

        // Nothing refused: not the read-back check, not the node or admin guards.
        expect(hostile.refusals).toEqual([]);
        // Everybody else's entries: the same text, in the same order; other data byte for byte.
        for (const key of MAP_KEYS) expect(withoutVictim(hostile.next.data?.[key], victim.kind)).toBe(withoutVictim(benign.next.data?.[key], victim.kind));
        expect(hostile.next.data?.mapAccounts).toBe(benign.next.data?.mapAccounts);
        // The whole result reads, in both keys, with no problem at all, and holds no character
        // go-yaml rejects or breaks lines at.
        const view = viewAwsAuth(hostile.next, 'aws');
        expect(viewProblems(view)).toEqual([]);
        for (const key of MAP_KEYS) expect(hostile.next.data?.[key] ?? '').not.toMatch(UNWRITABLE);

        // The victim's own entry, if any: one entry, only allowed names, taken from its tags.
        const own = [view.mapRoles, view.mapUsers].flatMap((k) => k.entries).filter((e) => e.arn.toLowerCase() === victimArn(victim.kind));
        expect(own.length).toBeLessThanOrEqual(1);
        const requested = splitGroups(victim.groups ?? '');
        const allowMasters = policy.tags.allowedGroups.includes('system:masters');
        for (const e of own) {
          expect(e.key).toBe(victim.kind === 'role' ? 'mapRoles' : 'mapUsers');
          for (const g of e.groups) {
            expect(groupProblem(g)).toBeUndefined();
            expect(requested).toContain(g);
            expect(NODE_GROUPS).not.toContain(g);
            if (!allowMasters) expect(g).not.toBe('system:masters');
          }
          // The tag's username, or (when it could impersonate someone) the default one.
          expect(usernameProblem(e.username)).toBeUndefined();
          expect([victim.username, defaultUsername(victim.kind)]).toContain(e.username);
          if (e.username !== defaultUsername(victim.kind)) {
            expect(RESERVED_TAG_USERNAME_PREFIXES.some((p) => e.username.toLowerCase().startsWith(p))).toBe(false);
            const everyoneElse = [view.mapRoles, view.mapUsers].flatMap((k) => k.entries).filter((x) => x !== e);
            expect(everyoneElse.map((x) => x.username)).not.toContain(e.username);
            expect(everyoneElse.map((x) => x.arn.toLowerCase())).not.toContain(e.username.toLowerCase());
          }
          if (victim.username !== undefined && e.username !== victim.username) {
            expect(hostile.warnings.some((w) => w.arn === victimArn(victim.kind))).toBe(true);
          }
        }
        // A skipped or trimmed victim is always explained.
        const written = own[0]?.groups ?? [];
        if (requested.some((g) => !written.includes(g))) {
          expect(hostile.warnings.some((w) => w.arn !== undefined && w.arn.toLowerCase().includes('victim'))).toBe(true);
        }
      }),
      { numRuns: RUNS.injection },
    );
  });

  test('the text oracle tells entries apart without reading YAML', () => {
    const text = `# head\n- rolearn: arn:aws:iam::${ACCOUNT}:role/a\n  groups: [x]\n# about the victim\n- rolearn: arn:aws:iam::${ACCOUNT}:role/victim\n  groups:\n    - y\n- rolearn: arn:aws:iam::${ACCOUNT}:role/b\n`;
    expect(withoutVictim(text, 'role')).toBe(`- rolearn: arn:aws:iam::${ACCOUNT}:role/a\n  groups: [x]\n- rolearn: arn:aws:iam::${ACCOUNT}:role/b`);
    expect(withoutVictim('[{"rolearn": "x"}]', 'role')).toMatch(/^\(not a block list\)/);
  });
});
