/**
 * Plan speed, one size per fresh process (so sizes do not share a heap or JIT state):
 *   node --expose-gc scripts/bench/plan-worker.mjs '{"mode":"time","n":10000,"reps":5}'
 *   node --expose-gc scripts/bench/plan-worker.mjs '{"mode":"fit"}'
 * Prints one JSON line. Times planSync end to end (parse → desired → reconcile → render →
 * guards → diff) on the compiled core in dist/, and each stage on its own.
 */
import { REPO } from './lib.mjs';
import { benchPolicy, benchSnapshot, baseAwsAuth, SELF_ARN } from './fixtures.mjs';

const dist = (p) => import(`${REPO}/dist/lib/core/${p}`);
const { planSync } = await dist('plan.js');
const policyDefaults = await dist('policy.js');
const { dataSize, CONFIGMAP_MAX_BYTES, renderAwsAuth } = await dist('render.js');
const { parseAwsAuth } = await dist('parse.js');
const { buildDesired } = await dist('desired.js');
const { reconcile } = await dist('reconcile.js');
const { readOwned } = await dist('ownership.js');
const { checkGuards } = await dist('guards.js');
const { parseYaml11 } = await dist('yaml.js');

const args = JSON.parse(process.argv[2] ?? '{}');
const policy = benchPolicy(policyDefaults);
const gc = globalThis.gc ?? (() => {});

function timeIt(fn) {
  gc();
  const t0 = performance.now();
  const r = fn();
  return { ms: performance.now() - t0, r };
}

/** The aws-auth the syncer would have written for n principals (from the base object). */
function currentFor(n, userShare) {
  const first = planSync({ current: baseAwsAuth(), snapshot: benchSnapshot(n, { userShare }), policy, selfArn: SELF_ARN });
  return { ...first.next, metadata: { ...first.next.metadata, resourceVersion: '4242' } };
}

function entriesOf(cm) {
  return parseAwsAuth(cm).entries.length;
}

if (args.mode === 'time') {
  const { n, reps = 5, warmup = 1, userShare = 0.8 } = args;
  const current = currentFor(n, userShare);
  const churn = benchSnapshot(n, { userShare, churn: true });
  const same = benchSnapshot(n, { userShare });
  const plan = (snapshot) => planSync({ current, snapshot, policy, selfArn: SELF_ARN });
  for (let i = 0; i < warmup; i++) plan(churn);
  const churnMs = [];
  const noopMs = [];
  let last;
  for (let i = 0; i < reps; i++) {
    const t = timeIt(() => plan(churn));
    churnMs.push(t.ms);
    last = t.r;
  }
  let noop;
  for (let i = 0; i < reps; i++) {
    const t = timeIt(() => plan(same));
    noopMs.push(t.ms);
    noop = t.r;
  }
  // Stage by stage, as planSync composes them (one more run, median of `stageReps`).
  const stageReps = Math.min(reps, 3);
  const stages = { parse: [], desired: [], reconcile: [], render: [], guards: [], yamlParseOnce: [] };
  for (let i = 0; i < stageReps; i++) {
    gc();
    let t = performance.now();
    const parsed = parseAwsAuth(current);
    const owned = readOwned(current);
    stages.parse.push(performance.now() - t);
    t = performance.now();
    const desired = buildDesired(churn, policy);
    stages.desired.push(performance.now() - t);
    t = performance.now();
    const rec = reconcile({ parsed, owned: owned.tokens, desired: desired.mappings, adoptUnmanaged: false });
    stages.reconcile.push(performance.now() - t);
    t = performance.now();
    const next = renderAwsAuth({ current, next: rec.next, owned: rec.owned, unreadableKeys: [] });
    stages.render.push(performance.now() - t);
    t = performance.now();
    checkGuards({ current, currentParsed: parsed, next, removals: rec.removals, maxRemovals: 10, desiredCount: desired.mappings.length, ownedCount: 1, selfArn: SELF_ARN });
    stages.guards.push(performance.now() - t);
    t = performance.now();
    for (const key of ['mapRoles', 'mapUsers']) if (current.data[key]) parseYaml11(current.data[key]);
    stages.yamlParseOnce.push(performance.now() - t);
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const annotations = current.metadata.annotations ?? {};
  console.log(
    JSON.stringify({
      n,
      userShare,
      entries: entriesOf(current),
      dataBytes: dataSize(current),
      annotationBytes: Object.entries(annotations).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(v), 0),
      churnMs,
      noopMs,
      stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, med(v)])),
      churn: { changed: last.changed, summary: last.summary, refusals: last.refusals },
      noop: { changed: noop.changed, refusals: noop.refusals },
      nextBytes: dataSize(last.next),
      limit: CONFIGMAP_MAX_BYTES,
    }),
  );
} else if (args.mode === 'fit') {
  // Largest n whose rendered aws-auth (the mix, plus the 3 unmanaged base entries) fits 1 MiB,
  // found by rendering: estimate from bytes per entry, then binary search with planSync itself.
  const userShare = args.userShare ?? 0.8;
  const probe = (n) => {
    const p = planSync({ current: baseAwsAuth(), snapshot: benchSnapshot(n, { userShare }), policy, selfArn: SELF_ARN });
    return { n, bytes: dataSize(p.next), tooLarge: p.refusals.find((r) => r.code === 'too-large'), next: p.next, refusals: p.refusals.map((r) => r.code) };
  };
  const base = dataSize(baseAwsAuth());
  const sample = probe(1000);
  const perEntry = (sample.bytes - base) / 1000;
  let lo = Math.floor((CONFIGMAP_MAX_BYTES - base) / perEntry) - 40;
  let hi = lo + 80;
  let evaluations = 1;
  while (probe(lo).tooLarge) {
    hi = lo;
    lo -= 200;
    evaluations++;
  }
  while (!probe(hi).tooLarge) {
    lo = hi;
    hi += 200;
    evaluations++;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    evaluations++;
    if (probe(mid).tooLarge) hi = mid;
    else lo = mid;
  }
  const fit = probe(lo);
  const over = probe(hi);
  const emit = { userShare, perEntryBytes: perEntry, baseBytes: base, fitN: lo, fitBytes: fit.bytes, fitEntries: entriesOf(fit.next), fitRefusals: fit.refusals, overN: hi, overBytes: over.bytes, overEntries: entriesOf(over.next), overRefusal: over.tooLarge?.message, evaluations };
  if (args.writeObjects) {
    const { writeFileSync } = await import('node:fs');
    const strip = (cm) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system', annotations: cm.metadata.annotations }, data: cm.data });
    writeFileSync(args.writeObjects + '.fit.json', JSON.stringify(strip(fit.next)));
    writeFileSync(args.writeObjects + '.over.json', JSON.stringify(strip(over.next)));
  }
  console.log(JSON.stringify(emit));
} else if (args.mode === 'perEntry') {
  // Bytes per entry for other mixes (all users, all roles), from one rendering of 1,000.
  const out = {};
  for (const share of [1, 0]) {
    const p = planSync({ current: baseAwsAuth(), snapshot: benchSnapshot(1000, { userShare: share }), policy, selfArn: SELF_ARN });
    const per = (dataSize(p.next) - dataSize(baseAwsAuth())) / 1000;
    out[share] = { perEntryBytes: per, estimatedFit: Math.floor((CONFIGMAP_MAX_BYTES - dataSize(baseAwsAuth())) / per) };
  }
  console.log(JSON.stringify(out));
} else if (args.mode === 'yaml') {
  // Where plan time goes at the largest aws-auth that fits: YAML reading and writing of one
  // rendered aws-auth of n principals, with the product's parser and with alternatives.
  const { n, reps = 5 } = args;
  const { fastReadRendered } = await import('./fastpath.mjs');
  const { renderYaml11, stableJson } = await dist('yaml.js');
  const { createRequire } = await import('node:module');
  const require = createRequire(`${REPO}/package.json`);
  let jsYaml;
  try {
    jsYaml = require('js-yaml');
  } catch {
    /* not installed */
  }
  const current = currentFor(n, 0.8);
  const texts = ['mapRoles', 'mapUsers'].map((k) => current.data[k]);
  const values = texts.map((t) => parseYaml11(t));
  const jsonTexts = values.map((v) => JSON.stringify(v));
  const fast = texts.map((t) => fastReadRendered(t));
  const same = fast.every((v, i) => v !== undefined && stableJson(v) === stableJson(values[i]));
  const bench = (fn) => {
    fn();
    const out = [];
    for (let i = 0; i < reps; i++) out.push(timeIt(fn).ms);
    return out;
  };
  const res = {
    n,
    bytes: texts.reduce((a, t) => a + Buffer.byteLength(t), 0),
    fastPathIdentical: same,
    parseYaml11: bench(() => texts.forEach((t) => parseYaml11(t))),
    renderYaml11: bench(() => values.forEach((v) => renderYaml11(v))),
    fastPath: bench(() => texts.forEach((t) => fastReadRendered(t))),
    jsonParse: bench(() => jsonTexts.forEach((t) => JSON.parse(t))),
  };
  if (jsYaml) {
    res.jsYamlVersion = require('js-yaml/package.json').version;
    res.jsYaml = bench(() => texts.forEach((t) => jsYaml.load(t)));
  }
  console.log(JSON.stringify(res));
} else {
  throw new Error(`unknown mode ${args.mode}`);
}
