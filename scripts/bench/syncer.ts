/**
 * The sync handler as the Lambda runs it, inside a bench worker process (environment as the
 * Lambda's, set by the bench), with counters: discoveries (GetAccountAuthorizationDetails passes
 * and calls), backups and ConfigMap writes. The handler's own cached runtime is instrumented, so
 * what runs is exactly the handler.
 */
import { handler } from '../../handlers/sync.js';
import type { IamAuthorizationDetailsDirectory } from '../../lib/adapters/iam.js';
import { liveRuntime } from '../../lib/adapters/lambda.js';

export type Counters = Record<'discoveries' | 'gaadCalls' | 'discoveryMs' | 'writes' | 'backups', number>;

/** What a sync reply holds that the bench reads. */
export interface Reply {
  outcome?: string;
  summary?: { added: number; removed: number; updated: number };
  principals?: { users: number; roles: number; groups: number };
}

export async function createSyncer() {
  const counters: Counters = { discoveries: 0, gaadCalls: 0, discoveryMs: 0, writes: 0, backups: 0 };
  const { deps } = await liveRuntime();
  const iam = deps.iam as IamAuthorizationDetailsDirectory;
  const read = iam.readSnapshot.bind(iam);
  iam.readSnapshot = async () => {
    counters.discoveries++;
    const t0 = performance.now();
    try {
      return await read();
    } finally {
      counters.gaadCalls += iam.lastCallCount;
      counters.discoveryMs += performance.now() - t0;
    }
  };
  const { store, backups } = deps;
  const [create, replace, save] = [store.create.bind(store), store.replace.bind(store), backups.save.bind(backups)];
  store.create = (next) => (counters.writes++, create(next));
  store.replace = (next) => (counters.writes++, replace(next));
  backups.save = (input) => (counters.backups++, save(input));
  return {
    counters,
    invoke: async (event: unknown): Promise<Reply> => (await handler(event)) as Reply,
    /** Counter changes while `fn` runs. */
    async delta<T>(fn: () => Promise<T>): Promise<{ value: T } & Counters> {
      const before = { ...counters };
      const value = await fn();
      const d = Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, v - before[k as keyof Counters]])) as Counters;
      return { value, ...d };
    },
  };
}
