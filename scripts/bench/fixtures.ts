/**
 * Inputs of the plan benchmarks: an IAM snapshot of `n` users and the aws-auth the syncer itself
 * writes for it. The mix: IAM users without a path (`user-NNNNNN`), each in one of 10 mapped IAM
 * groups (`eks-team-NN` → `team-NN`), every 10th also in `eks-viewers` (→ `viewers`); plus three
 * mapRoles entries the syncer never touches: the node role, a break-glass admin and the syncer's
 * own role. About 10,000 such users fill the 1 MiB ConfigMap.
 */
import { planSync } from '../../lib/core/plan.js';
import {
  DEFAULT_ALLOWED_TAG_GROUPS,
  DEFAULT_MAX_REMOVALS,
  DEFAULT_ROLE_USERNAME,
  DEFAULT_TAG_PREFIX,
  DEFAULT_USER_USERNAME,
  type SyncPolicy,
} from '../../lib/core/policy.js';
import type { ConfigMapObject, IamSnapshot, IamUser } from '../../lib/core/types.js';
import { pad } from './lib.js';

export const CLUSTER = 'bench-cluster';
export const ACCOUNT = '123456789012';
export const SELF_ARN = `arn:aws:iam::${ACCOUNT}:role/aws-auth-syncer`;
const TEAMS = 10;

const team = (g: number): string => `eks-team-${pad(g, 2)}`;
export const userArn = (name: string): string => `arn:aws:iam::${ACCOUNT}:user/${name}`;

export const benchPolicy: SyncPolicy = {
  cluster: CLUSTER,
  partition: 'aws',
  groupMappings: [
    ...Array.from({ length: TEAMS }, (_, g) => ({ iamGroup: team(g), kubernetesGroups: [`team-${pad(g, 2)}`] })),
    { iamGroup: 'eks-viewers', kubernetesGroups: ['viewers'] },
  ],
  roleMappings: [],
  tagPrefix: DEFAULT_TAG_PREFIX,
  tags: { allowedGroups: DEFAULT_ALLOWED_TAG_GROUPS },
  roleUsername: DEFAULT_ROLE_USERNAME,
  userUsername: DEFAULT_USER_USERNAME,
  adoptUnmanaged: false,
  guards: { maxRemovals: DEFAULT_MAX_REMOVALS },
};

/**
 * `n` users; with `churn`, a busy day within the removal guard: 5 users leave, 5 join and 10
 * change team.
 */
export function benchSnapshot(n: number, churn = false): IamSnapshot {
  const users: IamUser[] = [];
  const moveEvery = Math.max(1, Math.floor(n / 10));
  for (let i = churn ? 5 : 0; i < n + (churn ? 5 : 0); i++) {
    const name = `user-${pad(i)}`;
    const g = churn && i % moveEvery === 7 ? (i + 1) % TEAMS : i % TEAMS;
    users.push({ arn: userArn(name), userName: name, path: '/', groups: i % 10 === 0 ? [team(g), 'eks-viewers'] : [team(g)], tags: {} });
  }
  const groups = [...benchPolicy.groupMappings.map((m) => m.iamGroup)].map((g) => ({ arn: `arn:aws:iam::${ACCOUNT}:group/${g}`, groupName: g, path: '/' }));
  return { users, roles: [], groups };
}

/** The node role and a break-glass admin: mapRoles entries the syncer must never touch. */
export const NODE_AND_ADMIN = [
  `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-node-role`,
  '  username: system:node:{{EC2PrivateDNSName}}',
  '  groups:',
  '    - system:bootstrappers',
  '    - system:nodes',
  `- rolearn: arn:aws:iam::${ACCOUNT}:role/break-glass-admin`,
  '  username: break-glass',
  '  groups:',
  '    - system:masters',
  '',
].join('\n');
/** …and the syncer's own role. */
export const UNMANAGED_ROLES = `${NODE_AND_ADMIN}- rolearn: ${SELF_ARN}\n  username: aws-auth-syncer\n  groups:\n    - aws-auth-syncer\n`;

export function awsAuthOf(data: Record<string, string>, annotations?: Record<string, string>): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '4242', ...(annotations ? { annotations } : {}) },
    data,
  };
}

export const planFor = (current: ConfigMapObject | null, snapshot: IamSnapshot) => planSync({ current, snapshot, policy: benchPolicy, selfArns: [SELF_ARN] });

/** The aws-auth the syncer writes for `n` users (it owns their entries), and whether it fits. */
export function ownedAwsAuth(n: number): { cm: ConfigMapObject; tooLarge?: string } {
  const plan = planFor(awsAuthOf({ mapRoles: UNMANAGED_ROLES }), benchSnapshot(n));
  return {
    cm: { ...plan.next, metadata: { ...plan.next.metadata, resourceVersion: '4242' } },
    tooLarge: plan.refusals.find((r) => r.code === 'too-large')?.message,
  };
}
