/**
 * The account and cluster the live sections (end to end, burst) share: moto seeded with
 * 1,000 users (all members of mapped IAM groups) and 500 roles (all tagged for the cluster),
 * a versioned backup bucket, the syncer's identity, and aws-auth with the entries the syncer
 * must never touch (node role, break-glass admin, the syncer itself).
 */
import { CreateAccessKeyCommand, CreateGroupCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ACCOUNT, log, motoClient, putAwsAuthAsAdmin, retry, secs } from './lib.mjs';
import { layout, Seeder } from './seed.mjs';
import { UNMANAGED_ROLE_LINES } from './fixtures.mjs';

export const LIVE_USERS = 1000;
export const LIVE_ROLES = 500;
export const BURST_GROUP = 'burst-team';
export const SPARE_USER = 'e2e-spare';

export async function prepareLive(ctx) {
  if (ctx.live) return ctx.live;
  const stack = await ctx.stack('live');
  const users = ctx.quick ? 100 : LIVE_USERS;
  const roles = ctx.quick ? 50 : LIVE_ROLES;
  const iam = motoClient(IAMClient, stack);
  const s3 = motoClient(S3Client, stack, { forcePathStyle: true });
  const l = layout({ cluster: stack.cluster ?? 'aas-local', groups: 10, mappedGroups: 10, mappedEvery: 1, taggedRoleEvery: 1, taggedUserEvery: 1e9, prefix: 'e2e' });
  const seeder = new Seeder(iam, l);
  log(`live: seeding ${users} users (all in mapped groups) and ${roles} tagged roles`);
  const seedMs = await seeder.seedTo(users, roles);
  log(`live: seeded in ${secs(seedMs)}`);
  await retry(() => iam.send(new CreateGroupCommand({ GroupName: BURST_GROUP })));
  await retry(() => iam.send(new CreateUserCommand({ UserName: SPARE_USER, Path: '/people/' })));
  const bucket = 'aas-bench-backups';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  // The HMAC key that signs every backup (serverless.yml creates it in AWS).
  const macKey = (await motoClient(KMSClient, stack).send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata.Arn;

  const mode = stack.eksAuth ? 'handler' : 'static';
  let env;
  let selfEntry;
  const config = {
    cluster: l.cluster,
    groupMappings: [...l.groupMappings(), { iamGroup: BURST_GROUP, kubernetesGroups: ['k8s-burst'] }],
    // The first sync adds every principal: raise the removal guard accordingly is not needed
    // (nothing is removed), and the default maxRemovals (10) stays.
  };
  if (mode === 'handler') {
    // The syncer authenticates as an IAM user of its own, like the Lambda's role would.
    const user = await iam.send(new CreateUserCommand({ UserName: 'aws-auth-syncer' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'aws-auth-syncer' }))).AccessKey;
    env = { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
    selfEntry = { key: 'mapUsers', text: `- userarn: ${user.User.Arn}\n  username: aws-auth-syncer\n  groups: [aws-auth-syncer]\n` };
  } else {
    const selfArn = `arn:aws:iam::${ACCOUNT}:role/aws-auth-syncer`;
    config.selfArn = selfArn;
    env = { AWS_ACCESS_KEY_ID: 'AKIABENCHSYNCER00000', AWS_SECRET_ACCESS_KEY: 'bench' };
    selfEntry = { key: 'mapRoles', text: `- rolearn: ${selfArn}\n  username: aws-auth-syncer\n  groups: [aws-auth-syncer]\n` };
  }
  const workerEnv = {
    ...env,
    SYNCER_CONFIG: JSON.stringify(config),
    BACKUP_BUCKET: bucket,
    BACKUP_MAC_KEY: macKey,
    AWS_REGION: stack.region,
    AWS_ENDPOINT_URL: stack.motoEndpoint,
    AWS_ENDPOINT_URL_EKS: stack.eksEndpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    NODE_OPTIONS: '',
  };
  const initialData = () => {
    const mapRoles = [...UNMANAGED_ROLE_LINES, ''].join('\n');
    return selfEntry.key === 'mapRoles' ? { mapRoles: mapRoles + selfEntry.text } : { mapRoles, mapUsers: selfEntry.text };
  };
  ctx.live = {
    stack,
    iam,
    l,
    users,
    roles,
    mode,
    workerEnv,
    config,
    seedMs,
    modeNote:
      mode === 'handler'
        ? 'the real sync handler (dist/handlers/sync.js), configured through the environment as in Lambda, reaching the apiserver as in AWS: DescribeCluster through the stack\'s EKS proxy, its own STS-presigned token, verified by aws-iam-authenticator against the aws-auth it maintains'
        : `the stack could not start its EKS auth chain (${(stack.chainError ?? '').match(/ERROR[^\n]*/)?.[0]?.replace(/\(pid[^)]*\)/, '').trim() ?? 'AAS_EKS_AUTH=1 failed'}; aws-iam-authenticator hard-codes its health port, so only one stack on the machine can run the chain and another engineer's stack held it), so the syncer reaches the apiserver with the stack's static syncer token (user aws-auth-syncer, the same least-privilege RBAC): the live dependencies are wired as test/integration/support/live.ts does (createLiveDeps + that token) and syncAwsAuth is called with exactly what the handler passes it, instead of the handler itself`,
    /** aws-auth back to its pre-syncer state (admin token). */
    reset: () => putAwsAuthAsAdmin(stack, initialData()),
  };
  return ctx.live;
}
