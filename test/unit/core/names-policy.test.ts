import { describe, expect, test } from '@jest/globals';
import { groupProblem, sortedUnique, splitGroups, usernameProblem } from '../../../lib/core/names.js';
import { DEFAULT_ROLE_USERNAME, DEFAULT_USER_USERNAME, renderUsername } from '../../../lib/core/policy.js';

describe('usernameProblem', () => {
  test.each(['alice', 'arn:aws:sts::111122223333:assumed-role/Dev/{{SessionName}}', 'ops.bot@example.com', 'é-ü_1', 'a=b+c'])('accepts %j', (name) => {
    expect(usernameProblem(name)).toBeUndefined();
  });

  test.each([
    ['', /empty/],
    ['x'.repeat(254), /longer than 253/],
    ['a: b', /characters outside/],
    ['- rolearn: x', /characters outside/],
    ['alice\u2028bob', /characters outside/],
    ['alice\u2029bob', /characters outside/],
    ['alice\u0085bob', /characters outside/],
    ['alice\nbob', /characters outside/],
    ['alice bob', /characters outside/],
    ['"alice"', /characters outside/],
    ['alice#x', /characters outside/],
    ['system:anonymous', /reserved "system:"/],
    ['System:Masters', /reserved "system:"/],
    ['system:node:{{EC2PrivateDNSName}}', /reserved "system:"/],
    ['eks:admin', /reserved "eks:"/],
  ])('refuses %j', (name, why) => {
    expect(usernameProblem(name)).toMatch(why);
  });
});

describe('groupProblem', () => {
  test.each(['dev', 'system:masters', 'team/platform', 'read-only@prod', 'é'])('accepts %j', (g) => {
    expect(groupProblem(g)).toBeUndefined();
  });

  test.each([
    ['', /empty/],
    ['system:nodes', /for nodes/],
    ['system:bootstrappers', /for nodes/],
    ['System:Nodes', /reserved namespace/],
    ['system:anonymous', /reserved namespace/],
    ['system:authenticated', /reserved namespace/],
    ['SYSTEM:MASTERS', /reserved namespace/],
    ['eks:foo', /reserved namespace/],
    ['a b', /characters outside/],
    ['{{x}}', /characters outside/],
    ['x'.repeat(254), /longer than 253/],
  ])('refuses %j', (g, why) => {
    expect(groupProblem(g)).toMatch(why);
  });
});

describe('splitGroups', () => {
  test.each([
    ['dev ops', ['dev', 'ops']],
    ['  dev\t\nops  ', ['dev', 'ops']],
    ['dev\u2028ops\u2029qa', ['dev', 'ops', 'qa']],
    ['dev\u0085ops', ['dev', 'ops']],
    ['dev\u00a0ops', ['dev', 'ops']],
    ['', []],
    ['   ', []],
  ])('%j', (value, expected) => {
    expect(splitGroups(value)).toEqual(expected);
  });
});

test('sortedUnique sorts and removes duplicates', () => {
  expect(sortedUnique(['b', 'a', 'b', 'C'])).toEqual(['C', 'a', 'b']);
});

describe('renderUsername', () => {
  test('role default: assumed-role ARN with the session template left for the authenticator', () => {
    expect(renderUsername(DEFAULT_ROLE_USERNAME, { partition: 'aws-cn', accountId: '111122223333', roleName: 'Dev' })).toBe(
      'arn:aws-cn:sts::111122223333:assumed-role/Dev/{{SessionName}}',
    );
  });

  test('user default: the user name', () => {
    expect(renderUsername(DEFAULT_USER_USERNAME, { userName: 'alice', path: '/eng/' })).toBe('alice');
  });

  test('every authenticator template passes through', () => {
    const t = '{{AccountID}}-{{SessionName}}-{{SessionNameRaw}}-{{EC2PrivateDNSName}}-{{AccessKeyID}}';
    expect(renderUsername(t, {})).toBe(t);
  });

  test.each([
    ['unknown placeholder', '{nope}', /unknown placeholder \{nope\}/],
    ['placeholder not available', '{roleName}', /\{roleName\} is not available/],
    ['unknown authenticator template', '{{Nope}}', /unknown authenticator template/],
  ])('throws on %s', (_n, template, why) => {
    expect(() => renderUsername(template, { userName: 'alice' })).toThrow(why);
  });
});
