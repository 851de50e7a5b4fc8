/**
 * Plan benchmarks in a fresh process each, so that every case has its own heap, JIT state and
 * peak RSS:
 *   node --expose-gc dist/scripts/bench/plan-worker.js '{"mode":"plan","current":"/tmp/x.json","n":10000,"churn":true,"reps":5}'
 *   node --expose-gc dist/scripts/bench/plan-worker.js '{"mode":"plan","hostile":"flow-items","budget":1032192,"n":100,"reps":3}'
 *   node dist/scripts/bench/plan-worker.js '{"mode":"fit","out":"/tmp/aws-auth"}'
 * Prints one JSON line. Times planSync (lib/core, compiled) end to end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYamlLibrary } from 'yaml';
import { viewAwsAuth } from '../../lib/core/awsauth.js';
import { CONFIGMAP_MAX_BYTES, dataSize } from '../../lib/core/render.js';
import type { ConfigMapObject } from '../../lib/core/types.js';
import { readYaml, toValue } from '../../lib/core/yaml-read.js';
import { awsAuthOf, benchPolicy, benchSnapshot, ownedAwsAuth, planFor } from './fixtures.js';
import { hostileCase } from './hostile.js';
import { workerArgs } from './lib.js';

type Args =
  | { mode: 'fit'; out: string }
  | { mode: 'make'; n: number; out: string }
  | { mode: 'yaml'; current: string; reps: number }
  | { mode: 'plan'; current?: string; hostile?: string; budget?: number; n: number; churn?: boolean; reps: number; warmup?: number; stopAfterMs?: number };

const args = workerArgs<Args>();
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const rssKiB = (): number => Math.round(process.memoryUsage().rss / 1024);
const readCm = (file: string): ConfigMapObject => JSON.parse(readFileSync(file, 'utf8')) as ConfigMapObject;
const annotationBytes = (cm: ConfigMapObject): number =>
  Object.entries(cm.metadata.annotations ?? {}).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
const entries = (cm: ConfigMapObject): number => {
  const v = viewAwsAuth(cm, 'aws');
  return v.mapRoles.entries.length + v.mapUsers.entries.length;
};
/** As `kubectl create` would send it. */
const apiObject = (cm: ConfigMapObject): ConfigMapObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'aws-auth', namespace: 'kube-system', annotations: cm.metadata.annotations },
  data: cm.data,
});

function time<T>(fn: () => T): { ms: number; value: T } {
  gc();
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

let result: unknown;
if (args.mode === 'fit') {
  // The largest n whose rendered aws-auth fits 1 MiB, by rendering: estimate from the bytes per
  // entry at 1,000, then a binary search with planSync's own too-large verdict.
  const base = dataSize(ownedAwsAuth(0).cm);
  const perEntry = (dataSize(ownedAwsAuth(1000).cm) - base) / 1000;
  const fits = (n: number): boolean => ownedAwsAuth(n).tooLarge === undefined;
  let lo = Math.floor((CONFIGMAP_MAX_BYTES - base) / perEntry) - 20;
  let hi = lo + 40;
  let evaluations = 2;
  for (; !fits(lo); evaluations++) [hi, lo] = [lo, lo - 200];
  for (; fits(hi); evaluations++) [lo, hi] = [hi, hi + 200];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    evaluations++;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  const fit = ownedAwsAuth(lo).cm;
  const over = ownedAwsAuth(hi);
  writeFileSync(`${args.out}.fit.json`, JSON.stringify(fit));
  writeFileSync(`${args.out}.over.api.json`, JSON.stringify(apiObject(over.cm)));
  result = {
    perEntryBytes: perEntry,
    baseBytes: base,
    fitN: lo,
    fitBytes: dataSize(fit),
    fitEntries: entries(fit),
    annotationBytes: annotationBytes(fit),
    overN: hi,
    overBytes: dataSize(over.cm),
    overRefusal: over.tooLarge,
    evaluations,
  };
} else if (args.mode === 'make') {
  const { cm } = ownedAwsAuth(args.n);
  writeFileSync(args.out, JSON.stringify(cm));
  result = { n: args.n, entries: entries(cm), dataBytes: dataSize(cm), annotationBytes: annotationBytes(cm) };
} else if (args.mode === 'yaml') {
  // The core's reader against JSON.parse (the floor) and the general `yaml` library, on the same text.
  const text = readCm(args.current).data!.mapUsers!;
  const read = readYaml(text);
  const json = JSON.stringify(read.ok ? toValue(read.node) : null);
  const bench = (fn: () => unknown): number[] => {
    fn();
    return Array.from({ length: args.reps }, () => time(fn).ms);
  };
  result = {
    bytes: Buffer.byteLength(text),
    readYaml: bench(() => readYaml(text)),
    viewAwsAuth: bench(() => viewAwsAuth(readCm(args.current), 'aws')),
    jsonParse: bench(() => JSON.parse(json)),
    yamlLibrary: bench(() => parseYamlLibrary(text)),
  };
} else {
  // mode 'plan': a current aws-auth (a file, or a hostile case built here) against n users.
  const current = args.current ? readCm(args.current) : awsAuthOf(hostileCase(args.hostile!).data(args.budget!));
  const snapshot = benchSnapshot(args.n, args.churn === true);
  for (let i = 0; i < (args.warmup ?? 0); i++) planFor(current, snapshot);
  gc();
  const rssBeforeKiB = rssKiB();
  const ms: number[] = [];
  let plan: ReturnType<typeof planFor> | undefined;
  for (let i = 0; i < args.reps; i++) {
    const t = time(() => planFor(current, snapshot));
    ms.push(t.ms);
    plan = t.value;
    if (args.stopAfterMs !== undefined && t.ms > args.stopAfterMs) break;
  }
  const view = viewAwsAuth(current, benchPolicy.partition);
  const state = (k: { state: string; reason?: string }): string => (k.reason ? `${k.state}: ${k.reason.slice(0, 160)}` : k.state);
  result = {
    ms,
    rssBeforeKiB,
    peakRssKiB: process.resourceUsage().maxRSS,
    dataBytes: dataSize(current),
    entries: view.mapRoles.entries.length + view.mapUsers.entries.length,
    keys: { mapRoles: state(view.mapRoles), mapUsers: state(view.mapUsers), mapAccounts: state(view.mapAccounts) },
    changed: plan!.changed,
    summary: plan!.summary,
    refusals: plan!.refusals.map((r) => r.code),
    warnings: plan!.warnings.length,
  };
}
console.log(JSON.stringify(result));
