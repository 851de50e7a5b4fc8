import { describe, expect, test } from '@jest/globals';
import { identityOfPrincipal, partitionOfRegion, readEntryArn } from '../../../lib/core/identity.js';

describe('identityOfPrincipal: the caller as the authenticator canonicalises it', () => {
  test.each([
    ['arn:aws:iam::111122223333:role/Admin', 'role', 'arn:aws:iam::111122223333:role/Admin', '/'],
    [
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef',
      'role',
      'arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef',
      '/aws-reserved/sso.amazonaws.com/eu-west-1/',
    ],
    ['arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com', 'role', 'arn:aws:iam::111122223333:role/Admin', '/'],
    ['arn:aws:iam::111122223333:user/eng/Alice', 'user', 'arn:aws:iam::111122223333:user/eng/Alice', '/eng/'],
    ['arn:aws:iam::111122223333:root', 'root', 'arn:aws:iam::111122223333:root', '/'],
    ['arn:aws-cn:sts::111122223333:federated-user/bob', 'federated-user', 'arn:aws-cn:sts::111122223333:federated-user/bob', '/'],
  ])('%s', (arn, kind, written, path) => {
    const id = identityOfPrincipal(arn)!;
    expect({ kind: id.kind, arn: id.arn, path: id.path, key: id.key }).toEqual({ kind, arn: written, path, key: written.toLowerCase() });
  });
  test.each([
    '',
    'arn:aws:iam::1:role/x',
    'arn:aws:iam::111122223333:group/g',
    'arn:aws:s3:::bucket',
    'arn:aws-moon:iam::111122223333:role/x',
    ' arn:aws:iam::111122223333:role/x',
  ])('%j is not a principal', (arn) => {
    expect(identityOfPrincipal(arn)).toBeUndefined();
  });
});

describe('readEntryArn: whom an aws-auth ARN can match (no trimming, no repair)', () => {
  const live = (text: string): string | undefined => {
    const t = readEntryArn(text, 'aws');
    return t.kind === 'identity' ? t.identity.key : undefined;
  };
  test('live: role without path, user with path, root, federated user, any letter case', () => {
    expect(live('arn:aws:iam::111122223333:role/Admin')).toBe('arn:aws:iam::111122223333:role/admin');
    expect(live('ARN:AWS:IAM::111122223333:ROLE/ADMIN')).toBe('arn:aws:iam::111122223333:role/admin');
    expect(live('arn:aws:iam::111122223333:user/eng/Alice')).toBe('arn:aws:iam::111122223333:user/eng/alice');
    expect(live('arn:aws:iam::111122223333:root')).toBe('arn:aws:iam::111122223333:root');
    expect(live('arn:aws:sts::111122223333:federated-user/bob')).toBe('arn:aws:sts::111122223333:federated-user/bob');
  });
  test.each([
    ['a role with a path', 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_A_0123456789abcdef', /with a path never matches/],
    ['an STS session ARN', 'arn:aws:sts::111122223333:assumed-role/Admin/alice', /assumed-role ARN never matches/],
    ['another partition', 'arn:aws-cn:iam::111122223333:role/Admin', /partition aws-cn/],
    ['a trailing NBSP', 'arn:aws:iam::111122223333:role/Admin\u00a0', /U\+00A0/],
    ['a trailing space (quoted)', 'arn:aws:iam::111122223333:role/Admin ', /never matches/],
    ['no ARN', '', /no ARN/],
    ['a group ARN', 'arn:aws:iam::111122223333:group/admins', /never matches/],
  ])('dead: %s', (_name, text, why) => {
    const t = readEntryArn(text, 'aws');
    expect(t.kind).toBe('dead');
    expect(t.kind === 'dead' && t.reason).toMatch(why);
  });
  test.each([
    ['K (Kelvin sign)', 'arn:aws:iam::111122223333:role/\u212aube'],
    ['ſ (long s)', 'arn:aws:iam::111122223333:role/admin\u017f'],
    ['İ', 'arn:aws:iam::111122223333:role/\u0130t'],
  ])('unsure: %s folds to ASCII in one authenticator version and not another', (_name, text) => {
    expect(readEntryArn(text, 'aws').kind).toBe('unsure');
  });
});

test.each([
  [undefined, 'aws'],
  ['eu-west-1', 'aws'],
  ['cn-north-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
  ['us-iso-east-1', 'aws-iso'],
  ['us-isob-east-1', 'aws-iso-b'],
])('partitionOfRegion(%j) = %s', (region, partition) => {
  expect(partitionOfRegion(region)).toBe(partition);
});
