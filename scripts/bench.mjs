#!/usr/bin/env node
/**
 * npm run bench — the benchmark suite of issue 5; rewrites BENCHMARKS.md.
 *
 *   node scripts/bench.mjs                      all sections (~30–45 min on 2 cores)
 *   node scripts/bench.mjs plan coldstart       some sections; their blocks in BENCHMARKS.md
 *                                               are replaced, the others kept as they were
 *   node scripts/bench.mjs --quick --out /tmp/b.md   small sizes, to check the suite itself
 *   node scripts/bench.mjs discovery --sizes 10000x2000   one account size (users x roles)
 *   --no-naive                                  burst: skip the no-batching comparison run
 *
 * Sections: discovery, plan, coldstart, burst, e2e, peers. It builds dist/ when it is older
 * than the sources, starts its own local stacks (test/stack/stack.sh up <tmp>) and always
 * tears them down. No timing is asserted anywhere: this is where speed is measured.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureBuilt, loadNote, log, machineInfo, REPO, startStack, stopStack } from './bench/lib.mjs';

const SECTIONS = ['discovery', 'plan', 'coldstart', 'burst', 'e2e', 'peers'];
// e2e runs before burst: both use the shared live stack, and burst adds users to its account.
const RUN_ORDER = ['discovery', 'plan', 'coldstart', 'e2e', 'burst', 'peers'];

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--') && !a.includes('=')));
const opt = (name) => {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
};
if (flags.has('--help')) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(2, 17).join('\n'));
  process.exit(0);
}
const outFile = opt('--out') ? resolve(process.cwd(), opt('--out')) : join(REPO, 'BENCHMARKS.md');
const positional = argv.filter((a, i) => !a.startsWith('--') && !['--out', '--sizes'].includes(argv[i - 1]));
const unknown = positional.filter((s) => !SECTIONS.includes(s));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  process.exit(2);
}
const selected = positional.length ? RUN_ORDER.filter((s) => positional.includes(s)) : RUN_ORDER;
const quick = flags.has('--quick');

// ------------------------------------------------------------------ previous results

const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
const blockRe = (sid) => new RegExp(`<!-- bench:${sid}:start -->\\n([\\s\\S]*?)\\n<!-- bench:${sid}:end -->`);
function previousBlock(sid) {
  return previous.match(blockRe(sid))?.[1];
}
function previousData(sid) {
  const block = previousBlock(sid);
  const m = block?.match(/<!-- bench-data (\{[\s\S]*?\}) -->/);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ stacks shared by sections

const stacks = new Map();
const ctx = {
  quick,
  flags,
  opt,
  results: {},
  previousData,
  /** A running local stack of this kind, started on first use ('live' is shared; others are per section). */
  async stack(kind, options) {
    if (!stacks.has(kind)) stacks.set(kind, startStack(kind, options));
    return stacks.get(kind);
  },
  release(kind) {
    if (stacks.has(kind)) {
      stopStack(stacks.get(kind));
      stacks.delete(kind);
    }
  },
};

// ------------------------------------------------------------------ run

const started = new Date();
const machine = machineInfo();
log(`bench: sections ${selected.join(', ')}${quick ? ' (quick sizes)' : ''}; ${machine.load}`);
ensureBuilt();

const blocks = {};
const failures = [];
try {
  for (const sid of selected) {
    const mod = await import(`./bench/${sid}.mjs`);
    const t0 = performance.now();
    const loadBefore = loadNote();
    log(`=== ${mod.title}`);
    let body;
    try {
      const r = await mod.run(ctx);
      ctx.results[sid] = r.data;
      body = r.markdown;
      if (r.data) body += `\n\n<!-- bench-data ${JSON.stringify(r.data)} -->`;
    } catch (err) {
      failures.push(`${sid}: ${err.message}`);
      log(`section ${sid} FAILED: ${err.stack ?? err.message}`);
      body = `**This section failed in the last run**: \`${String(err.message).split('\n')[0]}\`. Reproduce: \`node scripts/bench.mjs ${sid}\`.`;
    }
    // Sections that use a stack of their own stop it right away (discovery seeds 12k entities).
    for (const n of mod.ownStacks ?? []) ctx.release(n);
    const took = (performance.now() - t0) / 1000;
    const header = `## ${mod.title}\n\n_Reproduce: \`node scripts/bench.mjs ${sid}${quick ? ' --quick' : ''}${sid === 'discovery' && opt('--sizes') ? ` --sizes ${opt('--sizes')}` : ''}\` · ran ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${took.toFixed(0)} s · before: ${loadBefore}; after: ${loadNote()}_${quick ? '\n\n**Quick run (small sizes, for checking the suite) — not the figures of record.**' : ''}`;
    blocks[sid] = `${header}\n\n${body}`;
    log(`=== ${sid} done in ${took.toFixed(0)} s`);
  }
} finally {
  for (const kind of [...stacks.keys()]) ctx.release(kind);
}

// ------------------------------------------------------------------ BENCHMARKS.md

const m = machine;
const stackVersions = Object.values(ctx.results).find((d) => d?.stackVersions)?.stackVersions ?? previousData('discovery')?.stackVersions;
const intro = `# Benchmarks

Generated by \`npm run bench\` (\`node scripts/bench.mjs\`, sources in \`scripts/bench/\`); do not edit by hand. Issue 5 is the spec. Each section can be rerun alone (\`node scripts/bench.mjs <section>\`, replacing only its block here); each row names the command that reproduces it. Times are medians with (min–max, n = runs); nothing in the test suite asserts on them.

## Machine

| | |
| --- | --- |
| CPU | ${m.nproc} × ${m.cpu} (\`nproc\` = ${m.nproc}) |
| memory | ${m.memoryGiB.toFixed(1)} GiB (${m.freeGiB.toFixed(1)} GiB free at start) |
| OS | ${m.os}, kernel ${m.kernel} |
| toolchains | node ${m.node}, go ${m.go}, python ${m.python}, esbuild ${m.esbuild}, osls ${m.osls} |
| local stack | ${stackVersions ? Object.entries(stackVersions).map(([k, v]) => `${k} ${v}`).join(', ') : 'see the sections'} (test/stack, all on 127.0.0.1) |
| load when this run started | ${m.load} |

This machine is shared: other engineers were building and testing on it during the runs, so absolute times are noisy (each section records the load average before and after it ran). Compare rows within a section rather than across runs; the call counts, sizes and byte counts are exact. Each section block says when it ran; what it measured is the working tree of that moment (dist/ rebuilt when older than the sources), and sections may come from different invocations of the bench.

## Summary
`;

const summaryLines = [];
const S = (sid) => ctx.results[sid] ?? previousData(sid);
{
  const d = S('discovery');
  if (d?.headline) summaryLines.push(`- **IAM discovery (GetAccountAuthorizationDetails vs ListRoles + ListRoleTags + GetGroup)**: ${d.headline}`);
  const p = S('plan');
  if (p?.fit) {
    const fr = p.rows.find((r) => r.n === p.fit.fitN);
    summaryLines.push(`- **Plan**: ${p.fit.fitN.toLocaleString('en-US')} principals fit in 1 MiB; planSync at that size: ${fr ? fr.churnMedian.toFixed(0) : '?'} ms median (target < 200 ms: ${p.target ? 'met' : 'not met'}); 10000-principal row: ${p.rows.find((r) => r.n === 10000)?.churnMedian.toFixed(0) ?? 'n/a'} ms and refused as too-large: ${p.rows.find((r) => r.n === 10000)?.refusals.includes('too-large') ? 'yes' : 'no'}; growth linear: ${p.linearity < 1.5 ? 'yes' : 'no'} (×${p.linearity.toFixed(2)} per principal from the smallest to the largest size).`);
  }
  const c = S('coldstart');
  if (c?.headline) summaryLines.push(`- **Cold start**: ${c.headline}`);
  const b = S('burst');
  if (b?.headline) summaryLines.push(`- **Burst**: ${b.headline}`);
  const e = S('e2e');
  if (e?.headline) summaryLines.push(`- **End to end**: ${e.headline}`);
  const pe = S('peers');
  if (pe?.headline) summaryLines.push(`- **Peers on paper**: ${pe.headline}`);
}

const order = SECTIONS;
const parts = [intro, summaryLines.join('\n') || '_(no results yet)_', ''];
for (const sid of order) {
  const body = blocks[sid] ?? previousBlock(sid);
  if (!body) continue;
  parts.push(`<!-- bench:${sid}:start -->\n${body}\n<!-- bench:${sid}:end -->\n`);
}
writeFileSync(outFile, parts.join('\n'));
log(`wrote ${outFile} (${((Date.now() - started.getTime()) / 60000).toFixed(1)} min)`);
if (failures.length) {
  log(`failed sections:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
