import { describe, expect, test } from '@jest/globals';
import { parseClusterSetText, pickCluster, validateClusterSet } from '../../lib/config-clusters.js';
import { parseConfigText, toPolicy } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';

const FLEET = `
groupMappings:
  - iamGroup: eks-admins
    kubernetesGroups: [system:masters]
guards:
  maxRemovals: 5
usernames:
  user: "iam:{userName}"
backup:
  prefix: team/backups
clusters:
  - cluster: prod
    region: eu-west-1
  - cluster: staging
    region: us-east-2
    target: aws-auth
    roleArn: arn:aws:iam::222233334444:role/aws-auth-syncer-access
    groupMappings:
      - iamGroup: eks-developers
        kubernetesGroups: [system:masters]
    usernames:
      role: "role:{roleName}"
`;

describe('config: one cluster or a list of clusters', () => {
  test('a one-cluster config is the original format, unchanged', () => {
    const set = parseClusterSetText('cluster: demo\nregion: eu-west-1\n');
    expect(set.kind).toBe('single');
    expect(set.clusters).toHaveLength(1);
    expect(set.clusters[0]!.config).toEqual(parseConfigText('cluster: demo\nregion: eu-west-1\n'));
    expect(set.clusters[0]!.roleArn).toBeUndefined();
    expect(set.clusters[0]!.config.target).toBe('aws-auth');
  });

  test('each cluster gets the shared fields, with what it names replacing the shared field whole', () => {
    const set = parseClusterSetText(FLEET);
    expect(set.kind).toBe('fleet');
    const [prod, staging] = set.clusters;
    expect(prod!.config).toMatchObject({
      cluster: 'prod',
      region: 'eu-west-1',
      target: 'aws-auth',
      guards: { maxRemovals: 5 },
      backup: { prefix: 'team/backups' },
    });
    expect(prod!.config.groupMappings).toEqual([{ iamGroup: 'eks-admins', kubernetesGroups: ['system:masters'] }]);
    expect(prod!.config.usernames).toEqual({ role: 'arn:{partition}:sts::{accountId}:assumed-role/{roleName}/{{SessionName}}', user: 'iam:{userName}' });
    expect(prod!.roleArn).toBeUndefined();
    expect(staging!.roleArn).toBe('arn:aws:iam::222233334444:role/aws-auth-syncer-access');
    expect(staging!.config.groupMappings).toEqual([{ iamGroup: 'eks-developers', kubernetesGroups: ['system:masters'] }]);
    // usernames given by the item replace the shared object: its `user` is the default again, not the shared one
    expect(staging!.config.usernames).toEqual({ role: 'role:{roleName}', user: '{userName}' });
    expect(staging!.config.guards).toEqual({ maxRemovals: 5 });
    // the cluster name stays part of each cluster's own tag keys
    expect(toPolicy(staging!.config)).toMatchObject({ cluster: 'staging', tagPrefix: 'aws-auth-syncer' });
  });

  test.each([
    ['cluster: a\nclusters: [{cluster: b}]', ['cluster: give either cluster (one cluster) or clusters (several), not both']],
    ['clusters: []', ['clusters: must list at least one cluster, such as [{cluster: prod, region: eu-west-1}]']],
    [
      'clusters: []\nguards: {maxRemovals: -1}',
      ['clusters: must list at least one cluster, such as [{cluster: prod, region: eu-west-1}]', 'guards.maxRemovals: Too small: expected number to be >=0'],
    ],
    ['clusters: [prod]', ['clusters[0]: must be an object such as {cluster: prod, region: eu-west-1}']],
    ['clusters: [{cluster: a}, {cluster: b, region: eu-west}]', ['clusters[1].region: must be an AWS region such as eu-west-1']],
    ['clusters: [{cluster: a}, {region: eu-west-1}]', ['clusters[1].cluster: required: the EKS cluster name']],
    [
      'clusters: [{cluster: a, roleArn: "arn:aws:iam::1:user/x"}]',
      ['clusters[0].roleArn: must be an IAM role ARN such as arn:aws:iam::222233334444:role/aws-auth-syncer-access'],
    ],
    ['clusters: [{cluster: a, backup: {prefix: x}}]', ['clusters[0].backup: is shared by every cluster: set it at the top level']],
    ['clusters: [{cluster: a, clusters: []}]', ['clusters[0].clusters: is shared by every cluster: set it at the top level']],
    ['clusters: [{cluster: a, regoin: eu-west-1}]', ['clusters[0]: unknown field(s) "regoin"']],
    ['clusters: [{cluster: a, target: configmap}]', ['clusters[0].target: Invalid option: expected one of "aws-auth"|"access-entries"']],
    [
      'clusters: [{cluster: a, groupMappings: [{iamGroup: g, kubernetesGroups: []}]}]',
      ['clusters[0].groupMappings[0].kubernetesGroups: must list at least one Kubernetes group'],
    ],
    // a shared field's problem is reported once, where it is written, not once per cluster
    ['guards: {maxRemovals: -1}\nclusters: [{cluster: a}, {cluster: b}]', ['guards.maxRemovals: Too small: expected number to be >=0']],
    ['groupMapings: []\nclusters: [{cluster: a}, {cluster: b}]', ['unknown field(s) "groupMapings"']],
    [
      'clusters: [{cluster: a}, {cluster: b}, {cluster: a}]',
      ['clusters[2].cluster: "a" is listed twice (also clusters[0]); cluster names must be unique in one deployment'],
    ],
    [
      'clusters: [{cluster: a, region: eu-west-1}, {cluster: b, region: cn-north-1}]',
      ['clusters[1].region: cn-north-1 is in partition aws-cn, clusters[0] in aws; one deployment reads the IAM of one partition'],
    ],
  ])('%j → every problem named by its field', (text, lines) => {
    let err: unknown;
    try {
      parseClusterSetText(text, 'test.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`invalid test.yaml:\n  ${lines.join('\n  ')}`);
  });

  test("a cluster without a region is in the deployment's region (AWS_REGION), also for the one-partition rule", () => {
    const text = 'clusters: [{cluster: a}, {cluster: b, region: cn-north-1}]';
    expect(() => parseClusterSetText(text, 'test.yaml', 'us-east-1')).toThrow(
      'invalid test.yaml:\n  clusters[1].region: cn-north-1 is in partition aws-cn, clusters[0] in aws; one deployment reads the IAM of one partition',
    );
    expect(() => parseClusterSetText('clusters: [{cluster: a, region: cn-north-1}, {cluster: b}]', 'test.yaml', 'us-east-1')).toThrow(
      "clusters[1].region: us-east-1 (the deployment's) is in partition aws, clusters[0] in aws-cn",
    );
    // in a China region, both are in aws-cn
    expect(parseClusterSetText(text, 'test.yaml', 'cn-northwest-1').clusters).toHaveLength(2);
  });

  test('pickCluster: a one-cluster config needs no name; a list needs one of its names', () => {
    const single = validateClusterSet({ cluster: 'demo' });
    expect(pickCluster(single).config.cluster).toBe('demo');
    expect(pickCluster(single, 'demo').config.cluster).toBe('demo');
    expect(() => pickCluster(single, 'other')).toThrow('cluster "other" is not in the configuration (demo)');
    const fleet = parseClusterSetText(FLEET);
    expect(pickCluster(fleet, 'staging').roleArn).toBe('arn:aws:iam::222233334444:role/aws-auth-syncer-access');
    expect(() => pickCluster(fleet)).toThrow(
      'the configuration lists 2 clusters (prod, staging): name one ("cluster" in the payload, --cluster on the command line)',
    );
    expect(() => pickCluster(fleet, 'dev')).toThrow('cluster "dev" is not in the configuration (prod, staging)');
  });
});
