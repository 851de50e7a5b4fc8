import { describe, expect, test } from '@jest/globals';
import { effectiveAccess, outcomeOf, type AuthenticatorVersion } from '../../../lib/core/access.js';
import { isSkippable, viewAwsAuth } from '../../../lib/core/awsauth.js';
import { awsAuth } from './support.js';

const A = 'arn:aws:iam::111122223333';
const read = (data: Record<string, string>) => {
  const view = viewAwsAuth(awsAuth(data), 'aws');
  return { view, access: effectiveAccess(view) };
};
const outcome = (data: Record<string, string>, id: string, v: AuthenticatorVersion = 'v0.7.18') => outcomeOf(read(data).access[v], id);

describe('effective access follows the authenticator', () => {
  test('a role gets what its entry grants; its sessions match the path-less ARN in any case', () => {
    expect(outcome({ mapRoles: `- rolearn: ${A}:role/Admin\n  username: admin\n  groups: [system:masters]\n` }, `${A}:role/admin`)).toEqual({
      kind: 'mapped',
      username: 'admin',
      groups: ['system:masters'],
    });
  });
  test('a duplicate role ARN: the last entry wins, in both versions', () => {
    const data = { mapRoles: `- rolearn: ${A}:role/x\n  groups: [a]\n- rolearn: ${A}:role/X\n  groups: [b]\n` };
    for (const v of ['v0.6.13', 'v0.7.18'] as const) expect(outcome(data, `${A}:role/x`, v)).toMatchObject({ kind: 'mapped', groups: ['b'] });
  });
  test('user entries differing only in case: last wins in v0.6.13, a coin toss in v0.7.18', () => {
    const data = {
      mapUsers: `- userarn: ${A}:user/Bob\n  username: bob\n  groups: [view]\n- userarn: ${A}:user/bob\n  username: bob\n  groups: [system:masters]\n`,
    };
    expect(outcome(data, `${A}:user/bob`, 'v0.6.13')).toMatchObject({ kind: 'mapped', groups: ['system:masters'] });
    expect(outcome(data, `${A}:user/bob`, 'v0.7.18')).toMatchObject({ kind: 'ambiguous' });
  });
  test('rolearn with sso: kept by v0.6.13, dropped by v0.7.18 (Validate)', () => {
    const data = { mapRoles: `- rolearn: ${A}:role/x\n  sso: {permissionSetName: P, accountID: "111122223333"}\n  groups: [a]\n` };
    expect(outcome(data, `${A}:role/x`, 'v0.6.13').kind).toBe('mapped');
    expect(outcome(data, `${A}:role/x`, 'v0.7.18').kind).toBe('none');
  });
  test('mapRoles is looked up before mapUsers, and either key can hold either kind', () => {
    const data = {
      mapRoles: `- rolearn: ${A}:user/alice\n  username: from-roles\n`,
      mapUsers: `- userarn: ${A}:user/alice\n  username: from-users\n- userarn: ${A}:role/r\n  username: role-in-users\n`,
    };
    expect(outcome(data, `${A}:user/alice`)).toMatchObject({ username: 'from-roles' });
    expect(outcome(data, `${A}:role/r`)).toMatchObject({ username: 'role-in-users' });
  });
  test('mapAccounts lets the rest of an account in, with no groups', () => {
    const data = { mapAccounts: '- "111122223333"\n- 444455556666\n' };
    expect(outcome(data, `${A}:role/anyone`)).toEqual({ kind: 'account' });
    expect(outcome(data, 'arn:aws:iam::444455556666:user/u')).toEqual({ kind: 'account' });
    expect(outcome(data, 'arn:aws:iam::777788889999:user/u')).toEqual({ kind: 'none' });
  });
  test('dead entries grant nothing: a role with a path, an STS ARN, another partition, an NBSP', () => {
    const { access, view } = read({
      mapRoles: [
        `- rolearn: ${A}:role/sso/Admin\n  groups: [system:masters]`,
        `- rolearn: arn:aws:sts::111122223333:assumed-role/Admin/s\n  groups: [system:masters]`,
        `- rolearn: arn:aws-cn:iam::111122223333:role/Admin\n  groups: [system:masters]`,
        `- rolearn: "${A}:role/Admin\u00a0"\n  groups: [system:masters]`,
      ].join('\n'),
    });
    expect(access['v0.7.18'].grants.size).toBe(0);
    expect(view.mapRoles.entries.map((e) => e.target.kind)).toEqual(['dead', 'dead', 'dead', 'dead']);
  });
  test('an item that is not a mapping is dead; the others still grant', () => {
    const { access } = read({ mapUsers: `- just a string\n- userarn: ${A}:user/a\n  groups: [g]\n` });
    expect([...access['v0.7.18'].grants.keys()]).toEqual([`${A}:user/a`]);
  });
});

describe('keys the syncer cannot read the same way are unsure, never guessed', () => {
  test.each([
    ['a field matched only through Go folding', `- rolearn: ${A}:role/a\n  group\u017f: [system:masters]\n`, /folding/],
    ['two spellings of one field', `- rolearn: ${A}:role/a\n  Groups: [a]\n  groups: [b]\n`, /both/],
    ['groups that is not a list', `- rolearn: ${A}:role/a\n  groups: system:masters\n`, /not a list/],
    ['a number in groups', `- rolearn: ${A}:role/a\n  groups: [1]\n`, /strings/],
    ['a username that is a boolean', `- rolearn: ${A}:role/a\n  username: yes\n`, /boolean/],
    ['an ARN with a Kelvin sign', `- rolearn: ${A}:role/\u212a\n`, /fold/],
    ['a merge key', `- <<: {groups: [system:masters]}\n  rolearn: ${A}:role/a\n`, /line 1/],
  ])('%s', (_name, text, why) => {
    const { view, access } = read({ mapRoles: text });
    expect(view.mapRoles.state).toBe('unsure');
    expect(view.mapRoles.reason).toMatch(why);
    expect(access['v0.6.13'].unknownKeys).toEqual(['mapRoles']);
  });
  test('a key the authenticator cannot read either is broken and grants nothing', () => {
    const { view, access } = read({ mapRoles: `- rolearn: ${A}:role/a\u007f\n`, mapUsers: `{userarn: ${A}:user/u}\n` });
    expect([view.mapRoles.state, view.mapUsers.state]).toEqual(['broken', 'broken']);
    expect(access['v0.7.18'].grants.size).toBe(0);
  });
});

test.each([
  ['', true],
  ['  \n', true],
  ['``', true],
  ["''", true],
  ['""', true],
  ['\u00a0', true],
  ['\ufeff', false],
  ['[]', false],
])('isSkippable(%j) = %s (Go strings.TrimSpace)', (text, want) => {
  expect(isSkippable(text)).toBe(want);
});
