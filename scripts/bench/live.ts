/**
 * The account and cluster the live sections (end to end, burst) share, on the local stack with
 * the EKS auth chain: moto seeded with 1,000 users (all in mapped IAM groups) and 500 roles (all
 * tagged for the cluster), a versioned backup bucket and its KMS signing key, and the syncer's own
 * IAM identity from the integration tests' support code: the syncer gets into the cluster only
 * through its own aws-auth entry, verified by aws-iam-authenticator, as in AWS.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { createMacKey } from '../../test/integration/support/kms.js';
import { syncerIdentity } from '../../test/integration/support/live.js';
import { createGroup, createUser, createVersionedBucket } from '../../test/integration/support/seed.js';
import { clients, putAwsAuth } from '../../test/integration/support/stack.js';
import { NODE_AND_ADMIN } from './fixtures.js';
import { log, retry, secs, type Ctx } from './lib.js';
import { groupMappings, Seeder, type Layout } from './seed.js';
import { useStack, type Stack } from './stack.js';

export const BURST_GROUP = 'burst-team';
export const SPARE_USER = 'e2e-spare';

export interface Live {
  stack: Stack;
  iam: IAMClient;
  layout: Layout;
  users: number;
  roles: number;
  /** The environment of a syncer process, as the Lambda's. */
  workerEnv: NodeJS.ProcessEnv;
  /** aws-auth back to its pre-syncer state: node role, admin and the syncer's own entry. */
  reset(): Promise<void>;
}

let live: Promise<Live> | undefined;

export function prepareLive(ctx: Ctx): Promise<Live> {
  return (live ??= setUp(ctx));
}

async function setUp(ctx: Ctx): Promise<Live> {
  const stack = useStack('live', { eksAuth: true });
  const users = ctx.quick ? 100 : 1000;
  const roles = ctx.quick ? 50 : 500;
  const { iam, s3 } = clients();
  const layout: Layout = { cluster: stack.cluster, prefix: 'e2e', groups: 10, mappedGroups: 10, mappedEvery: 1, taggedRoleEvery: 1, taggedUserEvery: 1e9 };
  log(`live: seeding ${users} users (all in mapped groups) and ${roles} tagged roles`);
  log(`live: seeded in ${secs(await new Seeder(iam, layout).seedTo(users, roles))}`);
  await retry(() => createGroup(iam, BURST_GROUP));
  await retry(() => createUser(iam, SPARE_USER, { path: '/people/' }));
  const bucket = 'aas-bench-backups';
  await createVersionedBucket(s3, bucket);
  const macKey = await createMacKey('aws-auth-syncer backups (bench)');
  const self = await syncerIdentity();
  const config = { cluster: layout.cluster, groupMappings: [...groupMappings(layout), { iamGroup: BURST_GROUP, kubernetesGroups: ['k8s-burst'] }] };
  return {
    stack,
    iam,
    layout,
    users,
    roles,
    workerEnv: {
      AWS_ACCESS_KEY_ID: self.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: self.credentials.secretAccessKey,
      SYNCER_CONFIG: JSON.stringify(config),
      BACKUP_BUCKET: bucket,
      BACKUP_MAC_KEY: macKey.id,
      AWS_REGION: stack.region,
      AWS_ENDPOINT_URL: stack.motoEndpoint,
      AWS_ENDPOINT_URL_EKS: stack.eksEndpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      NODE_OPTIONS: '',
    },
    reset: async () => {
      await putAwsAuth({ mapRoles: NODE_AND_ADMIN });
    },
  };
}

export const liveNote =
  "the real sync handler (handlers/sync.ts, compiled), configured through the environment as in Lambda, reaching the apiserver as in AWS: DescribeCluster through the stack's EKS proxy, its own STS-presigned token, verified by aws-iam-authenticator against the aws-auth it maintains";
