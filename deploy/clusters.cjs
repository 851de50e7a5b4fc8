// What serverless.yml derives from the config file's cluster(s): whether the stack serves one
// cluster (`cluster:`) or a list (`clusters:`), and every IAM scope, alarm dimension and
// description that follows from that — read from the very file the functions bundle, so the
// permissions and what the functions call can never disagree. One cluster gives exactly the
// template a one-cluster stack always had; a list adds the cluster queue and function
// (`Fleet` condition) and widens each scope to the listed clusters, no further.
// osls loads it for `${file(./deploy/clusters.cjs):<name>}` with require() (CommonJS in this ESM
// project) and calls it with its variable resolver. A config it cannot use fails
// `serverless package` with the reason; the full validation is lib/config-clusters.ts's, at run
// time and in the tests.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');

/** Each cluster adds a few ARNs to the roles' inline policies (10,240 characters each, at most). */
const MAX_CLUSTERS = 25;
const NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const SNAPSHOTS = '_iam-snapshots';
const TARGETS = ['aws-auth', 'access-entries'];
/** What the syncer does to an access entry once it exists (all on access-entry/<cluster>/*). */
const ENTRY_WRITES = ['eks:UpdateAccessEntry', 'eks:DeleteAccessEntry', 'eks:AssociateAccessPolicy', 'eks:DisassociateAccessPolicy', 'eks:TagResource'];

/** The partition of a region (the table of lib/core/identity.ts partitionOfRegion; this file cannot import TypeScript). */
const PARTITIONS = [
  ['cn-', 'aws-cn'],
  ['us-gov-', 'aws-us-gov'],
  ['us-isob-', 'aws-iso-b'],
  ['us-iso-', 'aws-iso'],
  ['eu-isoe-', 'aws-iso-e'],
  ['us-isof-', 'aws-iso-f'],
  ['eusc-', 'aws-eusc'],
];
const partitionOf = (region) => (PARTITIONS.find(([prefix]) => region.startsWith(prefix)) ?? [, 'aws'])[1];
const sub = (text) => (text.includes('${') ? { 'Fn::Sub': text } : text);
const getAtt = (id) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const clusterArn = (c) => sub(`arn:\${AWS::Partition}:eks:${c.region}:\${AWS::AccountId}:cluster/${c.name}`);
const accessEntryArns = (c) => sub(`arn:\${AWS::Partition}:eks:${c.region}:\${AWS::AccountId}:access-entry/${c.name}/*`);

/** The clusters of a parsed config document: [{ name, region, roleArn, target }], and the mode. */
function clustersOf(doc, file, defaultRegion) {
  const fail = (msg) => {
    throw new Error(`config file ${file}: ${msg}`);
  };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('is not a YAML/JSON object');
  const hasOne = doc.cluster !== undefined;
  const hasList = doc.clusters !== undefined;
  if (hasOne === hasList) fail('name either cluster (one cluster) or clusters (a list), not both or neither');
  const items = hasOne ? [{ cluster: doc.cluster, region: doc.region, target: doc.target }] : doc.clusters;
  if (!Array.isArray(items) || items.length === 0) fail('clusters must list at least one cluster');
  if (items.length > MAX_CLUSTERS) {
    fail(
      `lists ${items.length} clusters; one stack serves at most ${MAX_CLUSTERS} (its roles' inline policies name each cluster, and IAM limits their size): split the list over two stacks`,
    );
  }
  const seen = new Set();
  const clusters = items.map((c, i) => {
    const at = hasOne ? '' : `clusters[${i}].`;
    if (!c || typeof c !== 'object') fail(`${at.slice(0, -1) || 'cluster'} must be an object`);
    if (typeof c.cluster !== 'string' || !NAME.test(c.cluster)) fail(`${at}cluster must be an EKS cluster name`);
    if (seen.has(c.cluster)) fail(`${at}cluster ${c.cluster} is listed twice`);
    seen.add(c.cluster);
    const region = c.region ?? doc.region ?? defaultRegion;
    if (typeof region !== 'string' || !REGION.test(region)) fail(`${at}region must be an AWS region`);
    if (c.roleArn !== undefined && (typeof c.roleArn !== 'string' || !ROLE_ARN.test(c.roleArn))) fail(`${at}roleArn must be an IAM role ARN`);
    const target = c.target ?? doc.target ?? 'aws-auth';
    if (!TARGETS.includes(target)) fail(`${at}target must be one of ${TARGETS.join(', ')}`);
    return { name: c.cluster, region, roleArn: c.roleArn, target };
  });
  // One deployment reads the IAM of one partition (lib/config-clusters.ts says the same at run time).
  const partitions = [...new Set(clusters.map((c) => partitionOf(c.region)))];
  if (partitions.length > 1) fail(`its clusters are in more than one partition (${partitions.join(', ')}): one deployment reads the IAM of one partition`);
  const prefix = (doc.backup && doc.backup.prefix) || 'aws-auth-backups';
  return { mode: hasOne ? 'single' : 'fleet', clusters, prefix };
}

/**
 * Everything serverless.yml takes from the clusters. In single mode each value is exactly what
 * the template held before lists existed (scalars where it had scalars).
 */
function derive({ mode, clusters, prefix }, cliRoleArns) {
  const fleet = mode === 'fleet';
  const one = (list) => (fleet ? list : list[0]);
  const names = clusters.map((c) => c.name);
  const local = clusters.filter((c) => !c.roleArn);
  const remote = clusters.filter((c) => c.roleArn);
  const label = fleet ? `${names.length} clusters (${names.join(', ')})` : names[0];
  const clusterRole = { 'Fn::If': ['Fleet', { Ref: 'ClusterRole' }, { Ref: 'AWS::NoValue' }] };
  // The roles that write (and sign) backups: sync and restore; with a list, the cluster function
  // too. ClusterRole exists only under the Fleet condition, so a value naming it is chosen by
  // Fn::If on that condition (constant in a packaged template; cfn-lint W1001 asks for it).
  const two = [getAtt('SyncRole'), getAtt('RestoreRole')];
  const three = [...two, getAtt('ClusterRole')];
  const byMode = (make) => (fleet ? { 'Fn::If': ['Fleet', make(three), make(two)] } : make(two));
  const cli = String(cliRoleArns || '').trim();
  const statements = [];
  if (local.length > 0) {
    statements.push({
      Sid: 'DescribeTheClusters',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: one(local.map(clusterArn)),
    });
    // Reading access entries: the access-entries target's plan, and the aws-auth target's report
    // of aws-auth entries an access entry shadows (API_AND_CONFIG_MAP). Every role, every cluster.
    statements.push(
      { Sid: 'ListAccessEntries', Effect: 'Allow', Action: 'eks:ListAccessEntries', Resource: one(local.map(clusterArn)) },
      {
        Sid: 'ReadAccessEntries',
        Effect: 'Allow',
        Action: ['eks:DescribeAccessEntry', 'eks:ListAssociatedAccessPolicies'],
        Resource: one(local.map(accessEntryArns)),
      },
    );
  }
  if (remote.length > 0) {
    // Clusters in other accounts: their member stack's role gives eks:DescribeCluster there.
    statements.push({ Sid: 'AssumeClusterRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [...new Set(remote.map((c) => c.roleArn))] });
  }
  // Writing access entries: only the clusters of this account on target access-entries, and only
  // the roles that write (one cluster: sync and restore; a list: the cluster function and restore —
  // the sync function then only plans). Create runs against the cluster, the rest against its
  // entries; TagResource sets the ownership tag at create. None on target: an explicit Deny, so
  // that a target switched without a redeploy fails loudly instead of writing.
  const writers = local.filter((c) => c.target === 'access-entries');
  const entriesWriteStatements =
    writers.length > 0
      ? [
          { Sid: 'CreateAccessEntries', Effect: 'Allow', Action: 'eks:CreateAccessEntry', Resource: one(writers.map(clusterArn)) },
          { Sid: 'ManageOwnAccessEntries', Effect: 'Allow', Action: ENTRY_WRITES, Resource: one(writers.map(accessEntryArns)) },
        ]
      : [{ Sid: 'NoClusterOnTargetAccessEntries', Effect: 'Deny', Action: ['eks:CreateAccessEntry', ...ENTRY_WRITES], Resource: '*' }];
  return {
    mode,
    entriesWriteStatements,
    entriesWriteRoles: fleet ? [{ Ref: 'RestoreRole' }, clusterRole] : [{ Ref: 'SyncRole' }, { Ref: 'RestoreRole' }],
    label: label.length > 180 ? `${label.slice(0, 177)}...` : label,
    names: names.join(','),
    backupPrefix: prefix,
    clusterAccessStatements: statements,
    clusterAccessRoles: [{ Ref: 'SyncRole' }, { Ref: 'RestoreRole' }, ...(fleet ? [clusterRole] : [])],
    backupObjects: one(names.map((n) => sub(`\${BackupBucket.Arn}/${prefix}/${n}/*`))),
    backupListPrefixes: one(names.map((n) => `${prefix}/${n}/*`)),
    snapshotObjects: sub(`\${BackupBucket.Arn}/${prefix}/${SNAPSHOTS}/*`),
    snapshotPrefix: `${prefix}/${SNAPSHOTS}/`,
    // Sync writes the backups of its one cluster; with a list it writes only the run's snapshot
    // (the cluster function writes the backups).
    syncWriteObjects: fleet ? sub(`\${BackupBucket.Arn}/${prefix}/${SNAPSHOTS}/*`) : sub(`\${BackupBucket.Arn}/${prefix}/${names[0]}/*`),
    selfArns: byMode((roles) => ({ 'Fn::Join': [',', roles] })),
    // The CLI's roles (--param cliRoleArns) write and sign backups too.
    backupWriters: { 'Fn::If': ['HasCliRoles', byMode((roles) => ({ 'Fn::Split': [',', { 'Fn::Join': [',', [...roles, cli]] }] })), byMode((roles) => roles)] },
    // Alarm dimensions: per cluster with one cluster; fleet-wide totals with a list (an alarm cannot
    // SEARCH, and the totals keep the alarm set fixed however many clusters there are).
    dimensions: {
      refusedIam: [{ Name: 'service', Value: 'aws-auth-syncer' }, ...(fleet ? [] : [{ Name: 'cluster', Value: names[0] }]), { Name: 'trigger', Value: 'iam' }],
      refusedSchedule: [
        { Name: 'service', Value: 'aws-auth-syncer' },
        ...(fleet ? [] : [{ Name: 'cluster', Value: names[0] }]),
        { Name: 'trigger', Value: 'schedule' },
      ],
      succeeded: [{ Name: 'service', Value: 'aws-auth-syncer' }, ...(fleet ? [] : [{ Name: 'cluster', Value: names[0] }])],
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const file = String(await resolveVariable('self:custom.configFile'));
  const region = String(await resolveVariable('self:provider.region'));
  const cli = String(await resolveVariable('param:cliRoleArns'));
  let doc;
  try {
    doc = parse(readFileSync(join(__dirname, '..', file), 'utf8'));
  } catch (err) {
    throw new Error(`config file ${file}: ${err.message.split('\n')[0]}`);
  }
  return derive(clustersOf(doc, file, region), cli);
};
Object.assign(module.exports, { clustersOf, derive, MAX_CLUSTERS });
