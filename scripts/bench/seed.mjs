/**
 * Seeding moto's IAM for the live sections, in a bounded-concurrency loop (moto is a single
 * Python process: about 80 calls/s on this machine, so 12k entities take minutes). Seeding is
 * cumulative: `seedTo` only creates what is missing, so one account grows through the sizes.
 */
import { AddUserToGroupCommand, CreateGroupCommand, CreateRoleCommand, CreateUserCommand } from '@aws-sdk/client-iam';
import { log, mapLimit, retry, TRUST_POLICY } from './lib.mjs';

export const pad = (n, w = 6) => String(n).padStart(w, '0');

/**
 * An account layout. `mappedEvery`: every k-th user joins one of the mapped groups (the others
 * belong to no group); `taggedRoleEvery`: every k-th role carries the cluster's groups tag.
 */
export function layout({ cluster, groups = 20, mappedGroups = 10, mappedEvery = 10, taggedRoleEvery = 2, taggedUserEvery = 100, prefix = 'dev' }) {
  return {
    cluster,
    groups,
    mappedGroups,
    mappedEvery,
    taggedRoleEvery,
    taggedUserEvery,
    prefix,
    groupName: (g) => `team-${pad(g, 2)}`,
    userName: (i) => `${prefix}-${pad(i)}`,
    roleName: (i) => `${prefix}-role-${pad(i)}`,
    groupOfUser: (i) => (i % mappedEvery === 0 ? Math.floor(i / mappedEvery) % mappedGroups : undefined),
    groupMappings() {
      return Array.from({ length: mappedGroups }, (_, g) => ({ iamGroup: this.groupName(g), kubernetesGroups: [`k8s-team-${pad(g, 2)}`] }));
    },
  };
}

export class Seeder {
  constructor(iam, l, { concurrency = 8 } = {}) {
    this.iam = iam;
    this.l = l;
    this.concurrency = concurrency;
    this.users = 0;
    this.roles = 0;
    this.groupsDone = false;
    this.seedMs = 0;
    this.calls = 0;
  }

  async seedTo(users, roles) {
    const l = this.l;
    const t0 = performance.now();
    const send = (cmd) => {
      this.calls++;
      return retry(() => this.iam.send(cmd));
    };
    if (!this.groupsDone) {
      await mapLimit([...Array(l.groups).keys()], this.concurrency, (g) => send(new CreateGroupCommand({ GroupName: l.groupName(g), Path: '/' })));
      this.groupsDone = true;
    }
    const userIdx = [];
    for (let i = this.users; i < users; i++) userIdx.push(i);
    const roleIdx = [];
    for (let i = this.roles; i < roles; i++) roleIdx.push(i);
    const clusterTag = `aws-auth-syncer/${l.cluster}/groups`;
    let done = 0;
    const total = userIdx.length + roleIdx.length;
    const tick = () => {
      if (++done % 2000 === 0) log(`seed: ${done}/${total} principals (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    };
    await mapLimit(userIdx, this.concurrency, async (i) => {
      const tags = [{ Key: 'team', Value: `t${i % 50}` }];
      if (i % l.taggedUserEvery === 1) tags.push({ Key: clusterTag, Value: 'viewers' });
      await send(new CreateUserCommand({ UserName: l.userName(i), Path: '/people/', Tags: tags }));
      const g = l.groupOfUser(i);
      if (g !== undefined) await send(new AddUserToGroupCommand({ GroupName: l.groupName(g), UserName: l.userName(i) }));
      tick();
    });
    await mapLimit(roleIdx, this.concurrency, async (i) => {
      const tags = [{ Key: 'owner', Value: 'platform' }];
      if (i % l.taggedRoleEvery === 0) tags.push({ Key: clusterTag, Value: 'deployers viewers' });
      await send(new CreateRoleCommand({ RoleName: l.roleName(i), Path: '/service-role/', AssumeRolePolicyDocument: TRUST_POLICY, Tags: tags }));
      tick();
    });
    this.users = Math.max(this.users, users);
    this.roles = Math.max(this.roles, roles);
    const took = performance.now() - t0;
    this.seedMs += took;
    return took;
  }

  /** Members of mapped groups among the first `users` users. */
  mappedUsers(users) {
    let n = 0;
    for (let i = 0; i < users; i++) if (this.l.groupOfUser(i) !== undefined) n++;
    return n;
  }
}
