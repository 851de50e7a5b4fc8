/**
 * The syncer's reading of aws-auth (lib/core: viewAwsAuth, effectiveAccess) set against the
 * authenticator's own (test/oracle, through authenticator-oracle.ts): which callers there are,
 * what each gets, which keys either side can read. Pure functions, shared by the differential
 * test (test/oracle) and the recorded-fixture test (test/unit/core). Not a test file.
 *
 * The comparison is exact: usernames, groups in order and with repeats (the authenticator passes
 * them on as listed), ambiguous answers as sets of possible outcomes. It never asks lib/core which
 * ARNs are callers: `isCallerArn` is written from the authenticator's Canonicalize and IAM's
 * naming rules.
 */
import {
  AUTHENTICATOR_VERSIONS,
  mappedIdentities,
  outcomeOf,
  type AccessReading,
  type Answer as CoreAnswer,
  type EffectiveAccess,
  type Grant,
  type Outcome,
} from '../../lib/core/access.js';
import type { AwsAuthView, MapKeyView } from '../../lib/core/awsauth.js';
import type { MapKey } from '../../lib/core/types.js';
import type { Answer, AuthVersion, Reading } from './authenticator-oracle.js';

/** The parts of the oracle's readings (both versions) the comparisons use; recorded readings
 * (test/fixtures/core/parse/*.authenticator.json) have them too. */
export type GoReadings = Record<AuthVersion, Pick<Reading, 'keys' | 'accounts' | 'derived' | 'identities'>>;

const NAME = '[\\w+=,.@-]';
/**
 * A canonical ARN some caller of a cluster in `partition` can have, lower-cased (as the syncer
 * keys identities): pkg/arn Canonicalize keeps `iam` users (with their path) and root users and
 * `sts` federated users as they are, and turns an assumed-role session into the role ARN
 * without its path. STS only answers for the cluster's own partition. IAM paths are `/` or
 * `/…/` with printable ASCII between (IAM's documented pattern: printable ASCII and DEL, which allows `/a//b/`).
 */
export function isCallerArn(probe: string, partition = 'aws'): boolean {
  const p = partition.replace(/[-]/g, '\\-');
  return new RegExp(
    `^arn:${p}:iam::\\d{12}:(?:root|role/${NAME}{1,64}|user(?:/[\\x21-\\x7f]+)?/${NAME}{1,64})$|^arn:${p}:sts::\\d{12}:federated-user/${NAME}{2,32}$`,
  ).test(probe);
}

/** The caller ARNs an aws-auth text could be about: every ARN-looking token, lower-cased, with
 * role paths and STS sessions reduced to the role ARN (what a session of that role presents). */
export function probesInText(...texts: (string | undefined)[]): string[] {
  const out = new Set<string>();
  // Double-quoted scalars may spell characters as escapes (`\x7f`): read them both ways.
  const unescaped = (t: string): string =>
    t.replace(/\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a?: string, b?: string, c?: string) =>
      String.fromCodePoint(parseInt((a ?? b ?? c)!, 16)),
    );
  for (const t of texts.flatMap((x) => (x === undefined ? [] : [x, unescaped(x)]))) {
    for (const [token] of t.toLowerCase().matchAll(/arn:[a-z0-9-]+:(?:iam|sts)::\d{12}:[\x21-\x7f]+/g)) {
      const arn = token.replace(/["',\]}]+$/, '');
      const m = /^arn:([a-z0-9-]+):(iam|sts)::(\d{12}):(role|assumed-role)\/(?:[^\s]*\/)?([^/\s]+?)(?:\/[^/\s]+)?$/.exec(arn);
      out.add(arn);
      if (m) {
        const name = m[4] === 'assumed-role' ? arn.split('/')[1]! : m[5]!;
        out.add(`arn:${m[1]}:iam::${m[3]}:role/${name}`);
      }
    }
  }
  return [...out];
}

/** The data with the keys the syncer cannot read removed: what its effective access claims to
 * know is what the authenticator makes of the rest. */
export function restrictData(data: Record<string, string> | undefined, unknownKeys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) if (!unknownKeys.includes(k) && (k === 'mapRoles' || k === 'mapUsers' || k === 'mapAccounts')) out[k] = v;
  return out;
}

const accountOf = (arn: string): string => arn.split(':')[4] ?? '';

/** Could the oracle have derived this probe from its store (printable ASCII, no space)? */
const derivable = (probe: string): boolean => /^[\x21-\x7e]+$/.test(probe);

/**
 * The authenticator's answer as an Outcome. A probe it was not asked about and did not derive
 * matches no stored entry (the oracle derives every printable-ASCII ARN a stored key can match),
 * so it gets the account-level answer or nothing; for any other probe it must have been asked.
 */
export function goOutcome(reading: Pick<Reading, 'identities' | 'accounts'>, probe: string): Outcome | undefined {
  const a: Answer | undefined = reading.identities[probe];
  if (a === undefined && !derivable(probe)) return undefined;
  if (a === undefined) return reading.accounts.includes(accountOf(probe)) ? { kind: 'account' } : { kind: 'none' };
  if ('ambiguous' in a) return { kind: 'ambiguous', options: a.ambiguous.map((m) => ({ username: m.username, groups: m.groups })) };
  if ('account' in a) return { kind: 'account' };
  if (a.mapped) return { kind: 'mapped', username: a.username, groups: a.groups };
  return { kind: 'none' };
}

const optionKey = (o: { username: string; groups: string[] }): string => JSON.stringify([o.username, o.groups]);

/** Exactly the same outcome: usernames and group lists equal; ambiguous as sets of outcomes. */
export function exactlySame(a: Outcome, b: Outcome): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'mapped' && b.kind === 'mapped') return optionKey(a) === optionKey(b);
  if (a.kind === 'ambiguous' && b.kind === 'ambiguous') {
    const sa = [...new Set(a.options.map(optionKey))].sort();
    const sb = [...new Set(b.options.map(optionKey))].sort();
    return JSON.stringify(sa) === JSON.stringify(sb);
  }
  return true;
}

export function describeOutcome(o: Outcome): string {
  if (o.kind === 'mapped') return `${JSON.stringify(o.username)} ${JSON.stringify(o.groups)}`;
  if (o.kind === 'ambiguous') return `either of ${o.options.map((x) => `${JSON.stringify(x.username)} ${JSON.stringify(x.groups)}`).join(' | ')}`;
  return o.kind;
}

/** The probes worth asking about for a reading: the syncer's mapped identities and the given ones. */
export function probesFor(access: EffectiveAccess | undefined, extra: Iterable<string>, partition = 'aws'): string[] {
  const out = new Set<string>();
  for (const p of extra) if (isCallerArn(p, partition)) out.add(p);
  if (access) for (const id of mappedIdentities(access)) if (isCallerArn(id, partition)) out.add(id);
  return [...out].sort();
}

/**
 * Where the syncer's effective access and the authenticator's answers differ, per version, for
 * every probe and every caller ARN the authenticator derived from its store.
 */
export function compareAccess(syncer: EffectiveAccess, go: GoReadings, probes: readonly string[], partition = 'aws'): string[] {
  const out: string[] = [];
  for (const v of AUTHENTICATOR_VERSIONS) {
    const ids = new Set(probes);
    for (const d of go[v].derived) if (isCallerArn(d, partition)) ids.add(d);
    for (const id of mappedIdentities(syncer)) if (isCallerArn(id, partition)) ids.add(id);
    for (const id of [...ids].sort()) {
      const s = outcomeOf(syncer[v], id);
      const g = goOutcome(go[v], id);
      if (g === undefined) out.push(`${v} ${JSON.stringify(id)}: the authenticator was not asked (the syncer: ${describeOutcome(s)})`);
      else if (!exactlySame(s, g)) out.push(`${v} ${JSON.stringify(id)}: syncer ${describeOutcome(s)}, authenticator ${describeOutcome(g)}`);
    }
  }
  return out;
}

/**
 * Per key, does the authenticator's parse agree with the syncer's state? `broken` must be a key
 * the authenticator cannot read (a YAML or decode error, nothing stored); `empty` one it reads as
 * nothing; `ok` one it reads without a YAML error (a decode error only where the syncer saw an
 * item that is not a mapping; v0.6.13 keeps every item). `unsure` keys are not compared (the
 * syncer refuses them). mapAccounts: the allowed accounts are the same set.
 */
export function compareKeys(view: AwsAuthView, go: GoReadings): string[] {
  const out: string[] = [];
  const keyProblem = (kv: MapKeyView, v: (typeof AUTHENTICATOR_VERSIONS)[number]): string | undefined => {
    const k = go[v].keys[kv.key];
    const err = k.yamlError ?? k.decodeError;
    switch (kv.state) {
      case 'absent':
        return k.present ? 'present to the authenticator' : undefined;
      case 'empty':
        return err !== null || k.stored > 0 ? `the authenticator reads ${k.stored} entries${err ? ` (${err})` : ''}` : undefined;
      case 'broken':
        return err === null || k.stored > 0 ? `the authenticator reads it (${k.stored} stored${err ? `, ${err}` : ''})` : undefined;
      case 'ok':
        if (k.yamlError !== null) return `the authenticator cannot read it: ${k.yamlError}`;
        // encoding/json keeps decoding past a type error: the syncer sees it as a non-mapping item
        // (decoded as an empty entry) or inside an sso matcher (whose fields it does not read:
        // the matcher never matches, and v0.7.18 drops the entry either way).
        if (k.decodeError !== null && kv.entries.every((e) => e.isMapping && !e.sso)) return `the authenticator fails to decode it: ${k.decodeError}`;
        if (v === 'v0.6.13' && k.parsed !== kv.entries.length) return `${kv.entries.length} entries, the authenticator parsed ${k.parsed}`;
        return undefined;
      case 'unsure':
        return undefined;
    }
  };
  for (const v of AUTHENTICATOR_VERSIONS) {
    for (const kv of [view.mapRoles, view.mapUsers]) {
      const p = keyProblem(kv, v);
      if (p) out.push(`${v} ${kv.key} is ${kv.state} to the syncer${kv.reason ? ` (${kv.reason})` : ''}, but ${p}`);
    }
    const a = view.mapAccounts;
    const ga = go[v].keys.mapAccounts;
    if (a.state === 'unsure') continue;
    const syncerAccounts = JSON.stringify([...new Set(a.accounts)].sort());
    const goAccounts = JSON.stringify([...new Set(go[v].accounts)].sort());
    if (a.state === 'broken' && ga.error === null) out.push(`${v} mapAccounts is broken to the syncer (${a.reason}), but the authenticator reads it`);
    if ((a.state === 'ok' || a.state === 'empty') && ga.error !== null)
      out.push(`${v} mapAccounts is ${a.state} to the syncer, but the authenticator fails: ${ga.error}`);
    if (a.state === 'absent' && ga.present) out.push(`${v} mapAccounts is absent to the syncer, present to the authenticator`);
    if (syncerAccounts !== goAccounts) out.push(`${v} mapAccounts: syncer allows ${syncerAccounts}, authenticator ${goAccounts}`);
  }
  return out;
}

const grantOf = (m: { from: MapKey; arn: string; username: string; groups: string[] }): Grant => ({
  username: m.username,
  groups: m.groups,
  key: m.from,
  index: -1,
  arn: m.arn,
});

/**
 * The effective access as the authenticator's answers give it (for the guards): every caller ARN
 * it answered for, and its allowed accounts. `unknownKeys` are the syncer's (the keys it left out
 * of the data sent).
 */
export function goAccess(go: GoReadings, unknownKeys: readonly string[], partition = 'aws'): EffectiveAccess {
  const reading = (v: (typeof AUTHENTICATOR_VERSIONS)[number]): AccessReading => {
    const grants = new Map<string, CoreAnswer>();
    for (const [id, a] of Object.entries(go[v].identities)) {
      if (!isCallerArn(id, partition)) continue;
      if ('ambiguous' in a) grants.set(id, { kind: 'ambiguous', grants: a.ambiguous.map(grantOf) });
      else if ('from' in a) grants.set(id, { kind: 'mapped', grant: grantOf(a) });
    }
    return { version: v, grants, accounts: new Set(go[v].accounts), unknownKeys: [...unknownKeys] };
  };
  return { 'v0.6.13': reading('v0.6.13'), 'v0.7.18': reading('v0.7.18') };
}
