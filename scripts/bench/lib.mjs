/**
 * Shared helpers of the benchmark suite (scripts/bench.mjs): statistics, formatting, the local
 * stack's lifecycle, a moto-pointed IAM client with a call counter, bounded concurrency,
 * machine description. Nothing here asserts on timings: the bench reports, it does not judge
 * (apart from stating whether each target of issue 5 is met).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ACCOUNT = '123456789012'; // moto's default account
export const ADMIN_CREDS = { accessKeyId: 'AKIABENCHADMIN000000', secretAccessKey: 'bench-admin' };
export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
});

// The AWS SDK warns once per process that Node 20 support ends in 2027; it is noise in a report.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning).includes('NodeVersionSupportWarning')) return;
  return emitWarning(warning, ...rest);
};

// ------------------------------------------------------------------ statistics and format

export function stats(values) {
  const v = [...values].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const q = (p) => {
    if (v.length === 0) return NaN;
    const i = (v.length - 1) * p;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return v[lo] + (v[hi] - v[lo]) * (i - lo);
  };
  return { n: v.length, median: q(0.5), min: v[0] ?? NaN, max: v[v.length - 1] ?? NaN, p10: q(0.1), p90: q(0.9), values: values };
}

export function ms(x, digits) {
  if (!Number.isFinite(x)) return 'n/a';
  const d = digits ?? (x >= 100 ? 0 : x >= 10 ? 1 : 2);
  return `${x.toFixed(d)} ms`;
}

export function secs(xMs) {
  if (!Number.isFinite(xMs)) return 'n/a';
  return `${(xMs / 1000).toFixed(xMs >= 100000 ? 0 : 1)} s`;
}

/** "median (min–max, n=5)" */
export function spread(s, fmt = ms) {
  if (!s || s.n === 0) return 'n/a';
  if (s.n === 1) return `${fmt(s.median)} (n=1)`;
  return `${fmt(s.median)} (${fmt(s.min).replace(/ \w+$/, '')}–${fmt(s.max)}, n=${s.n})`;
}

export function bytes(n) {
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

export function table(headers, rows) {
  const esc = (c) => String(c ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${headers.map(esc).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export const verdict = (met) => (met ? 'met' : 'not met');

export function log(...args) {
  const t = new Date().toISOString().slice(11, 19);
  console.error(`[bench ${t}]`, ...args);
}

export const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Run `fn` over items with bounded concurrency. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Retry a moto call that failed on a transient socket error (moto is one Python process). */
export async function retry(fn, attempts = 5) {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const transient = /ECONNRESET|EPIPE|socket hang up|ETIMEDOUT|Throttl|ServiceUnavailable|InternalFailure/i.test(`${err.name} ${err.message} ${err.code}`);
      if (!transient || i >= attempts) throw err;
      await sleep(200 * i);
    }
  }
}

// ------------------------------------------------------------------ build

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (name.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** `npx tsc -p tsconfig.build.json` when dist/ is missing or older than a source file. */
export function ensureBuilt() {
  const marker = join(REPO, 'dist/handlers/sync.js');
  const src = Math.max(...['lib', 'handlers', 'cli'].map((d) => newestMtime(join(REPO, d))));
  if (existsSync(marker) && statSync(marker).mtimeMs >= src && existsSync(join(REPO, 'dist/lib/core/plan.js'))) {
    log('dist/ is up to date');
    return false;
  }
  log('building: npx tsc -p tsconfig.build.json');
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`build failed: npx tsc -p tsconfig.build.json exited ${r.status}`);
  return true;
}

// ------------------------------------------------------------------ the local stack

const stacks = new Set();

function stopStackSync(dir) {
  spawnSync('bash', ['test/stack/stack.sh', 'down', dir], { cwd: REPO, stdio: 'ignore', timeout: 60000 });
  rmSync(dir, { recursive: true, force: true });
}

const children = new Set();
/** Kill this child if the bench exits first. */
export function trackChild(child) {
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Always tear down what we started, however the process ends. */
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const dir of stacks) stopStackSync(dir);
  stacks.clear();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: tearing down ${stacks.size} stack(s)`);
    process.exit(130);
  });
}

/**
 * `bash test/stack/stack.sh up <tmp>`; returns stack.json plus `dir` and the start time.
 * `authChain`: 'off' starts without aws-iam-authenticator + STS gateway (AAS_EKS_AUTH=0);
 * 'prefer' tries with them and falls back to 'off' when the chain cannot start (the
 * authenticator hard-codes its health port, so only one stack with the chain can run on the
 * machine at a time — another engineer's stack may hold it).
 */
export function startStack(label, { authChain = 'prefer' } = {}) {
  const attempt = (chain) => {
    const dir = mkdtempSync(join(tmpdir(), `aas-bench-${label}-`));
    stacks.add(dir);
    log(`starting the local stack for ${label} in ${dir} (EKS auth chain: ${chain ? 'on' : 'off'})`);
    const t0 = performance.now();
    const r = spawnSync('bash', ['test/stack/stack.sh', 'up', dir], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60 * 60 * 1000,
      env: { ...process.env, AAS_EKS_AUTH: chain ? '1' : '0' },
    });
    const upMs = performance.now() - t0;
    if (r.status !== 0) {
      const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
      stopStack({ dir });
      return { error: `AAS_EKS_AUTH=${chain ? 1 : 0} bash test/stack/stack.sh up ${dir} exited ${r.status}:\n${tail}` };
    }
    const info = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'));
    log(`stack up in ${(upMs / 1000).toFixed(1)} s (kube ${info.kubeEndpoint}, moto ${info.motoEndpoint}, auth chain: ${info.eksAuth ? 'yes' : 'no'})`);
    return { ...info, dir, upMs };
  };
  let first = attempt(authChain !== 'off');
  if (first.error && authChain === 'prefer') {
    log(`the stack did not start with the EKS auth chain; retrying without it:\n${first.error}`);
    const second = attempt(false);
    if (!second.error) second.chainError = first.error;
    first = second;
  }
  if (first.error) throw new Error(first.error);
  return first;
}

export function stopStack(stack) {
  if (!stack?.dir || !stacks.has(stack.dir)) return;
  log(`stopping the stack in ${stack.dir}`);
  stacks.delete(stack.dir);
  stopStackSync(stack.dir);
}

// ------------------------------------------------------------------ AWS clients on moto

/** A client class pointed at moto, with a per-command call counter (`client.calls`). */
export function motoClient(Client, stack, extra = {}) {
  const client = new Client({ region: stack.region, endpoint: stack.motoEndpoint, credentials: ADMIN_CREDS, maxAttempts: 5, ...extra });
  countCalls(client);
  return client;
}

/** Count every command sent through an SDK client: `client.calls[CommandName]`, `client.callTotal()`. */
export function countCalls(client) {
  client.calls = {};
  client.callTotal = () => Object.values(client.calls).reduce((a, b) => a + b, 0);
  client.resetCalls = () => {
    client.calls = {};
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      client.calls[name] = (client.calls[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter', override: true },
  );
  return client;
}

// ------------------------------------------------------------------ kube (admin, raw)

export async function kube(stack, method, path, body, token = stack.adminToken) {
  const { request } = await import('node:https');
  const url = new URL(path, stack.kubeEndpoint);
  const ca = readFileSync(stack.caFile);
  return new Promise((resolve, reject) => {
    const req = request(
      { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, json });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

export const AWS_AUTH_PATH = '/api/v1/namespaces/kube-system/configmaps/aws-auth';

export async function putAwsAuthAsAdmin(stack, data, annotations) {
  const del = await kube(stack, 'DELETE', AWS_AUTH_PATH);
  if (del.status !== 200 && del.status !== 404) throw new Error(`delete aws-auth: ${del.status}`);
  const r = await kube(stack, 'POST', '/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', ...(annotations ? { annotations } : {}) },
    data,
  });
  if (r.status !== 201) throw new Error(`create aws-auth: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

// ------------------------------------------------------------------ child processes

/** Run a node script in a fresh process; its last stdout line is JSON. */
export function runNodeJson(args, { env = {}, cwd = REPO, timeoutMs = 10 * 60 * 1000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = trackChild(spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`node ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-8).join('\n')}`));
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`node ${args.join(' ')}: no JSON result (${line.slice(0, 200)}) ${err.slice(-500)}`));
      }
    });
  });
}

// ------------------------------------------------------------------ machine

function cmdVersion(cmd, args, re) {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = out.match(re);
    return m ? m[1] : out.trim().split('\n')[0];
  } catch {
    return 'not found';
  }
}

export function loadNote() {
  const [a, b, c] = loadavg();
  return `load average ${a.toFixed(2)} / ${b.toFixed(2)} / ${c.toFixed(2)} (1/5/15 min) on ${cpus().length} cores`;
}

export function machineInfo() {
  let esbuild = 'n/a';
  try {
    esbuild = JSON.parse(readFileSync(join(REPO, 'node_modules/esbuild/package.json'), 'utf8')).version;
  } catch {
    /* not installed */
  }
  let osls = 'n/a';
  try {
    osls = JSON.parse(readFileSync(join(REPO, 'node_modules/osls/package.json'), 'utf8')).version;
  } catch {
    /* not installed */
  }
  let os = 'Linux';
  try {
    os = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="([^"]+)"/)?.[1] ?? os;
  } catch {
    /* no os-release */
  }
  return {
    nproc: Number(cmdVersion('nproc', [], /(\d+)/)),
    memoryGiB: totalmem() / 1024 ** 3,
    freeGiB: freemem() / 1024 ** 3,
    cpu: cpus()[0]?.model ?? 'unknown',
    os,
    kernel: cmdVersion('uname', ['-r'], /(.+)/),
    node: process.version,
    go: cmdVersion('go', ['version'], /go version (\S+)/),
    python: cmdVersion('python3', ['--version'], /Python (\S+)/),
    esbuild,
    osls,
    load: loadNote(),
  };
}
