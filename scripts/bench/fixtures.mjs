/**
 * Synthetic but realistic inputs for the pure core: an IAM snapshot of N principals and the
 * aws-auth the syncer itself would have written for it.
 *
 * The mix (stated in BENCHMARKS.md): 80 % IAM users with a path (`/people/`), each a member of
 * one of 10 mapped IAM groups (every 10th of two), mapped to [team-NN, viewers]; 20 % roles with
 * a path (`/service-role/`, stripped when written) tagged `aws-auth-syncer/<cluster>/groups =
 * "deployers viewers"`, written with the default role username template
 * (`arn:aws:sts::<account>:assumed-role/<role>/{{SessionName}}`). Plus, not managed by the
 * syncer: a node role, a break-glass admin and the syncer's own role.
 */
export const CLUSTER = 'bench-cluster';
export const ACCOUNT = '123456789012';
export const MAPPED_GROUPS = 10;
export const SELF_ARN = `arn:aws:iam::${ACCOUNT}:role/aws-auth-syncer-sync`;

export function benchPolicy(defaults) {
  return {
    cluster: CLUSTER,
    groupMappings: Array.from({ length: MAPPED_GROUPS }, (_, g) => ({ iamGroup: groupName(g), kubernetesGroups: [`team-${pad(g, 2)}`, 'viewers'] })),
    tagPrefix: 'aws-auth-syncer',
    roleUsername: defaults.DEFAULT_ROLE_USERNAME,
    userUsername: defaults.DEFAULT_USER_USERNAME,
    adoptUnmanaged: false,
    guards: { maxRemovals: defaults.DEFAULT_MAX_REMOVALS },
  };
}

export const pad = (n, w = 6) => String(n).padStart(w, '0');
export const groupName = (g) => `eks-team-${pad(g, 2)}`;

/**
 * `n` principals, `userShare` of them users. `variant` shifts group memberships of 1 % of the
 * users and swaps 10 users for 10 new ones (a realistic busy-day churn within maxRemovals).
 */
export function benchSnapshot(n, { userShare = 0.8, churn = false } = {}) {
  const nUsers = Math.round(n * userShare);
  const nRoles = n - nUsers;
  const users = [];
  const removed = churn ? Math.min(10, Math.floor(nUsers / 10)) : 0;
  for (let i = removed; i < nUsers + removed; i++) {
    const name = `user-${pad(i)}`;
    let g = i % MAPPED_GROUPS;
    if (churn && i % 100 === 1) g = (g + 1) % MAPPED_GROUPS; // 1 % change team
    const groups = [groupName(g)];
    if (i % 10 === 0) groups.push(groupName((g + 3) % MAPPED_GROUPS));
    users.push({ arn: `arn:aws:iam::${ACCOUNT}:user/people/${name}`, userName: name, path: '/people/', groups, tags: { team: `t${g}` } });
  }
  const roles = [];
  for (let i = 0; i < nRoles; i++) {
    const name = `svc-${pad(i)}-deployer`;
    roles.push({
      arn: `arn:aws:iam::${ACCOUNT}:role/service-role/${name}`,
      roleName: name,
      path: '/service-role/',
      tags: { [`aws-auth-syncer/${CLUSTER}/groups`]: 'deployers viewers', owner: 'platform' },
    });
  }
  const groups = Array.from({ length: MAPPED_GROUPS }, (_, g) => ({ arn: `arn:aws:iam::${ACCOUNT}:group/${groupName(g)}`, groupName: groupName(g), path: '/' }));
  return { users, roles, groups };
}

/** The node role and the break-glass admin: mapRoles entries the syncer must never touch. */
export const UNMANAGED_ROLE_LINES = [
  `- rolearn: arn:aws:iam::${ACCOUNT}:role/eks-node-role`,
  '  username: system:node:{{EC2PrivateDNSName}}',
  '  groups: [system:bootstrappers, system:nodes]',
  `- rolearn: arn:aws:iam::${ACCOUNT}:role/break-glass-admin`,
  '  username: break-glass',
  '  groups: [system:masters]',
];

/** aws-auth before the syncer's first run: entries it must never touch. */
export function baseAwsAuth() {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '1' },
    data: {
      mapRoles: [
        ...UNMANAGED_ROLE_LINES,
        `- rolearn: ${SELF_ARN}`,
        '  username: aws-auth-syncer',
        '  groups: [aws-auth-syncer]',
        '',
      ].join('\n'),
    },
  };
}
