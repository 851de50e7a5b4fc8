/**
 * Seeding moto's IAM for the discovery and live sections with the integration tests' own
 * helpers (test/integration/support/seed.ts), at bounded concurrency (moto is one Python process:
 * about 80 calls/s here, so 12k entities take minutes). Cumulative: `seedTo` creates only what is
 * missing, so one account grows through the sizes.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { createGroup, createRole, createUser, mapLimit } from '../../test/integration/support/seed.js';
import { log, pad, retry } from './lib.js';

/** An account: every `mappedEvery`-th user joins one of the mapped groups, every `taggedRoleEvery`-th role is tagged for the cluster. */
export interface Layout {
  cluster: string;
  prefix: string;
  groups: number;
  mappedGroups: number;
  mappedEvery: number;
  taggedRoleEvery: number;
  taggedUserEvery: number;
}

export const groupName = (g: number): string => `team-${pad(g, 2)}`;
export const groupMappings = (l: Layout) =>
  Array.from({ length: l.mappedGroups }, (_, g) => ({ iamGroup: groupName(g), kubernetesGroups: [`k8s-team-${pad(g, 2)}`] }));
const groupOfUser = (l: Layout, i: number): number | undefined => (i % l.mappedEvery === 0 ? Math.floor(i / l.mappedEvery) % l.mappedGroups : undefined);
/** Members of mapped groups among the first `users` users. */
export const mappedUsers = (l: Layout, users: number): number =>
  Array.from({ length: users }, (_, i) => groupOfUser(l, i)).filter((g) => g !== undefined).length;

export class Seeder {
  private users = 0;
  private roles = 0;
  calls = 0;

  constructor(
    private readonly iam: IAMClient,
    private readonly l: Layout,
  ) {}

  /** Grow the account to `users` users and `roles` roles; returns the time it took. */
  async seedTo(users: number, roles: number): Promise<number> {
    const { l, iam } = this;
    const t0 = performance.now();
    const clusterTag = `aws-auth-syncer/${l.cluster}/groups`;
    const count = <T>(p: () => Promise<T>, calls: number): Promise<T> => {
      this.calls += calls;
      return retry(p);
    };
    if (this.users === 0 && this.roles === 0) await mapLimit([...Array(l.groups).keys()], 8, (g) => count(() => createGroup(iam, groupName(g)), 1));
    let done = 0;
    const tick = (): void => {
      if (++done % 2000 === 0) log(`seed: ${done} principals (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    };
    const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
    await mapLimit(range(this.users, users), 8, async (i) => {
      const g = groupOfUser(l, i);
      const tags: Record<string, string> = { team: `t${i % 50}`, ...(i % l.taggedUserEvery === 1 ? { [clusterTag]: 'viewers' } : {}) };
      await count(
        () => createUser(iam, `${l.prefix}-${pad(i)}`, { path: '/people/', tags, groups: g === undefined ? [] : [groupName(g)] }),
        g === undefined ? 1 : 2,
      );
      tick();
    });
    await mapLimit(range(this.roles, roles), 8, async (i) => {
      const tags: Record<string, string> = { owner: 'platform', ...(i % l.taggedRoleEvery === 0 ? { [clusterTag]: 'deployers viewers' } : {}) };
      await count(() => createRole(iam, `${l.prefix}-role-${pad(i)}`, { path: '/service-role/', tags }), 1);
      tick();
    });
    this.users = Math.max(this.users, users);
    this.roles = Math.max(this.roles, roles);
    return performance.now() - t0;
  }
}
