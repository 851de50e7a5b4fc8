/**
 * Guards for the access-entries target, in the style of guards.ts: each a small check of the
 * effective access before and after (every entry counts, owned or not), with whether force may
 * waive it in a sync and in a restore; `checkEntryGuards` is the one place force is applied.
 */
import { candidates, isClusterAdmin, live, sameGrant, type EntryAccess } from './access-entries.js';
import type { PlanKind } from './guards.js';
import type { Refusal, RefusalCode } from './types.js';

export interface EntryGuardContext {
  kind: PlanKind;
  before: EntryAccess;
  after: EntryAccess;
  /** Identity keys of the syncer's own identities. */
  selfIds: readonly string[];
  maxRemovals: number;
  /** Sync only: entries discovery wants, entries the syncer owns now. */
  wantedCount?: number;
  ownedCount?: number;
}

export interface EntryGuard {
  code: RefusalCode;
  applies: Partial<Record<PlanKind, 'waivable' | 'never'>>;
  check(ctx: EntryGuardContext): string | undefined;
}

const arnOf = (ctx: EntryGuardContext, id: string): string => ctx.before.get(id)?.arn ?? ctx.after.get(id)?.arn ?? id;
const list = (ctx: EntryGuardContext, ids: readonly string[], max = 5): string =>
  ids
    .slice(0, max)
    .map((id) => arnOf(ctx, id))
    .join(', ') + (ids.length > max ? ` and ${ids.length - max} more` : '');

export const ENTRY_GUARDS: readonly EntryGuard[] = [
  {
    code: 'too-many-removals',
    applies: { sync: 'waivable' },
    check: (ctx) => {
      // Lost: no entry after, or (several entries that may be the working one) one of them gone.
      const arns = (id: string, m: EntryAccess) => new Set(candidates(m.get(id)).map((g) => g.arn.toLowerCase()));
      const lost = [...ctx.before.keys()]
        .filter((id) => live(ctx.before.get(id)) && (!live(ctx.after.get(id)) || [...arns(id, ctx.before)].some((a) => !arns(id, ctx.after).has(a))))
        .sort();
      if (lost.length <= ctx.maxRemovals) return undefined;
      return `${lost.length} identities would lose their access entry (${list(ctx, lost)}), more than guards.maxRemovals (${ctx.maxRemovals}); check IAM, then raise the limit or run with force`;
    },
  },
  {
    code: 'empty-discovery',
    applies: { sync: 'waivable' },
    check: (ctx) =>
      ctx.wantedCount === 0 && (ctx.ownedCount ?? 0) > 0
        ? `IAM discovery found no principal to map while the syncer owns ${ctx.ownedCount} access entries; refusing to delete them all (check the mappings and tags, or run with force)`
        : undefined,
  },
  {
    code: 'last-cluster-admin',
    applies: { sync: 'never', restore: 'waivable' },
    check: (ctx) => {
      // Where several entries may be an identity's working one, it "may" be an admin (one of
      // them is) or "surely" is (all are). Refused when either gets worse: a change never turns
      // a sure admin into a maybe, nor a maybe into none.
      const ids = (m: EntryAccess, how: 'may' | 'surely') => [...m.keys()].filter((id) => isClusterAdmin(m.get(id), how)).sort();
      const before = ids(ctx.before, 'may');
      const maybeAfter = ids(ctx.after, 'may');
      const worse = (ids(ctx.before, 'surely').length > 0 && ids(ctx.after, 'surely').length === 0) || (before.length > 0 && maybeAfter.length === 0);
      if (!worse) return undefined;
      if (maybeAfter.length > 0)
        return `no identity would surely hold AmazonEKSClusterAdminPolicy at cluster scope (today: ${list(ctx, before)}): ${list(ctx, maybeAfter)} would, only if its admin entry is the working one of its entries under several paths`;
      return `no access entry would still hold AmazonEKSClusterAdminPolicy at cluster scope (today: ${list(ctx, before)}); nobody could administer the cluster through access entries`;
    },
  },
  {
    code: 'self-mapping',
    applies: { sync: 'never', restore: 'waivable' },
    check: (ctx) => {
      const lost = ctx.selfIds.filter((id) => live(ctx.before.get(id)) && !sameGrant(ctx.before.get(id), ctx.after.get(id)));
      return lost.length ? `the syncer's own access entry (${list(ctx, lost)}) would be removed or changed; it would lock itself out` : undefined;
    },
  },
];

/** Every refusal that applies, minus those force waives. */
export function checkEntryGuards(ctx: EntryGuardContext, force: boolean): Refusal[] {
  const out: Refusal[] = [];
  for (const g of ENTRY_GUARDS) {
    const mode = g.applies[ctx.kind];
    if (mode === undefined || (force && mode === 'waivable')) continue;
    const message = g.check(ctx);
    if (message !== undefined) out.push({ code: g.code, message });
  }
  return out;
}
