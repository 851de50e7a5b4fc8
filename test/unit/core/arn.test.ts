import { describe, expect, test } from '@jest/globals';
import { canonicalArn, canonicalKey, identityKey, parseArn, roleArnWithoutPath } from '../../../lib/core/arn.js';
import type { MapKey } from '../../../lib/core/types.js';

const SSO_ROLE = 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef';

describe('parseArn', () => {
  test.each([
    [
      'plain role',
      'arn:aws:iam::111122223333:role/Admin',
      { partition: 'aws', service: 'iam', accountId: '111122223333', resourceType: 'role', path: '/', name: 'Admin' },
    ],
    [
      'SSO role with path',
      SSO_ROLE,
      {
        partition: 'aws',
        service: 'iam',
        accountId: '111122223333',
        resourceType: 'role',
        path: '/aws-reserved/sso.amazonaws.com/eu-west-1/',
        name: 'AWSReservedSSO_Admin_0123456789abcdef',
      },
    ],
    [
      'user with path',
      'arn:aws:iam::111122223333:user/engineering/alice',
      { partition: 'aws', service: 'iam', accountId: '111122223333', resourceType: 'user', path: '/engineering/', name: 'alice' },
    ],
    [
      'assumed role session',
      'arn:aws:sts::111122223333:assumed-role/Admin/jane@example.com',
      { partition: 'aws', service: 'sts', accountId: '111122223333', resourceType: 'assumed-role', path: '/', name: 'Admin', sessionName: 'jane@example.com' },
    ],
    [
      'aws-cn partition',
      'arn:aws-cn:iam::111122223333:role/Dev',
      { partition: 'aws-cn', service: 'iam', accountId: '111122223333', resourceType: 'role', path: '/', name: 'Dev' },
    ],
    [
      'aws-us-gov partition',
      'arn:aws-us-gov:iam::111122223333:user/bob',
      { partition: 'aws-us-gov', service: 'iam', accountId: '111122223333', resourceType: 'user', path: '/', name: 'bob' },
    ],
    [
      'group',
      'arn:aws:iam::111122223333:group/devs',
      { partition: 'aws', service: 'iam', accountId: '111122223333', resourceType: 'group', path: '/', name: 'devs' },
    ],
    [
      'surrounding whitespace is ignored',
      '  arn:aws:iam::111122223333:role/Admin\n',
      { partition: 'aws', service: 'iam', accountId: '111122223333', resourceType: 'role', path: '/', name: 'Admin' },
    ],
  ])('%s', (_name, arn, expected) => {
    expect(parseArn(arn)).toEqual(expected);
  });

  test.each([
    ['empty', ''],
    ['not an ARN', 'admin'],
    ['unknown partition', 'arn:aws-mars:iam::111122223333:role/Admin'],
    ['short account id', 'arn:aws:iam::11112222333:role/Admin'],
    ['account id with letters', 'arn:aws:iam::11112222333x:role/Admin'],
    ['other service', 'arn:aws:s3:::bucket/key'],
    ['region in an IAM ARN', 'arn:aws:iam:us-east-1:111122223333:role/Admin'],
    ['no resource name', 'arn:aws:iam::111122223333:role/'],
    ['empty path segment', 'arn:aws:iam::111122223333:role//Admin'],
    ['account root', 'arn:aws:iam::111122223333:root'],
    ['sts non-assumed-role', 'arn:aws:sts::111122223333:federated-user/bob'],
    ['assumed role without session', 'arn:aws:sts::111122223333:assumed-role/Admin'],
    ['assumed role with empty session', 'arn:aws:sts::111122223333:assumed-role/Admin/'],
    ['upper-case resource type', 'arn:aws:iam::111122223333:ROLE/Admin'],
    ['wildcard account', 'arn:aws:iam::*:role/Admin'],
  ])('rejects %s', (_name, arn) => {
    expect(parseArn(arn)).toBeUndefined();
  });
});

describe('roleArnWithoutPath', () => {
  test.each([
    ['SSO path stripped', SSO_ROLE, 'arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef'],
    ['plain role unchanged', 'arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/Admin'],
    ['service role path stripped', 'arn:aws:iam::111122223333:role/service-role/build', 'arn:aws:iam::111122223333:role/build'],
    ['assumed role → IAM role', 'arn:aws:sts::111122223333:assumed-role/Admin/session-1', 'arn:aws:iam::111122223333:role/Admin'],
    ['partition kept', 'arn:aws-cn:iam::111122223333:role/x/Admin', 'arn:aws-cn:iam::111122223333:role/Admin'],
    ['case kept', 'arn:aws:iam::111122223333:role/MixedCase', 'arn:aws:iam::111122223333:role/MixedCase'],
    ['user is not a role', 'arn:aws:iam::111122223333:user/alice', undefined],
    ['group is not a role', 'arn:aws:iam::111122223333:group/devs', undefined],
    ['garbage', 'role/Admin', undefined],
  ])('%s', (_name, arn, expected) => {
    expect(roleArnWithoutPath(arn)).toBe(expected);
  });
});

describe('canonicalArn / canonicalKey', () => {
  test.each<[string, MapKey, string, string | undefined]>([
    ['role path stripped', 'mapRoles', SSO_ROLE, 'arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef'],
    ['assumed role in mapRoles', 'mapRoles', 'arn:aws:sts::111122223333:assumed-role/Admin/s', 'arn:aws:iam::111122223333:role/Admin'],
    ['user path kept', 'mapUsers', 'arn:aws:iam::111122223333:user/engineering/alice', 'arn:aws:iam::111122223333:user/engineering/alice'],
    ['gov user', 'mapUsers', 'arn:aws-us-gov:iam::111122223333:user/bob', 'arn:aws-us-gov:iam::111122223333:user/bob'],
    ['user ARN under mapRoles', 'mapRoles', 'arn:aws:iam::111122223333:user/alice', undefined],
    ['role ARN under mapUsers', 'mapUsers', 'arn:aws:iam::111122223333:role/Admin', undefined],
    ['assumed role under mapUsers', 'mapUsers', 'arn:aws:sts::111122223333:assumed-role/Admin/s', undefined],
    ['group under mapUsers', 'mapUsers', 'arn:aws:iam::111122223333:group/devs', undefined],
    ['bad input', 'mapUsers', 'alice', undefined],
  ])('canonicalArn: %s', (_name, key, arn, expected) => {
    expect(canonicalArn(key, arn)).toBe(expected);
  });

  test.each<[string, MapKey, string, string | undefined]>([
    ['lower-cased, prefixed with the key', 'mapRoles', 'arn:aws:iam::111122223333:role/Admin', 'mapRoles:arn:aws:iam::111122223333:role/admin'],
    ['path stripped before lower-casing', 'mapRoles', SSO_ROLE, 'mapRoles:arn:aws:iam::111122223333:role/awsreservedsso_admin_0123456789abcdef'],
    ['user path kept, lower-cased', 'mapUsers', 'arn:aws:iam::111122223333:user/Eng/Alice', 'mapUsers:arn:aws:iam::111122223333:user/eng/alice'],
    ['unreadable ARN', 'mapRoles', 'arn:aws:iam::111122223333:user/alice', undefined],
  ])('canonicalKey: %s', (_name, key, arn, expected) => {
    expect(canonicalKey(key, arn)).toBe(expected);
  });

  test('case variants and path variants of one role share a key', () => {
    const keys = new Set(
      ['arn:aws:iam::111122223333:role/Admin', 'arn:aws:iam::111122223333:role/ADMIN', 'arn:aws:iam::111122223333:role/team/admin'].map((a) =>
        canonicalKey('mapRoles', a),
      ),
    );
    expect([...keys]).toEqual(['mapRoles:arn:aws:iam::111122223333:role/admin']);
  });

  test('the same role in two partitions or accounts does not share a key', () => {
    const a = canonicalKey('mapRoles', 'arn:aws:iam::111122223333:role/Admin');
    expect(canonicalKey('mapRoles', 'arn:aws-cn:iam::111122223333:role/Admin')).not.toBe(a);
    expect(canonicalKey('mapRoles', 'arn:aws:iam::444455556666:role/Admin')).not.toBe(a);
  });

  // `assumed-role` is an STS resource; under the IAM service it is not a principal ARN the
  // authenticator can ever match. Read as a role it would be the role named after the *session*
  // (`role/Dev` here), so a mistyped entry would be taken for the role Dev (conflict/adoption/self).
  test('an IAM-service assumed-role ARN is not a principal ARN', () => {
    const arn = 'arn:aws:iam::111122223333:assumed-role/Admin/Dev';
    expect(parseArn(arn)).toBeUndefined();
    expect(canonicalKey('mapRoles', arn)).toBeUndefined();
    expect(roleArnWithoutPath(arn)).toBeUndefined();
    expect(identityKey(arn)).toBeUndefined();
  });

  test('users with the same name under different paths do not share a key', () => {
    expect(canonicalKey('mapUsers', 'arn:aws:iam::111122223333:user/a/alice')).not.toBe(canonicalKey('mapUsers', 'arn:aws:iam::111122223333:user/alice'));
  });
});

describe('identityKey', () => {
  test.each([
    ['assumed-role session', 'arn:aws:sts::111122223333:assumed-role/aws-auth-syncer/1700000000000', 'mapRoles:arn:aws:iam::111122223333:role/aws-auth-syncer'],
    ['role with path', 'arn:aws:iam::111122223333:role/service/aws-auth-syncer', 'mapRoles:arn:aws:iam::111122223333:role/aws-auth-syncer'],
    ['user', 'arn:aws:iam::111122223333:user/ops/Deployer', 'mapUsers:arn:aws:iam::111122223333:user/ops/deployer'],
    ['gov session', 'arn:aws-us-gov:sts::111122223333:assumed-role/Syncer/x', 'mapRoles:arn:aws-us-gov:iam::111122223333:role/syncer'],
    ['group', 'arn:aws:iam::111122223333:group/devs', undefined],
    ['not an ARN', 'aws-auth-syncer', undefined],
  ])('%s', (_name, arn, expected) => {
    expect(identityKey(arn)).toBe(expected);
  });
});
