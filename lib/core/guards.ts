/**
 * Guards: the checks between a plan and a write, each a small function of the effective access
 * before and after (as every authenticator version reads it: the worse outcome counts). Each
 * says whether force may waive it in a sync and in a restore; `checkGuards` is the one place
 * force is applied.
 */
import { arnOf, AUTHENTICATOR_VERSIONS, hasGroup, mappedIdentities, outcomeOf, sameOutcome, type EffectiveAccess } from './access.js';
import type { AwsAuthView } from './awsauth.js';
import { viewProblems } from './awsauth.js';
import { NODE_GROUPS } from './names.js';
import { CONFIGMAP_MAX_BYTES } from './render.js';
import type { Refusal, RefusalCode } from './types.js';

export type PlanKind = 'sync' | 'restore';

export interface GuardContext {
  kind: PlanKind;
  beforeView: AwsAuthView;
  afterView: AwsAuthView;
  before: EffectiveAccess;
  after: EffectiveAccess;
  /** Identity keys of the syncer's own roles (sync and restore). */
  selfIds: readonly string[];
  maxRemovals: number;
  /** Sync only: mappings discovery wants, entries the syncer owns now. */
  wantedCount?: number;
  ownedCount?: number;
  /** Problems found when the rewritten keys were read back. */
  roundtrip: readonly string[];
  nextSize: number;
}

/** Whether force may waive a guard: per plan kind; absent = the guard does not apply. */
type Waiver = Partial<Record<PlanKind, 'waivable' | 'never'>>;

export interface Guard {
  code: RefusalCode;
  applies: Waiver;
  check(ctx: GuardContext): string | undefined;
}

/** Map keys the syncer cannot be sure to read as the authenticator does (a broken key maps nobody). */
const unsureKeys = (view: AwsAuthView) => [view.mapRoles, view.mapUsers].filter((k) => k.state === 'unsure');
/** Outcomes without a mapping of their own (mapAccounts gives a username and no groups). */
const UNMAPPED = new Set(['none', 'account']);

/** Identities by the ARN their entries use, at most `max` of them. */
const list = (ctx: GuardContext, ids: Iterable<string>, max = 5): string => {
  const all = [...ids].map((id) => arnOf(ctx.before, id) ?? arnOf(ctx.after, id) ?? id);
  return all.slice(0, max).join(', ') + (all.length > max ? ` and ${all.length - max} more` : '');
};

/** Identities any version sees before or after (mapped ones: only they can hold groups); once per context. */
const known = new WeakMap<GuardContext, string[]>();
function identities(ctx: GuardContext): string[] {
  let ids = known.get(ctx);
  if (!ids) known.set(ctx, (ids = [...new Set([...mappedIdentities(ctx.before), ...mappedIdentities(ctx.after)])].sort()));
  return ids;
}

/** Identities whose outcome changes in some version, filtered. */
function changed(ctx: GuardContext, ids: Iterable<string>, pick: (id: string, v: (typeof AUTHENTICATOR_VERSIONS)[number]) => boolean): string[] {
  const out: string[] = [];
  for (const id of ids) {
    if (AUTHENTICATOR_VERSIONS.some((v) => pick(id, v) && !sameOutcome(outcomeOf(ctx.before[v], id), outcomeOf(ctx.after[v], id)))) out.push(id);
  }
  return out;
}

export const GUARDS: readonly Guard[] = [
  {
    code: 'current-unreadable',
    applies: { sync: 'waivable', restore: 'waivable' },
    check: (ctx) => {
      if (ctx.kind === 'restore') {
        // A restore replaces the keys. One the syncer cannot read may map anyone: who loses access
        // by replacing it is hidden from every other guard. (A broken key maps nobody.)
        const replaced = unsureKeys(ctx.beforeView).filter((k) => ctx.afterView[k.key].text !== k.text);
        if (replaced.length === 0) return undefined;
        return `the restore would replace keys the syncer cannot read (${replaced.map((k) => `${k.key}: ${k.reason}`).join('; ')}): who would lose access by that cannot be judged; restore with force to put the backup back anyway`;
      }
      const blocking = viewProblems(ctx.beforeView).filter((p) => p.blocking);
      if (blocking.length === 0) return undefined;
      return `the current aws-auth has keys the syncer will not rewrite (${blocking.map((p) => `${p.key}: ${p.reason}`).join('; ')}); fix them by hand, or run with force to sync the other keys and keep these byte for byte`;
    },
  },
  {
    // With force, a key the syncer cannot read is kept byte for byte and its entries are hidden
    // from the guards, yet the authenticator still reads it: mapRoles first, then mapUsers, for
    // any identity. Two ways that hidden key could take access the guards think is safe:
    code: 'hidden-by-unreadable',
    applies: { sync: 'never' },
    check: (ctx) => {
      const ids = identities(ctx);
      const { mapRoles, mapUsers } = ctx.beforeView;
      // The identities a hidden key may map: those its entries name when only an entry's other
      // fields are in doubt, anyone when its YAML is.
      const mayHide = (named: readonly string[] | undefined) => (id: string) => named === undefined || named.includes(id);
      if (mapRoles.state === 'unsure') {
        // …mapRoles may shadow an identity the guards count as an admin through mapUsers: when
        // someone loses system:masters, an admin it cannot hide must certainly remain.
        const lost = ids.filter((id) =>
          AUTHENTICATOR_VERSIONS.some(
            (v) => hasGroup(ctx.before[v], id, 'system:masters', 'possibly') && !hasGroup(ctx.after[v], id, 'system:masters', 'certainly'),
          ),
        );
        const hidden = mayHide(mapRoles.named);
        const remains = AUTHENTICATOR_VERSIONS.every((v) => ids.some((id) => !hidden(id) && hasGroup(ctx.after[v], id, 'system:masters', 'certainly')));
        if (lost.length && !remains)
          return `mapRoles cannot be read and the authenticator looks there first, so the admins the guards see may not be the real ones: nobody may lose system:masters while it stays (${list(ctx, lost)}) unless an admin it cannot hide remains; fix mapRoles by hand`;
      }
      if (mapUsers.state === 'unsure') {
        // …a new mapRoles entry would override whatever the unreadable mapUsers maps for that
        // identity (a node, the syncer, an admin), unseen.
        const hidden = mayHide(mapUsers.named);
        const added = ids.filter(
          (id) =>
            hidden(id) &&
            AUTHENTICATOR_VERSIONS.some((v) => UNMAPPED.has(outcomeOf(ctx.before[v], id).kind) && !UNMAPPED.has(outcomeOf(ctx.after[v], id).kind)),
        );
        if (added.length)
          return `mapUsers cannot be read: a new mapRoles entry would override whatever it maps for the same identity (${list(ctx, added)}), unseen by the node, admin and self guards; fix mapUsers by hand`;
      }
      return undefined;
    },
  },
  {
    code: 'backup-unreadable',
    applies: { restore: 'waivable' },
    check: (ctx) => {
      const blocking = viewProblems(ctx.afterView).filter((p) => p.blocking);
      if (blocking.length === 0) return undefined;
      return `the backup has keys whose effect the syncer cannot tell (${blocking.map((p) => `${p.key}: ${p.reason}`).join('; ')}); restore with force to put it back anyway`;
    },
  },
  {
    code: 'render-roundtrip',
    applies: { sync: 'never' },
    check: (ctx) => (ctx.roundtrip.length ? `the rendered aws-auth does not read back as planned (${ctx.roundtrip.join('; ')})` : undefined),
  },
  {
    code: 'too-many-removals',
    applies: { sync: 'waivable' },
    check: (ctx) => {
      const lost = changed(ctx, identities(ctx), (id, v) => ctx.before[v].grants.has(id) && !ctx.after[v].grants.has(id));
      if (lost.length <= ctx.maxRemovals) return undefined;
      return `${lost.length} identities would lose their mapping (${list(ctx, lost)}), more than guards.maxRemovals (${ctx.maxRemovals}); check IAM, then raise the limit or run with force`;
    },
  },
  {
    code: 'empty-discovery',
    applies: { sync: 'waivable' },
    check: (ctx) =>
      ctx.wantedCount === 0 && (ctx.ownedCount ?? 0) > 0
        ? `IAM discovery found no principal to map while the syncer owns ${ctx.ownedCount} entries; refusing to remove them all (check the mappings and tags, or run with force)`
        : undefined,
  },
  {
    code: 'last-masters',
    applies: { sync: 'never', restore: 'waivable' },
    check: (ctx) => {
      const ids = identities(ctx);
      const admins = new Set<string>();
      // Worse outcome: an ambiguous admin counts before, but not after.
      const failing = AUTHENTICATOR_VERSIONS.filter((v) => {
        const before = ids.filter((id) => hasGroup(ctx.before[v], id, 'system:masters', 'possibly'));
        before.forEach((id) => admins.add(id));
        return before.length > 0 && !ids.some((id) => hasGroup(ctx.after[v], id, 'system:masters', 'certainly'));
      });
      if (failing.length === 0) return undefined;
      const which = failing.length < AUTHENTICATOR_VERSIONS.length ? ` as authenticator ${failing.join(', ')} reads it` : '';
      return `no identity would still get system:masters${which} (today: ${list(ctx, admins)}); nobody could administer the cluster through aws-auth`;
    },
  },
  {
    code: 'node-mapping',
    applies: { sync: 'never', restore: 'waivable' },
    check: (ctx) => {
      const lost = changed(ctx, identities(ctx), (id, v) => NODE_GROUPS.some((g) => hasGroup(ctx.before[v], id, g, 'possibly')));
      return lost.length
        ? `${lost.length} node identit${lost.length === 1 ? 'y' : 'ies'} (system:nodes/system:bootstrappers) would lose or change their mapping (${list(ctx, lost)}); nodes would go NotReady`
        : undefined;
    },
  },
  {
    code: 'self-mapping',
    applies: { sync: 'never', restore: 'waivable' },
    check: (ctx) => {
      const lost = changed(ctx, ctx.selfIds, (id, v) => outcomeOf(ctx.before[v], id).kind !== 'none');
      return lost.length ? `the syncer's own access (${list(ctx, lost)}) would be removed or changed; it would lock itself out` : undefined;
    },
  },
  {
    code: 'too-large',
    applies: { sync: 'never', restore: 'never' },
    check: (ctx) =>
      ctx.nextSize > CONFIGMAP_MAX_BYTES
        ? `the next aws-auth would hold ${ctx.nextSize} bytes of data, over the 1 MiB ConfigMap limit; map IAM groups to fewer principals or move principals to EKS access entries`
        : undefined,
  },
];

/** Every refusal that applies, minus those force waives. */
export function checkGuards(ctx: GuardContext, force: boolean): Refusal[] {
  const out: Refusal[] = [];
  for (const g of GUARDS) {
    const mode = g.applies[ctx.kind];
    if (mode === undefined || (force && mode === 'waivable')) continue;
    const message = g.check(ctx);
    if (message !== undefined) out.push({ code: g.code, message });
  }
  return out;
}
