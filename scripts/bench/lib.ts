/**
 * What the benchmark sections share: statistics and Markdown formatting, the machine and its
 * load, worker processes (per-case time, peak RSS and load), CPU profiles, the section interface.
 * Nothing here judges a timing: the bench reports figures, and says whether each target is met.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the compiled bench scripts are: dist/scripts/bench. (No AWS SDK here: the plan workers load this.) */
export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = join(HERE, '..', '..', '..');

// The AWS SDK warns once per process that Node 20 support ends in 2027: noise in a report.
const emitWarning = process.emitWarning.bind(process) as (...a: unknown[]) => void;
process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

// ------------------------------------------------------------------ statistics and format

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function stats(values: readonly number[]): Stats {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = (v.length - 1) / 2;
  const median = v.length ? (v[Math.floor(mid)]! + v[Math.ceil(mid)]!) / 2 : NaN;
  return { n: v.length, median, min: v[0] ?? NaN, max: v[v.length - 1] ?? NaN };
}

export function ms(x: number | undefined, digits?: number): string {
  if (x === undefined || !Number.isFinite(x)) return 'n/a';
  return `${x.toFixed(digits ?? (x >= 100 ? 0 : x >= 10 ? 1 : 2))} ms`;
}

export function secs(xMs: number | undefined): string {
  if (xMs === undefined || !Number.isFinite(xMs)) return 'n/a';
  return `${(xMs / 1000).toFixed(xMs >= 100000 ? 0 : 1)} s`;
}

/** "median (min–max, n=5)" */
export function spread(s: Stats | undefined, fmt: (x: number) => string = ms): string {
  if (!s || s.n === 0) return 'n/a';
  if (s.n === 1) return `${fmt(s.median)} (n=1)`;
  return `${fmt(s.median)} (${fmt(s.min).replace(/ \w+$/, '')}–${fmt(s.max)}, n=${s.n})`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export const mib = (kib: number | undefined): string => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);
export const int = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const verdict = (met: boolean): string => (met ? 'met' : 'not met');

export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const esc = (c: unknown): string =>
    String(c ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
  return [`| ${headers.map(esc).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function log(...args: unknown[]): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);
}

export const pad = (n: number, w = 6): string => String(n).padStart(w, '0');

export const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** Retry a moto call that failed on a transient error (moto is one Python process). */
export async function retry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const e = err as { name?: string; message?: string; code?: string };
      const transient = /ECONNRESET|EPIPE|socket hang up|ETIMEDOUT|Throttl|ServiceUnavailable|InternalFailure/i.test(`${e.name} ${e.message} ${e.code}`);
      if (!transient || i >= attempts) throw err;
      await sleep(200 * i);
    }
  }
}

// ------------------------------------------------------------------ machine and load

/** The 1-minute load average now. */
export const load1 = (): number => loadavg()[0]!;

export function loadNote(): string {
  const [a, b, c] = loadavg() as [number, number, number];
  return `load average ${a.toFixed(2)} / ${b.toFixed(2)} / ${c.toFixed(2)} (1/5/15 min) on ${cpus().length} cores`;
}

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.match(re)?.[1] ?? out.trim().split('\n')[0]!;
  } catch {
    return 'not found';
  }
}

export const packageVersion = (name: string): string => {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'n/a';
  }
};

export function machineInfo() {
  let os = 'Linux';
  try {
    os = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="([^"]+)"/)?.[1] ?? os;
  } catch {
    /* no os-release */
  }
  return {
    nproc: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    freeGiB: freemem() / 1024 ** 3,
    cpu: cpus()[0]?.model ?? 'unknown',
    os,
    kernel: version('uname', ['-r'], /(.+)/),
    node: process.version,
    go: version('go', ['version'], /go version (\S+)/),
    python: version('python3', ['--version'], /Python (\S+)/),
    esbuild: packageVersion('esbuild'),
    osls: packageVersion('osls'),
    load: loadNote(),
  };
}

// ------------------------------------------------------------------ worker processes

const children = new Set<ReturnType<typeof spawn>>();

/** Whatever way the bench ends, its children end with it. */
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Start a compiled bench script (dist/scripts/bench/<name>.js) as a child, killed with the bench. */
export function startScript(name: string, args: unknown, opts: { env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}) {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(HERE, `${name}.js`), JSON.stringify(args)], {
    cwd: REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Peak RSS (VmHWM) of a live process, in KiB. */
function peakRssKiB(pid: number | undefined): number | undefined {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

export type WorkerOutcome<T> =
  | { ok: true; value: T; ms: number; loadBefore: number; loadAfter: number }
  | { ok: false; error: string; timedOut: boolean; ms: number; peakRssKiB?: number; loadBefore: number; loadAfter: number };

/**
 * Run a bench script in a fresh process; its last stdout line is its JSON result. On timeout the
 * process is killed and its peak RSS so far is reported.
 */
export function runWorker<T>(
  name: string,
  args: unknown,
  opts: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<WorkerOutcome<T>> {
  const loadBefore = load1();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = startScript(name, args, opts);
    let out = '';
    let err = '';
    let timedOut = false;
    let peak: number | undefined;
    const timer = setTimeout(
      () => {
        timedOut = true;
        peak = peakRssKiB(child.pid);
        child.kill('SIGKILL');
      },
      opts.timeoutMs ?? 30 * 60 * 1000,
    );
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (err += c));
    child.on('close', (code) => {
      clearTimeout(timer);
      const common = { ms: performance.now() - t0, loadBefore, loadAfter: load1() };
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve({ ok: true, value: JSON.parse(line) as T, ...common });
        } catch {
          /* fall through */
        }
      }
      const why = timedOut ? `killed after ${secs(common.ms)}` : `exited ${code}: ${err.trim().split('\n').slice(-6).join('\n') || line.slice(0, 300)}`;
      resolve({ ok: false, error: `${name} ${JSON.stringify(args).slice(0, 200)} ${why}`, timedOut, peakRssKiB: peak, ...common });
    });
  });
}

/** runWorker for sections that need the result: a failure is an error. */
export async function worker<T>(name: string, args: unknown, opts: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<T> {
  const r = await runWorker<T>(name, args, opts);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** The command that reruns a worker by hand (after `npm run bench` compiled it). */
export const workerCommand = (name: string, args: unknown): string => `node dist/scripts/bench/${name}.js '${JSON.stringify(args)}'`;

/** A worker's parsed arguments. */
export const workerArgs = <T>(): T => JSON.parse(process.argv[2] ?? '{}') as T;

// ------------------------------------------------------------------ sections

/** What a section gets from the driver (scripts/bench.ts). */
export interface Ctx {
  quick: boolean;
  flags: Set<string>;
  opt(name: string): string | undefined;
  /** Data of the sections run so far in this invocation. */
  results: Record<string, SectionData | undefined>;
  /** Data a section recorded in BENCHMARKS.md last time. */
  previousData(id: string): SectionData | undefined;
}

// Section data is JSON kept in BENCHMARKS.md and read back by later runs (peers, the summary).

export type SectionData = Record<string, any>;

export interface Section {
  id: string;
  title: string;
  run(ctx: Ctx): Promise<{ markdown: string; data: SectionData }>;
}

// ------------------------------------------------------------------ CPU profiles

/** Self time per function of a `node --cpu-prof` profile, largest first, as shares of the total. */
export function profileTop(file: string, top = 10): { fn: string; ms: number; share: number }[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byNode = new Map<number, number>();
  p.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const t = byNode.get(n.id) ?? 0;
    if (n.callFrame.functionName === '(idle)' || t === 0) continue;
    total += t;
    const src = /\/dist\/(.+)\.js$/.exec(n.callFrame.url)?.[1];
    const name = n.callFrame.functionName.length > 50 ? `${n.callFrame.functionName.slice(0, 50)}…` : n.callFrame.functionName;
    const fn = src ? `${name || '(anonymous)'} (${src}.ts)` : n.callFrame.url ? 'node and libraries' : name;
    byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  }
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, t]) => ({ fn, ms: t, share: t / total }));
}
