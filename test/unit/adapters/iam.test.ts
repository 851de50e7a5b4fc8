import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetAccountAuthorizationDetailsCommand, IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { IamAuthorizationDetailsDirectory } from '../../../lib/adapters/iam.js';
import { DiscoveryError } from '../../../lib/errors.js';

const iamMock = mockClient(IAMClient);
const client = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

const user = (n: number, groups: string[] = ['devs']) => ({
  Path: '/',
  UserName: `user${n}`,
  UserId: `AIDA${n}`,
  Arn: `arn:aws:iam::111122223333:user/user${n}`,
  CreateDate: new Date(0),
  GroupList: groups,
  Tags: [],
});
const role = (n: number) => ({
  Path: '/x/',
  RoleName: `role${n}`,
  RoleId: `AROA${n}`,
  Arn: `arn:aws:iam::111122223333:role/x/role${n}`,
  CreateDate: new Date(0),
  Tags: [{ Key: 'aws-auth-syncer/demo/groups', Value: 'dev' }],
});

beforeEach(() => {
  iamMock.reset();
});

describe('IamAuthorizationDetailsDirectory', () => {
  test('follows Marker across pages, including pages shorter than MaxItems, in one pass', async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand, { Marker: undefined })
      .resolves({ UserDetailList: [user(1), user(2)], IsTruncated: true, Marker: 'm1' })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm1' })
      // IAM may return fewer items than MaxItems with IsTruncated still true.
      .resolves({ RoleDetailList: [role(1)], IsTruncated: true, Marker: 'm2' })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm2' })
      .resolves({ GroupDetailList: [{ GroupName: 'devs', Arn: 'arn:aws:iam::111122223333:group/devs', Path: '/' }], IsTruncated: false });
    const dir = new IamAuthorizationDetailsDirectory(client, { pageSize: 2 });
    const snap = await dir.readSnapshot();
    expect(snap.users.map((u) => u.userName)).toEqual(['user1', 'user2']);
    expect(snap.roles).toEqual([
      {
        arn: 'arn:aws:iam::111122223333:role/x/role1',
        roleName: 'role1',
        path: '/x/',
        tags: { 'aws-auth-syncer/demo/groups': 'dev' },
        id: 'AROA1',
        createdAt: 0,
      },
    ]);
    expect(snap.groups.map((g) => g.groupName)).toEqual(['devs']);
    expect(dir.lastCallCount).toBe(3);
    const calls = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand);
    expect(calls.map((c) => c.args[0].input.Filter)).toEqual([
      ['User', 'Role', 'Group'],
      ['User', 'Role', 'Group'],
      ['User', 'Role', 'Group'],
    ]);
    expect(calls.every((c) => c.args[0].input.MaxItems === 2)).toBe(true);
  });

  test('a failure on a later page is an error, never a partial snapshot', async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand, { Marker: undefined })
      .resolves({ UserDetailList: [user(1)], IsTruncated: true, Marker: 'm1' })
      .on(GetAccountAuthorizationDetailsCommand, { Marker: 'm1' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(new IamAuthorizationDetailsDirectory(client).readSnapshot()).rejects.toThrow(/page 2: Throttling: Rate exceeded/);
  });

  test('truncated without a marker, or a repeated marker, is an error', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [user(1)], IsTruncated: true });
    await expect(new IamAuthorizationDetailsDirectory(client).readSnapshot()).rejects.toBeInstanceOf(DiscoveryError);
    iamMock.reset();
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [user(1)], IsTruncated: true, Marker: 'same' });
    await expect(new IamAuthorizationDetailsDirectory(client).readSnapshot()).rejects.toThrow(/same marker twice/);
  });

  test('a malformed principal is an error naming it', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: [{ UserName: 'x' } as never], IsTruncated: false });
    await expect(new IamAuthorizationDetailsDirectory(client).readSnapshot()).rejects.toThrow(/UserDetailList\[0\]\.Arn is missing/);
  });
});
