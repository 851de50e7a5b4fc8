/**
 * npm run bench — the benchmark suite; rewrites BENCHMARKS.md. `npm run bench` compiles lib/ and
 * the bench (tsconfig.bench.json → dist/) and runs dist/scripts/bench.js:
 *
 *   npm run bench                                 all sections (~1 h on 2 cores)
 *   npm run bench -- plan coldstart               some sections; their blocks in BENCHMARKS.md
 *                                                 are replaced, the others kept as they were
 *   npm run bench -- --quick --out /tmp/b.md      small sizes, to check the suite itself
 *   npm run bench -- discovery --sizes 10000x2000 one account size (users x roles)
 *   --no-naive                                    burst: skip the no-batching comparison run
 *
 * Sections: discovery, plan, coldstart, burst, e2e, peers. They start their own local stacks
 * (test/stack/stack.sh, through test/integration/support) and always stop them; the live stack
 * runs aws-iam-authenticator, whose health port is fixed, so run the bench under
 * `flock /tmp/aas-chain.lock`. No timing is asserted anywhere: this is where speed is measured.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { section as burst } from './bench/burst.js';
import { section as coldstart } from './bench/coldstart.js';
import { section as discovery } from './bench/discovery.js';
import { section as e2e } from './bench/e2e.js';
import { loadNote, log, machineInfo, REPO, type Ctx, type Section, type SectionData } from './bench/lib.js';
import { section as peers } from './bench/peers.js';
import { section as plan } from './bench/plan.js';
import { releaseStack } from './bench/stack.js';

const SECTIONS: Section[] = [discovery, plan, coldstart, burst, e2e, peers];
// e2e runs before burst: both use the live stack, and burst adds users to its account.
const RUN_ORDER = ['discovery', 'plan', 'coldstart', 'e2e', 'burst', 'peers'];

const argv = process.argv.slice(2);
const valued = ['--out', '--sizes'];
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};
const flags = new Set(argv.filter((a) => a.startsWith('--') && !a.includes('=')));
const positional = argv.filter((a, i) => !a.startsWith('--') && !valued.includes(argv[i - 1] ?? ''));
if (flags.has('--help')) {
  const doc = readFileSync(join(REPO, 'scripts/bench.ts'), 'utf8').split('\n');
  console.log(doc.slice(1, doc.indexOf(' */')).join('\n').replace(/^ \*/gm, ''));
  process.exit(0);
}
const unknown = [...positional.filter((s) => !RUN_ORDER.includes(s)), ...[...flags].filter((f) => !['--quick', '--no-naive', ...valued].includes(f))];
if (unknown.length) {
  console.error(
    `unknown section(s) or option(s): ${unknown.join(', ')} (sections: ${RUN_ORDER.join(', ')}; options: --quick, --no-naive, --out FILE, --sizes UxR)`,
  );
  process.exit(2);
}
const selected = positional.length ? RUN_ORDER.filter((s) => positional.includes(s)) : RUN_ORDER;
const quick = flags.has('--quick');
const outFile = opt('--out') ? resolve(process.cwd(), opt('--out')!) : join(REPO, 'BENCHMARKS.md');

// ------------------------------------------------------------------ previous results

const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
const previousBlock = (id: string): string | undefined =>
  previous.match(new RegExp(`<!-- bench:${id}:start -->\\n([\\s\\S]*?)\\n<!-- bench:${id}:end -->`))?.[1];
function previousData(id: string): SectionData | undefined {
  const m = previousBlock(id)?.match(/<!-- bench-data (\{[\s\S]*?\}) -->/);
  try {
    return m ? (JSON.parse(m[1]!) as SectionData) : undefined;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ run

const ctx: Ctx = { quick, flags, opt, results: {}, previousData };
const started = Date.now();
const machine = machineInfo();
log(`bench: sections ${selected.join(', ')}${quick ? ' (quick sizes)' : ''}; ${machine.load}`);
const blocks: Record<string, string> = {};
const failures: string[] = [];
for (const id of selected) {
  const s = SECTIONS.find((x) => x.id === id)!;
  const t0 = performance.now();
  const loadBefore = loadNote();
  log(`=== ${s.title}`);
  let body: string;
  try {
    const r = await s.run(ctx);
    ctx.results[id] = r.data;
    body = `${r.markdown}\n\n<!-- bench-data ${JSON.stringify(r.data)} -->`;
  } catch (err) {
    const e = err as Error;
    failures.push(`${id}: ${e.message}`);
    log(`section ${id} FAILED: ${e.stack ?? e.message}`);
    body = `**This section failed in the last run**: \`${String(e.message).split('\n')[0]}\`. Reproduce: \`npm run bench -- ${id}\`.`;
  }
  if (id === 'discovery') releaseStack('discovery'); // 12k entities: not kept for the other sections
  const took = (performance.now() - t0) / 1000;
  const sizes = id === 'discovery' && opt('--sizes') ? ` --sizes ${opt('--sizes')}` : '';
  blocks[id] = [
    `## ${s.title}`,
    '',
    `_Reproduce: \`npm run bench -- ${id}${quick ? ' --quick' : ''}${sizes}\` · ran ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${took.toFixed(0)} s · before: ${loadBefore}; after: ${loadNote()}_`,
    ...(quick ? ['', '**Quick run (small sizes, for checking the suite) — not the figures of record.**'] : []),
    '',
    body,
  ].join('\n');
  log(`=== ${id} done in ${took.toFixed(0)} s`);
}

// ------------------------------------------------------------------ BENCHMARKS.md

const m = machine;
const data = (id: string): SectionData | undefined => ctx.results[id] ?? previousData(id);
const versions = (data('discovery')?.stackVersions ?? data('plan')?.stackVersions) as Record<string, string> | undefined;
const intro = `# Benchmarks

Generated by \`npm run bench\` (scripts/bench.ts, sources in scripts/bench/, compiled with tsconfig.bench.json into dist/); do not edit by hand. Issue 5 is the spec, with the plan targets of issue 9. Each section can be rerun alone (\`npm run bench -- <section>\`, replacing only its block here); each row names the command that reproduces it. Times are medians with (min–max, n = runs); nothing in the test suite asserts on them.

## Machine

| | |
| --- | --- |
| CPU | ${m.nproc} × ${m.cpu} (\`nproc\` = ${m.nproc}) |
| memory | ${m.memoryGiB.toFixed(1)} GiB (${m.freeGiB.toFixed(1)} GiB free at start) |
| OS | ${m.os}, kernel ${m.kernel} |
| toolchains | node ${m.node}, go ${m.go}, python ${m.python}, esbuild ${m.esbuild}, osls ${m.osls} |
| local stack | ${
  versions
    ? Object.entries(versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'see the sections'
} (test/stack, all on 127.0.0.1) |
| load when this run started | ${m.load} |

This machine is shared: other engineers were building and testing on it during the runs, so absolute times are noisy (each section records the load average before and after it ran, the plan section next to each figure). Compare rows within a section rather than across runs; the call counts, sizes and byte counts are exact. Each section block says when it ran; what it measured is the working tree of that moment, and sections may come from different invocations of the bench.

## Summary
`;
const titles: Record<string, string> = {
  discovery: 'IAM discovery (GetAccountAuthorizationDetails vs ListRoles + ListRoleTags + GetGroup)',
  plan: 'Plan',
  coldstart: 'Cold start',
  burst: 'Burst',
  e2e: 'End to end',
  peers: 'Peers on paper',
};
const summary = SECTIONS.flatMap((s) => {
  const headline = data(s.id)?.headline as string | undefined;
  return headline ? [`- **${titles[s.id]}**: ${headline}`] : [];
});
const parts = [intro, summary.join('\n') || '_(no results yet)_', ''];
for (const s of SECTIONS) {
  const body = blocks[s.id] ?? previousBlock(s.id);
  if (body) parts.push(`<!-- bench:${s.id}:start -->\n${body}\n<!-- bench:${s.id}:end -->\n`);
}
writeFileSync(outFile, parts.join('\n'));
log(`wrote ${outFile} (${((Date.now() - started) / 60000).toFixed(1)} min)`);
if (failures.length) {
  log(`failed sections:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
// The process.on('exit') handlers stop the stacks and children; exit even if a socket lingers.
process.exit();
