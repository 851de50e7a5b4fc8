import { describe, expect, test } from '@jest/globals';
import { loadRuntimeSettings, parseConfigText, toPolicy } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

describe('config', () => {
  test('minimal config gets the documented defaults', () => {
    const c = parseConfigText('cluster: demo\n');
    expect(toPolicy(c)).toEqual({
      cluster: 'demo',
      groupMappings: [],
      tagPrefix: 'aws-auth-syncer',
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
  ])('%j → error naming the field', (text, message) => {
    expect(() => parseConfigText(text)).toThrow(ConfigError);
    expect(() => parseConfigText(text)).toThrow(message);
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
      loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo\nregion: eu-central-1\nbackup:\n  bucket: cfg-bucket\n  macKey: alias/aws-auth-syncer', AWS_REGION: 'us-east-1' }),
    ).toMatchObject({ region: 'eu-central-1', bucket: 'cfg-bucket', macKey: { id: 'alias/aws-auth-syncer', region: 'us-east-1' } });
    expect(() => loadRuntimeSettings({})).toThrow(/SYNCER_CONFIG/);
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', AWS_REGION: 'us-east-1' })).toThrow(/backup\.bucket: required/);
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', BACKUP_BUCKET: 'b', AWS_REGION: 'us-east-1' })).toThrow(/backup\.macKey: required \(or set BACKUP_MAC_KEY\)/);
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG: 'cluster: demo', BACKUP_BUCKET: 'b', BACKUP_MAC_KEY: 'my key', AWS_REGION: 'us-east-1' })).toThrow(/BACKUP_MAC_KEY: must be a KMS key ARN/);
    expect(() => parseConfigText('cluster: demo\nbackup:\n  macKey: s3://nope')).toThrow(/backup\.macKey: must be a KMS key ARN/);
    expect(() => parseConfigText('cluster: demo\nbackup:\n  prefix: backups/')).toThrow(/backup\.prefix: must be an S3 key prefix .*no leading or trailing/);
    expect(parseConfigText('cluster: demo\nbackup:\n  prefix: team/backups').backup.prefix).toBe('team/backups');
    expect(() => loadRuntimeSettings({ SYNCER_CONFIG_FILE: '/nonexistent.yaml' })).toThrow(/cannot read config file \/nonexistent\.yaml: ENOENT/);
  });
});
