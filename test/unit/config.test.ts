import { describe, expect, test } from '@jest/globals';
import { loadRuntimeSettings, parseConfigText, toPolicy } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

describe('config', () => {
  test('minimal config gets the documented defaults', () => {
    const c = parseConfigText('cluster: demo\n');
    expect(toPolicy(c)).toEqual({
      cluster: 'demo',
      partition: 'aws',
      groupMappings: [],
      roleMappings: [],
      tagPrefix: 'aws-auth-syncer',
      tags: { allowedGroups: ['*'] },
      roleUsername: 'arn:{partition}:sts::{accountId}:assumed-role/{roleName}/{{SessionName}}',
      userUsername: '{userName}',
      adoptUnmanaged: false,
      guards: { maxRemovals: 10 },
    });
    expect(c.kubernetes).toEqual({ timeoutMs: 10000, writeAttempts: 3 });
    expect(c.backup.prefix).toBe('aws-auth-backups');
  });

  test.each([
    ['groupMappings:\n  - iamGroup: devs\n    kubernetesGroups: []\ncluster: x', /groupMappings\[0\]\.kubernetesGroups: must list at least one/],
    ['cluster: x\ngroupMapings: []', /unknown field\(s\) "groupMapings"/],
    ['cluster: x\nguards:\n  maxRemoval: 3', /guards: unknown field\(s\) "maxRemoval"/],
    ['cluster: x\nguards:\n  maxRemovals: -1', /guards\.maxRemovals/],
    ['cluster: "bad name!"', /cluster: must be an EKS cluster name/],
    ['{}', /cluster: /],
    ['cluster: x\ngroupMappings:\n  - iamGroup: devs\n    kubernetesGroups: [system:nodes]', /kubernetesGroups\[0\]: group system:nodes is for nodes/],
    ['cluster: x\nusernames:\n  role: "{userName}"', /usernames\.role: placeholder \{userName\} is not available/],
    ['cluster: x\nusernames:\n  user: "{{Nope}}"', /usernames\.user: unknown authenticator template/],
    ['cluster: [unclosed', /not valid YAML or JSON/],
    ['cluster: x\nroleMappings:\n  - kubernetesGroups: [a]', /roleMappings\[0\]: must name exactly one of ssoPermissionSet and roleName/],
    ['cluster: x\nroleMappings:\n  - roleName: a\n    ssoPermissionSet: b\n    kubernetesGroups: [a]', /roleMappings\[0\]: must name exactly one/],
    [
      'cluster: x\nroleMappings:\n  - ssoPermissionSet: "Admin Access"\n    kubernetesGroups: [a]',
      /roleMappings\[0\]\.ssoPermissionSet: must be an IAM Identity Center permission set name/,
    ],
    [
      'cluster: x\nroleMappings:\n  - roleName: "ci-*"\n    kubernetesGroups: [eks:x]',
      /roleMappings\[0\]\.kubernetesGroups\[0\]: group "eks:x" is in a reserved namespace/,
    ],
    [
      'cluster: x\nroleMappings:\n  - roleName: "ci-*"\n    kubernetesGroups: [a]\n    username: "{userName}"',
      /roleMappings\[0\]\.username: placeholder \{userName\} is not available/,
    ],
    ['cluster: x\ntags:\n  allowedGroups: ["a b"]', /tags\.allowedGroups\[0\]: must be a Kubernetes group name or a glob/],
    ['cluster: x\nselfArn: [arn:aws:iam::111122223333:role/a, nope]', /selfArn\[1\]: must be an IAM role or user ARN/],
  ])('%j → error naming the field', (text, message) => {
    expect(() => parseConfigText(text)).toThrow(ConfigError);
    expect(() => parseConfigText(text)).toThrow(message);
  });

  test('the partition follows the cluster region; role mappings and tag rules reach the policy', () => {
    const c = parseConfigText(
      'cluster: demo\nregion: cn-north-1\nroleMappings:\n  - ssoPermissionSet: AdminAccess\n    kubernetesGroups: [system:masters]\ntags:\n  allowedGroups: ["team-*"]\n',
    );
    expect(toPolicy(c)).toMatchObject({
      partition: 'aws-cn',
      roleMappings: [{ ssoPermissionSet: 'AdminAccess', kubernetesGroups: ['system:masters'] }],
      tags: { allowedGroups: ['team-*'] },
    });
    expect(
      toPolicy(parseConfigText('cluster: demo'), { region: 'us-gov-west-1', clusterArn: 'arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/demo' }),
    ).toMatchObject({
      partition: 'aws-us-gov',
      clusterArn: 'arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/demo',
    });
  });

  test("the syncer's own identities: selfArn (one or a list) and SYNCER_SELF_ARNS; a bad one is named", () => {
    const env = {
      SYNCER_CONFIG: 'cluster: demo\nselfArn: arn:aws:iam::111122223333:role/a',
      BACKUP_BUCKET: 'b-1',
      BACKUP_MAC_KEY: 'alias/aws-auth-syncer',
      AWS_REGION: 'eu-west-1',
    };
    expect(loadRuntimeSettings({ ...env, SYNCER_SELF_ARNS: 'arn:aws:iam::111122223333:role/sync, arn:aws:iam::111122223333:role/restore' }).selfArns).toEqual([
      'arn:aws:iam::111122223333:role/a',
      'arn:aws:iam::111122223333:role/sync',
      'arn:aws:iam::111122223333:role/restore',
    ]);
    expect(() => loadRuntimeSettings({ ...env, SYNCER_SELF_ARNS: 'arn:aws:iam::111122223333:role/sync,oops' })).toThrow(/SYNCER_SELF_ARNS: "oops" must be/);
  });

  test('Lambda settings: inline config, BACKUP_BUCKET, BACKUP_MAC_KEY and AWS_REGION; missing pieces named', () => {
    const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', BACKUP_BUCKET: 'b-1', BACKUP_MAC_KEY: KEY, AWS_REGION: 'eu-west-1' })).toMatchObject({
      region: 'eu-west-1',
      bucket: 'b-1',
      // The key's region comes from its ARN (the stack's), not from the cluster's.
      macKey: { id: KEY, region: 'us-east-1' },
    });
    expect(
      loadRuntimeSettings({
        SYNCER_CONFIG: 'cluster: demo\nregion: eu-central-1\nbackup:\n  bucket: cfg-bucket\n  macKey: alias/aws-auth-syncer',
        AWS_REGION: 'us-east-1',
      }),
    ).toMatchObject({ region: 'eu-central-1', bucket: 'cfg-bucket', macKey: { id: 'alias/aws-auth-syncer', region: 'us-east-1' } });
    expect(() => loadRuntimeSettings({})).toThrow(/SYNCER_CONFIG/);
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', AWS_REGION: 'us-east-1' })).toThrow(/backup\.bucket: required/);
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', BACKUP_BUCKET: 'b', AWS_REGION: 'us-east-1' })).toThrow(
      /backup\.macKey: required \(or set BACKUP_MAC_KEY\)/,
    );
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', BACKUP_BUCKET: 'b', BACKUP_MAC_KEY: 'my key', AWS_REGION: 'us-east-1' })).toThrow(
      /BACKUP_MAC_KEY: must be a KMS key ARN/,
    );
    expect(() => parseConfigText('cluster: demo\nbackup:\n  macKey: s3://nope')).toThrow(/backup\.macKey: must be a KMS key ARN/);
    expect(() => parseConfigText('cluster: demo\nbackup:\n  prefix: backups/')).toThrow(/backup\.prefix: must be an S3 key prefix .*no leading or trailing/);
    expect(parseConfigText('cluster: demo\nbackup:\n  prefix: team/backups').backup.prefix).toBe('team/backups');
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG_FILE: '/nonexistent.yaml' })).toThrow(/cannot read config file \/nonexistent\.yaml: ENOENT/);
  });
});
