/**
 * Section 2 — plan speed of the pure core (planSync end to end) at 1,000 / 10,000 / 50,000
 * principals over an aws-auth of the same size, the largest aws-auth that fits the 1 MiB
 * ConfigMap limit (found by rendering, then checked against the real kube-apiserver), whether
 * planSync refuses the ones that do not fit, and where the time goes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AWS_AUTH_PATH, bytes, int, kube, log, ms, runNodeJson, spread, stats, table, verdict } from './lib.mjs';

const WORKER = 'scripts/bench/plan-worker.mjs';
const cmd = (args) => `node --expose-gc ${WORKER} '${JSON.stringify(args)}'`;
const worker = (args) => runNodeJson(['--expose-gc', WORKER, JSON.stringify(args)], { timeoutMs: 30 * 60 * 1000 });

export const id = 'plan';
export const title = '2. Plan speed (pure core) and the 1 MiB limit';
export const needs = ['live'];

export async function run(ctx) {
  const sizes = ctx.quick ? [200, 1000] : [1000, 10000, 50000];
  const repsFor = (n) => (n >= 50000 ? 3 : ctx.quick ? 3 : 5);
  const warmupFor = (n) => (n >= 50000 ? 0 : 1);

  log('plan: finding the largest aws-auth that fits 1 MiB (rendering with planSync)');
  const tmp = mkdtempSync(join(tmpdir(), 'aas-bench-plan-'));
  const fitArgs = { mode: 'fit' };
  let fit;
  let perEntry;
  let apiserver;
  try {
    fit = await worker({ ...fitArgs, writeObjects: join(tmp, 'aws-auth') });
    perEntry = await worker({ mode: 'perEntry' });
    log(`plan: ${fit.fitN} principals fit (${fit.fitBytes} bytes); ${fit.overN} do not (${fit.overBytes} bytes)`);

    // The real apiserver's verdict on the two objects (admin token; then aws-auth is removed).
    const stack = await ctx.stack('live');
    if (stack) {
      const post = async (file) => {
        await kube(stack, 'DELETE', AWS_AUTH_PATH);
        const obj = JSON.parse(readFileSync(file, 'utf8'));
        return kube(stack, 'POST', '/api/v1/namespaces/kube-system/configmaps', obj);
      };
      const a = await post(join(tmp, 'aws-auth.fit.json'));
      const b = await post(join(tmp, 'aws-auth.over.json'));
      await kube(stack, 'DELETE', AWS_AUTH_PATH);
      apiserver = { fitStatus: a.status, overStatus: b.status, overMessage: typeof b.json === 'object' ? b.json.message : String(b.json).slice(0, 300), version: stack.versions?.kubernetes };
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const all = [...new Set([...sizes, fit.fitN])].sort((a, b) => a - b);
  const rows = [];
  for (const n of all) {
    const args = { mode: 'time', n, reps: repsFor(n), warmup: warmupFor(n) };
    log(`plan: timing planSync at ${n} principals (${args.reps} runs + ${args.warmup} warm-up, fresh process)`);
    const r = await worker(args);
    rows.push({ ...r, churnStats: stats(r.churnMs), noopStats: stats(r.noopMs), command: cmd(args) });
  }
  const yamlN = ctx.quick ? 1000 : fit.fitN;
  const yamlArgs = { mode: 'yaml', n: yamlN, reps: ctx.quick ? 3 : 5 };
  log(`plan: YAML read/write at ${yamlN} principals`);
  const yaml = await worker(yamlArgs);

  const fitRow = rows.find((r) => r.n === fit.fitN);
  const smallest = rows[0];
  const largest = rows[rows.length - 1];
  const perP = (r) => (r.churnStats.median / r.n) * 1000; // µs per principal
  const linearity = perP(largest) / perP(smallest);
  const target = fitRow.churnStats.median < 200;
  const tooLargeRow = rows.find((r) => r.churn.refusals.some((x) => x.code === 'too-large'));

  const md = [];
  md.push(
    `Inputs (scripts/bench/fixtures.mjs): 80 % IAM users (path \`/people/\`, each in one of 10 mapped IAM groups, every 10th in two → groups \`[team-NN, viewers]\`), 20 % roles (path \`/service-role/\`, tagged \`aws-auth-syncer/<cluster>/groups = "deployers viewers"\`, default username template \`arn:aws:sts::<account>:assumed-role/<role>/{{SessionName}}\`), plus 3 unmanaged entries (node role, break-glass admin, the syncer). "Current" is the aws-auth the syncer itself rendered for the same principals; the timed plan applies a busy day's churn (1 % of users change team, 10 leave, 10 join: the write path, all guards run). The no-op plan is the same inputs again (no change, guards skipped). Each size runs in a fresh \`node --expose-gc\` process, GC before each run.`,
  );
  md.push('');
  md.push(
    table(
      ['principals', 'entries in aws-auth', 'data bytes', 'fits 1 MiB', 'planSync, 1 % churn: median (min–max, n)', 'per principal', 'planSync, no change', 'refusals (churn plan)', 'reproduce'],
      rows.map((r) => [
        String(r.n) + (r.n === fit.fitN ? ' (largest that fits)' : ''),
        int(r.entries),
        int(r.dataBytes),
        r.dataBytes <= r.limit ? 'yes' : 'no',
        spread(r.churnStats),
        `${perP(r).toFixed(0)} µs`,
        spread(r.noopStats),
        r.churn.refusals.map((x) => x.code).join(', ') || 'none',
        `\`${r.command}\``,
      ]),
    ),
  );
  md.push('');
  md.push('**The 1 MiB limit.**');
  md.push('');
  md.push(
    `- Found by rendering (\`${cmd(fitArgs)}\`): with this mix (${fit.perEntryBytes.toFixed(0)} bytes per entry) **${int(fit.fitN)} principals** fit (${int(fit.fitBytes)} bytes of data, ${int(fit.fitEntries)} entries with the 3 unmanaged ones); ${int(fit.overN)} do not (${int(fit.overBytes)} bytes). Other mixes, estimated from bytes per entry at 1,000: all users (${perEntry['1'].perEntryBytes.toFixed(0)} B/entry) ≈ ${int(perEntry['1'].estimatedFit)}, all roles with the default assumed-role username (${perEntry['0'].perEntryBytes.toFixed(0)} B/entry) ≈ ${int(perEntry['0'].estimatedFit)}.`,
  );
  md.push(
    `- planSync refuses the oversize ones: at ${int(fit.overN)} principals the plan carries \`too-large\` — "${fit.overRefusal}". ${tooLargeRow ? `So do the ${rows.filter((r) => r.churn.refusals.some((x) => x.code === 'too-large')).map((r) => int(r.n)).join(' and ')}-principal rows above.` : ''} No refusal at ${int(fit.fitN)} (refusals: ${fit.fitRefusals.join(', ') || 'none'}).`,
  );
  if (apiserver) {
    md.push(
      `- The real kube-apiserver ${apiserver.version} agrees: creating the ${int(fit.fitN)}-principal object answers ${apiserver.fitStatus}, the ${int(fit.overN)}-principal one ${apiserver.overStatus} ("${apiserver.overMessage}").`,
    );
  }
  md.push(
    `- The ownership annotation (16 hex digits per owned entry) stays within the 256 KiB annotation budget: ${bytes(fitRow.annotationBytes)} at ${int(fit.fitN)}.`,
  );
  md.push('');
  md.push(
    `**Target: the largest aws-auth that fits (${int(fit.fitN)} principals) plans in under 200 ms median — ${verdict(target)}** (${ms(fitRow.churnStats.median)} with churn, ${ms(fitRow.noopStats.median)} with no change). **Linear growth — ${verdict(linearity < 1.5)}**: ${perP(smallest).toFixed(0)} µs per principal at ${int(smallest.n)}, ${perP(largest).toFixed(0)} µs at ${int(largest.n)} (×${linearity.toFixed(2)}).`,
  );
  md.push('');
  const s = fitRow.stages;
  const stageTotal = s.parse + s.desired + s.reconcile + s.render + s.guards;
  md.push(`Where the time goes at ${int(fit.fitN)} principals (each stage timed on its own, median of ${Math.min(repsFor(fit.fitN), 3)}):`);
  md.push('');
  md.push(
    table(
      ['stage', 'time', 'share', 'what it does'],
      [
        ['parse current', ms(s.parse), `${((s.parse / stageTotal) * 100).toFixed(0)} %`, 'parseAwsAuth: YAML 1.1 parse of mapRoles + mapUsers, read entries'],
        ['desired', ms(s.desired), `${((s.desired / stageTotal) * 100).toFixed(0)} %`, 'buildDesired from the IAM snapshot'],
        ['reconcile', ms(s.reconcile), `${((s.reconcile / stageTotal) * 100).toFixed(0)} %`, 'merge with the current entries and ownership'],
        ['render', ms(s.render), `${((s.render / stageTotal) * 100).toFixed(0)} %`, 'renderAwsAuth: re-parses each current key (`holds`), then YAML-renders the changed keys'],
        ['guards', ms(s.guards), `${((s.guards / stageTotal) * 100).toFixed(0)} %`, 'checkGuards: parses the rendered object again (round trip, nodes, admins, self, size)'],
        ['(one YAML parse of the current keys)', ms(s.yamlParseOnce), '', 'parseYaml11 alone, for scale'],
      ],
    ),
  );
  md.push('');
  const y = (k) => stats(yaml[k]).median;
  md.push(`YAML at ${int(yaml.n)} principals (${bytes(yaml.bytes)} of mapRoles + mapUsers), median of ${yamlArgs.reps} (\`${cmd(yamlArgs)}\`):`);
  md.push('');
  md.push(
    table(
      ['operation', 'median'],
      [
        ['parseYaml11 (product: `yaml` 2.x parseDocument, YAML 1.1 + go-yaml tags)', ms(y('parseYaml11'))],
        ['renderYaml11 (product)', ms(y('renderYaml11'))],
        [`js-yaml ${yaml.jsYamlVersion ?? ''} load (reference only: YAML 1.2, not go-yaml's reading)`, yaml.jsYaml ? ms(y('jsYaml')) : 'n/a'],
        [`strict reader of the syncer's own rendering (bench what-if, scripts/bench/fastpath.mjs; identical result: ${yaml.fastPathIdentical ? 'yes' : 'NO'})`, ms(y('fastPath'))],
        ['JSON.parse of the same lists (floor)', ms(y('jsonParse'))],
      ],
    ),
  );
  md.push('');
  const gapX = fitRow.churnStats.median / 200;
  // With both changes: the non-YAML stages, one render, two fast-path reads (current + rendered).
  const sameN = yaml.n === fit.fitN;
  const projected = sameN ? s.desired + s.reconcile + y('renderYaml11') + 2 * y('fastPath') : NaN;
  const projection = sameN
    ? `Projected from these measurements with both changes: desired ${ms(s.desired)} + reconcile ${ms(s.reconcile)} + one render ${ms(y('renderYaml11'))} + two fast reads ${ms(2 * y('fastPath'))} ≈ **${ms(projected)}**${projected < 200 ? ' — under the target' : ` — still over 200 ms; the render (the \`yaml\` serializer) is then the largest part, and the next step after (1) and (2) is to render only the entries that changed and keep the text of unchanged ones (every entry is an independent list item), checked by the same round-trip guard`}.`
    : '(Run without --quick for the projection at the largest size.)';
  if (!target) {
    md.push(
      `**Gap and next step.** ${ms(fitRow.churnStats.median)} is ${gapX.toFixed(1)}× the 200 ms target. Almost all of it is YAML: one parseYaml11 of the current keys costs ${ms(s.yamlParseOnce)} here, and a sync plan parses the same text three times (parseAwsAuth, renderAwsAuth's \`holds\` check per key, checkGuards' parse of the rendered object — unchanged keys are byte-identical to the current ones) plus one render. Recommended product change, in lib/core: (1) memoise parseMapKey by text within one plan (one parse of the current text instead of three: saves about ${ms(2 * s.yamlParseOnce)} at ${int(fit.fitN)}); (2) in lib/core/yaml.ts, a strict fast path for text in exactly the renderer's shape with plain scalars that can only be strings, falling back to the full YAML 1.1 parser on anything else — the bench's version reads the same ${bytes(yaml.bytes)} in ${ms(y('fastPath'))} instead of ${ms(y('parseYaml11'))} with an identical result. ${projection} Keep the full parser for hand-edited aws-auth (first adoption) and for the round-trip guard's check of anything not in the fast-path shape.`,
    );
  }
  return {
    markdown: md.join('\n'),
    data: { fit, perEntry, apiserver, rows: rows.map((r) => ({ n: r.n, entries: r.entries, dataBytes: r.dataBytes, churnMedian: r.churnStats.median, noopMedian: r.noopStats.median, refusals: r.churn.refusals.map((x) => x.code) })), yaml: { n: yaml.n, parse: y('parseYaml11'), render: y('renderYaml11'), fast: y('fastPath') }, target, linearity },
  };
}
