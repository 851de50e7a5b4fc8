/**
 * Differential test (issue 9, item 5): the syncer's reading of aws-auth against the
 * authenticator's own code, v0.6.13 and v0.7.18 (test/oracle), on generated hostile aws-auth
 * texts, IAM snapshots and policies.
 *
 * P1  For every key the syncer reads (absent, empty, ok, broken) its effective access equals the
 *     authenticator's reading of the ConfigMap restricted to those keys, for every caller ARN
 *     either side knows of (and random ones); a key it calls broken the authenticator cannot read
 *     either; mapAccounts allows the same accounts. Keys it calls unsure are left out (refusing
 *     is allowed) and counted.
 * P2  For every plan that writes (not refused), the authenticator's reading of plan.next equals
 *     plan.after, the access the plan intended, and every key the plan rewrote reads without an
 *     error the current text did not already have.
 * P3  No guard verdict changes when the guards judge the authenticator's readings of the
 *     current and next objects instead of the syncer's: for the sync, and for a restore of the
 *     current object over the next one.
 * Plus: the everyday shapes (kubectl, eksctl, Terraform, the AWS docs) are all read (`ok`).
 *
 * Cases are generated in chunks and sent to the oracle in batches; a failing case is replayed
 * alone (same seed and path) so that fast-check shrinks it and prints the smallest input.
 * FUZZ_RUNS (default 5000) sets the number of cases, FUZZ_SEED the seed; `npm run fuzz` runs
 * 200,000. Needs the oracle binaries (`bash test/stack/build.sh --oracle-only`).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { AUTHENTICATOR_VERSIONS, effectiveAccess, mappedIdentities, type EffectiveAccess } from '../../lib/core/access.js';
import { viewAwsAuth, type AwsAuthView } from '../../lib/core/awsauth.js';
import { checkGuards } from '../../lib/core/guards.js';
import { identityKeyOf } from '../../lib/core/identity.js';
import { planRestore, planSync, type SyncPlan, type SyncPlanInput } from '../../lib/core/plan.js';
import { dataSize } from '../../lib/core/render.js';
import { MAP_KEYS, type ConfigMapObject, type RefusalCode } from '../../lib/core/types.js';
import { compareAccess, compareKeys, goAccess, isCallerArn, probesFor, probesInText, restrictData } from '../support/authenticator-compare.js';
import { AuthenticatorOracle, type OracleCase, type Readings } from '../support/authenticator-oracle.js';
import { planInputArb } from '../unit/properties/arbitraries.js';
import { EVERYDAY_TEXTS, NAMES, UNIVERSE_PROBES } from '../unit/properties/awsauth-text.js';

const RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 5000) || 5000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
const CHUNK = 250;
/** FUZZ_SURVEY=1: do not stop at the first failing case; print every kind of violation seen, with
 * a count and one example, and fail at the end (for exploring, not for CI). */
const SURVEY = process.env.FUZZ_SURVEY === '1';
const survey: Record<string, { count: number; example: string }> = {};
/** Guards that judge access (the others look at the text, sizes and counts). */
const ACCESS_GUARDS: readonly RefusalCode[] = ['too-many-removals', 'last-masters', 'node-mapping', 'self-mapping'];

let oracle: AuthenticatorOracle;
beforeAll(async () => {
  oracle = await AuthenticatorOracle.start();
});
afterAll(async () => {
  await oracle?.close();
});

// ---------------------------------------------------------------------------------------------
// Cases

/** Caller ARNs nobody wrote down: unmapped callers, account-level callers. */
const randomProbe: fc.Arbitrary<string> = fc
  .record({
    account: fc.constantFrom('111122223333', '444455556666', '999988887777'),
    kind: fc.constantFrom('role', 'user', 'root', 'federated-user'),
    name: fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z0-9+=,.@_-]{2,12}$/)),
  })
  .map(({ account, kind, name }) =>
    (kind === 'root'
      ? `arn:aws:iam::${account}:root`
      : kind === 'federated-user'
        ? `arn:aws:sts::${account}:federated-user/${name}`
        : `arn:aws:iam::${account}:${kind}/${name}`
    ).toLowerCase(),
  );

interface Case {
  input: SyncPlanInput;
  /** Extra probes: some of the generated universe and some random callers. */
  probes: string[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  input: planInputArb({ mutations: 20 }),
  probes: fc.tuple(fc.subarray(UNIVERSE_PROBES, { maxLength: 8 }), fc.array(randomProbe, { maxLength: 3 })).map(([a, b]) => [...a, ...b]),
});

/** The callers worth asking about for one object. */
function probesOf(c: Case, cm: ConfigMapObject | null, access: EffectiveAccess): string[] {
  const principals = [...c.input.snapshot.roles.map((r) => r.arn), ...c.input.snapshot.users.map((u) => u.arn), ...(c.input.selfArns ?? [])];
  return probesFor(access, [...c.probes, ...probesInText(...principals, cm?.data?.mapRoles, cm?.data?.mapUsers, cm?.data?.mapAccounts)]);
}

interface Prepared {
  c: Case;
  view: AwsAuthView;
  plan: SyncPlan;
  before: OracleCase;
  /** The next object, when the plan changes anything. */
  after?: OracleCase;
}

function prepare(c: Case): Prepared {
  const view = viewAwsAuth(c.input.current, c.input.policy.partition);
  const plan = planSync(c.input);
  const unknownBefore = plan.before['v0.7.18'].unknownKeys;
  const before: OracleCase = { data: restrictData(c.input.current?.data, unknownBefore), probes: probesOf(c, c.input.current, plan.before) };
  const after: OracleCase | undefined = plan.changed
    ? { data: restrictData(plan.next.data, plan.after['v0.7.18'].unknownKeys), probes: probesOf(c, plan.next, plan.after) }
    : undefined;
  return { c, view, plan, before, after };
}

// ---------------------------------------------------------------------------------------------
// Properties

interface Stats {
  cases: number;
  keys: Record<string, Record<string, number>>;
  p2: number;
  p3: number;
  /** P3 cases where an access guard refused (so the comparison is not all-clear against all-clear). */
  p3Refusing: number;
  /** Restores (the current object put back over the next one) whose guards were compared. */
  p3Restore: number;
  p3RestoreRefusing: number;
  refused: number;
  /** Decision rows by action, over all plans. */
  rows: Record<string, number>;
}
const stats: Stats = {
  cases: 0,
  keys: { mapRoles: {}, mapUsers: {}, mapAccounts: {} },
  p2: 0,
  p3: 0,
  p3Refusing: 0,
  p3Restore: 0,
  p3RestoreRefusing: 0,
  refused: 0,
  rows: {},
};

function count(view: AwsAuthView): void {
  for (const k of ['mapRoles', 'mapUsers', 'mapAccounts'] as const) stats.keys[k]![view[k].state] = (stats.keys[k]![view[k].state] ?? 0) + 1;
}

/** Every property on one prepared case and the oracle's readings; the violations found. */
function judge(p: Prepared, goBefore: Readings, goAfter: Readings | undefined, record: boolean): string[] {
  const { c, view, plan } = p;
  const out: string[] = [];
  if (record) {
    stats.cases++;
    count(view);
    for (const r of plan.rows) stats.rows[r.action] = (stats.rows[r.action] ?? 0) + 1;
  }
  // P1: the current object.
  out.push(...compareKeys(view, goBefore).map((m) => `P1 current: ${m}`));
  out.push(...compareAccess(plan.before, goBefore, p.before.probes ?? []).map((m) => `P1 current: ${m}`));
  if (!plan.changed || !goAfter) return out;

  // P2: what the plan writes reads as what it intended.
  if (plan.refusals.length === 0) {
    if (record) stats.p2++;
    out.push(...compareAccess(plan.after, goAfter, p.after!.probes ?? []).map((m) => `P2 next: ${m}`));
    const nextView = viewAwsAuth(plan.next, c.input.policy.partition);
    out.push(...compareKeys(nextView, goAfter).map((m) => `P2 next: ${m}`));
    for (const key of MAP_KEYS) {
      if (plan.next.data?.[key] === c.input.current?.data?.[key]) continue;
      // A rewritten key reads, to both, without an error its kept entries do not explain: no
      // YAML error, a decode error only from a kept item (compareKeys), no new Validate error.
      if (nextView[key].state !== 'ok' && nextView[key].state !== 'empty')
        out.push(`P2 next: ${key} was rewritten and is ${nextView[key].state} to the syncer: ${nextView[key].reason}`);
      for (const v of AUTHENTICATOR_VERSIONS) {
        const now = goAfter[v].keys[key];
        if (now.yamlError !== null) out.push(`P2 next: ${v} ${key} was rewritten and the authenticator cannot read it: ${now.yamlError}`);
        const fresh = now.validateErrors.filter((e) => !goBefore[v].keys[key].validateErrors.includes(e));
        if (fresh.length) out.push(`P2 next: ${v} ${key} was rewritten and Validate now drops entries: ${fresh.join('; ')}`);
      }
    }
  } else if (record) stats.refused++;

  // P3: the same guard verdicts over the authenticator's readings.
  if (record) stats.p3++;
  const ctx = {
    kind: 'sync' as const,
    beforeView: view,
    afterView: viewAwsAuth(plan.next, c.input.policy.partition),
    before: plan.before,
    after: plan.after,
    selfIds: [...new Set((c.input.selfArns ?? []).flatMap((a) => identityKeyOf(a) ?? []))],
    maxRemovals: c.input.policy.guards.maxRemovals,
    roundtrip: [],
    nextSize: dataSize(plan.next),
  };
  const codes = (refusals: { code: RefusalCode }[]): string[] => refusals.map((r) => r.code).filter((code) => ACCESS_GUARDS.includes(code));
  const planned = codes(plan.refusals);
  if (record && planned.length) stats.p3Refusing++;
  const rebuilt = codes(checkGuards(ctx, c.input.force === true));
  // The adapter must first reproduce the plan's own verdicts from the syncer's readings.
  if (JSON.stringify(rebuilt) !== JSON.stringify(planned))
    out.push(`P3 (test adapter) guards rebuilt from the plan give ${JSON.stringify(rebuilt)}, the plan said ${JSON.stringify(planned)}`);
  const goCtx = { ...ctx, before: goAccess(goBefore, plan.before['v0.7.18'].unknownKeys), after: goAccess(goAfter, plan.after['v0.7.18'].unknownKeys) };
  const overGo = codes(checkGuards(goCtx, c.input.force === true));
  if (JSON.stringify(overGo) !== JSON.stringify(planned))
    out.push(`P3 guards over the authenticator's readings refuse ${JSON.stringify(overGo)}, the plan ${JSON.stringify(planned)}`);

  // P3 for restores: putting the current object back over the next one (both read already).
  const current = c.input.current;
  if (!current) return out;
  const restore = planRestore({ current: plan.next, backup: current, partition: c.input.policy.partition, selfArns: c.input.selfArns, force: c.input.force });
  const restoredView = viewAwsAuth(restore.next, c.input.policy.partition);
  const rBefore = effectiveAccess(ctx.afterView);
  const rAfter = effectiveAccess(restoredView);
  const sameKeys = (a: readonly string[], b: readonly string[]): boolean => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  // The oracle read each object without the keys the syncer left out of it; compare only then.
  if (
    !sameKeys(rBefore['v0.7.18'].unknownKeys, plan.after['v0.7.18'].unknownKeys) ||
    !sameKeys(rAfter['v0.7.18'].unknownKeys, plan.before['v0.7.18'].unknownKeys)
  )
    return out;
  if (record) stats.p3Restore++;
  const rctx = {
    ...ctx,
    kind: 'restore' as const,
    beforeView: ctx.afterView,
    afterView: restoredView,
    before: rBefore,
    after: rAfter,
    maxRemovals: Number.POSITIVE_INFINITY,
    nextSize: dataSize(restore.next),
  };
  const restored = codes(restore.refusals);
  if (record && restored.length) stats.p3RestoreRefusing++;
  const rRebuilt = codes(checkGuards(rctx, c.input.force === true));
  if (JSON.stringify(rRebuilt) !== JSON.stringify(restored))
    out.push(`P3 restore (test adapter) guards rebuilt give ${JSON.stringify(rRebuilt)}, the restore plan said ${JSON.stringify(restored)}`);
  const rGo = codes(
    checkGuards(
      { ...rctx, before: goAccess(goAfter, rBefore['v0.7.18'].unknownKeys), after: goAccess(goBefore, rAfter['v0.7.18'].unknownKeys) },
      c.input.force === true,
    ),
  );
  if (JSON.stringify(rGo) !== JSON.stringify(restored))
    out.push(`P3 restore: guards over the authenticator's readings refuse ${JSON.stringify(rGo)}, the restore plan ${JSON.stringify(restored)}`);
  return out;
}

/** One case, alone (for shrinking). */
async function checkOne(c: Case): Promise<string[]> {
  const p = prepare(c);
  const goBefore = await oracle.read(p.before);
  const goAfter = p.after ? await oracle.read(p.after) : undefined;
  return judge(p, goBefore, goAfter, false);
}

describe('the syncer reads aws-auth as aws-iam-authenticator v0.6.13 and v0.7.18 do', () => {
  test('the everyday shapes (kubectl, eksctl, Terraform, AWS docs) are read, and read as the authenticator reads them', async () => {
    const names = Object.keys(EVERYDAY_TEXTS);
    const cms = names.map((n) => ({ metadata: { name: 'aws-auth' }, data: EVERYDAY_TEXTS[n]! }) as ConfigMapObject);
    const views = cms.map((cm) => viewAwsAuth(cm, 'aws'));
    const access = views.map((v) => effectiveAccess(v));
    const readings = await oracle.readAll(
      cms.map((cm, i) => ({ data: cm.data!, probes: probesFor(access[i], probesInText(cm.data!.mapRoles, cm.data!.mapUsers)) })),
    );
    const problems = names.flatMap((n, i) => {
      const states = (['mapRoles', 'mapUsers', 'mapAccounts'] as const)
        .filter((k) => cms[i]!.data![k] !== undefined)
        .map((k) => [k, views[i]![k].state] as const);
      return [
        ...states.filter(([, s]) => s !== 'ok' && s !== 'empty').map(([k, s]) => `${n}: ${k} is ${s}: ${views[i]![k].reason}`),
        ...compareKeys(views[i]!, readings[i]!).map((m) => `${n}: ${m}`),
        ...compareAccess(access[i]!, readings[i]!, []).map((m) => `${n}: ${m}`),
      ];
    });
    expect(problems).toEqual([]);
    // Not vacuous: the shapes grant what they say.
    expect(mappedIdentities(access[0]!).size).toBeGreaterThanOrEqual(4);
  });

  test(
    `P1 current, P2 next, P3 guards on ${RUNS} generated cases (seed ${SEED})`,
    async () => {
      const started = Date.now();
      let failing: { chunk: number; index: number; violations: string[] } | undefined;
      for (let chunk = 0; chunk * CHUNK < RUNS && !failing; chunk++) {
        const n = Math.min(CHUNK, RUNS - chunk * CHUNK);
        const prepared = fc.sample(caseArb, { seed: SEED + chunk, numRuns: n }).map(prepare);
        const requests = prepared.flatMap((p) => (p.after ? [p.before, p.after] : [p.before]));
        const readings = await oracle.readAll(requests);
        let r = 0;
        for (const [index, p] of prepared.entries()) {
          const goBefore = readings[r++]!;
          const goAfter = p.after ? readings[r++]! : undefined;
          const violations = judge(p, goBefore, goAfter, true);
          if (violations.length && SURVEY) {
            for (const v of violations) {
              const kind = v
                .replace(/arn:[^ ,]*/g, 'ARN')
                .replace(/"[^"]*"/g, '"…"')
                .replace(/\[[^\]]*\]/g, '[…]')
                .slice(0, 160);
              const seen = (survey[kind] ??= { count: 0, example: JSON.stringify({ violations, case: p.c }) });
              seen.count++;
            }
          } else if (violations.length) {
            failing = { chunk, index, violations };
            break;
          }
        }
      }
      const seconds = (Date.now() - started) / 1000;
      const present = (k: string): number =>
        Object.entries(stats.keys[k]!)
          .filter(([s]) => s !== 'absent')
          .reduce((a, [, x]) => a + x, 0);
      const unsure = ['mapRoles', 'mapUsers', 'mapAccounts'].map((k) => `${k} ${stats.keys[k]!.unsure ?? 0}/${present(k)}`).join(', ');
      console.log(
        `differential: ${stats.cases} cases in ${seconds.toFixed(1)} s (seed ${SEED}); P2 on ${stats.p2} written plans, P3 on ${stats.p3} changed plans (${stats.refused} refused, ${stats.p3Refusing} by an access guard) and ${stats.p3Restore} restores (${stats.p3RestoreRefusing} refused by an access guard); ` +
          `unsure keys (of those present): ${unsure}; states ${JSON.stringify(stats.keys)}; rows ${JSON.stringify(stats.rows)}`,
      );
      if (SURVEY && Object.keys(survey).length) {
        const lines = Object.entries(survey)
          .sort((a, b) => b[1].count - a[1].count)
          .map(([k, v]) => `${v.count}× ${k}\n    e.g. ${v.example.slice(0, 600)}`);
        if (process.env.FUZZ_SURVEY_FILE) writeFileSync(process.env.FUZZ_SURVEY_FILE, JSON.stringify(survey, null, 1));
        throw new Error(`violations:\n${lines.join('\n')}`);
      }
      if (failing) {
        // Replay the failing case alone, so that fast-check shrinks it and prints the smallest.
        await fc.assert(
          fc.asyncProperty(caseArb, async (c) => {
            const v = await checkOne(c);
            if (v.length) throw new Error(v.join('\n'));
          }),
          { seed: SEED + failing.chunk, path: String(failing.index), numRuns: CHUNK },
        );
        throw new Error(`case ${failing.index} of chunk ${failing.chunk} failed in the batch but not alone:\n${failing.violations.join('\n')}`);
      }
      expect(stats.cases).toBe(RUNS);
    },
    Math.max(300_000, RUNS * 30),
  );
});

// A case that exercises the runner's own failure path: isCallerArn must know canonical ARNs.
test('caller ARNs are the canonical ones', () => {
  for (const ok of [
    'arn:aws:iam::111122223333:role/a',
    'arn:aws:iam::111122223333:user/team/x/bob',
    'arn:aws:iam::111122223333:root',
    'arn:aws:sts::111122223333:federated-user/bob',
  ]) {
    expect(isCallerArn(ok)).toBe(true);
  }
  for (const no of [
    'arn:aws:iam::111122223333:role/team/a',
    'arn:aws:sts::111122223333:assumed-role/a/s',
    'arn:aws-cn:iam::111122223333:role/a',
    'arn:aws:iam::1:role/a',
    'arn:aws:iam::111122223333:role/a ',
    'arn:aws:iam::111122223333:group/g',
  ]) {
    expect(isCallerArn(no)).toBe(false);
  }
});
