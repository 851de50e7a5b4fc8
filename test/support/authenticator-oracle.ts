/**
 * Test client of the authenticator oracle (test/oracle): two small Go programs that run
 * aws-iam-authenticator's OWN aws-auth code (ParseMap, saveMap, Map, IsAccountAllowed) at
 * v0.6.13 and at v0.7.18 and say, for a ConfigMap's data, what each version makes of it.
 *
 * Tests start it once, send cases, and get per case one {@link Reading} per version:
 *
 * ```ts
 * const oracle = await AuthenticatorOracle.start();
 * const r = await oracle.read({ data: { mapRoles: '…' }, probes: ['arn:aws:iam::111122223333:role/a'] });
 * r['v0.7.18'].identities['arn:aws:iam::111122223333:role/a'];  // { mapped: true, username, groups, … }
 * await oracle.close();
 * ```
 *
 * Binaries: `AAS_ORACLE_V0_6_13` / `AAS_ORACLE_V0_7_18`, else the paths
 * `bash test/stack/build.sh --print-env --oracle-only --no-build` names (it builds nothing);
 * `bash test/stack/build.sh` (or `--oracle-only`) builds them. Protocol: test/oracle/README.md.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The authenticator versions the oracle runs. */
export const AUTH_VERSIONS = ['v0.6.13', 'v0.7.18'] as const;
/** One authenticator version. */
export type AuthVersion = (typeof AUTH_VERSIONS)[number];

/** What ParseMap made of mapRoles or mapUsers, parsed on its own. */
export interface KeyReading {
  present: boolean;
  /** Blank, or one of ``, '', "" after trimming: ParseMap skips it without error. */
  skippable: boolean;
  /** utilyaml.ToJSON failed: nothing of this key is stored. */
  yamlError: string | null;
  /** json.Unmarshal into the version's mapping type failed (entries may still be stored). */
  decodeError: string | null;
  /** Validate errors (v0.7.18 only): each drops one entry. */
  validateErrors: string[];
  /** Mappings ParseMap returned. */
  parsed: number;
  /** Entries in the store after saveMap (duplicate keys collapse). */
  stored: number;
}

/** What ParseMap made of mapAccounts. */
export interface AccountsReading {
  present: boolean;
  skippable: boolean;
  error: string | null;
}

/** One mapping result, templates unrendered. */
export interface Mapping {
  from: 'mapRoles' | 'mapUsers';
  /** rolearn / userarn of the entry (v0.7.18 SSO entries: the store key). */
  arn: string;
  username: string;
  groups: string[];
}

/** What the mapping step answers a caller whose canonical ARN is the probe. */
export type Answer =
  | ({ mapped: true } & Mapping)
  /** Several stored entries match with different results; which one answers depends on Go map order. */
  | { ambiguous: Mapping[] }
  /** Not mapped, but the account is in mapAccounts: username = the canonical ARN, no groups. */
  | { account: true; username: string; groups: string[] }
  | { mapped: false };

/** One entry of the authenticator's store as saveMap left it. */
export interface StoredEntry {
  key: string;
  arn: string;
  sso?: { permissionSetName: string; accountID: string; partition?: string };
  username: string;
  groups: string[] | null;
}

/** One version's reading of one case. */
export interface Reading {
  id: unknown;
  version: AuthVersion;
  keys: { mapRoles: KeyReading; mapUsers: KeyReading; mapAccounts: AccountsReading };
  /** ParseMap's error over all keys together (what the authenticator logs), or null. */
  parseError: string | null;
  /** Allowed accounts (mapAccounts), sorted. */
  accounts: string[];
  store: { roles: StoredEntry[]; users: StoredEntry[] };
  /** Probes the oracle derived from the stored keys (every ASCII ARN some key can match). */
  derived: string[];
  /** Answers for the caller's probes and the derived ones. */
  identities: Record<string, Answer>;
}

/** Both versions' readings of one case. */
export type Readings = Record<AuthVersion, Reading>;

/** One case: a ConfigMap's data and the canonical ARNs to ask about. */
export interface OracleCase {
  data: Record<string, string>;
  probes?: string[];
}

/** The oracle could not answer a case (panic, timeout, bad request) or is not available. */
export class OracleError extends Error {
  override name = 'OracleError';
}

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENV_NAMES: Record<AuthVersion, string> = { 'v0.6.13': 'AAS_ORACLE_V0_6_13', 'v0.7.18': 'AAS_ORACLE_V0_7_18' };

/** Binary paths: env vars first, else what build.sh says (without building). */
export function oracleBinaries(env: NodeJS.ProcessEnv = process.env): Record<AuthVersion, string> {
  const fromBuild: Record<string, string> = {};
  if (AUTH_VERSIONS.some((v) => !env[ENV_NAMES[v]])) {
    const r = spawnSync('bash', [join(REPO, 'test/stack/build.sh'), '--print-env', '--oracle-only', '--no-build'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      throw new OracleError(`bash test/stack/build.sh --print-env --oracle-only --no-build failed: ${r.stderr || r.error}`);
    }
    for (const m of r.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) fromBuild[m[1]!] = m[2]!;
  }
  const out = {} as Record<AuthVersion, string>;
  for (const v of AUTH_VERSIONS) {
    const p = env[ENV_NAMES[v]] ?? fromBuild[ENV_NAMES[v]];
    if (!p) throw new OracleError(`no path for the ${v} oracle (${ENV_NAMES[v]})`);
    out[v] = p;
  }
  return out;
}

interface Pending {
  seq: number;
  resolve: (r: Reading) => void;
  reject: (e: Error) => void;
}

/** One oracle process: JSON lines in, JSON lines out, in order. */
class OracleProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private buf: Buffer[] = [];
  private stderr = '';
  private dead: Error | undefined;
  private seq = 0;

  constructor(
    readonly version: AuthVersion,
    bin: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.child.on('error', (e) => this.fail(new OracleError(`${version} oracle (${bin}): ${e.message}`)));
    this.child.on('exit', (code, signal) =>
      this.fail(new OracleError(`${version} oracle exited (${signal ?? code}); stderr: ${this.stderr.trim() || '(none)'}`)),
    );
    // A write after the process died: the 'exit' handler already failed everything.
    this.child.stdin.on('error', () => undefined);
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.splice(0)) p.reject(this.dead);
  }

  private onData(chunk: Buffer): void {
    // Split on LF bytes only: answers may hold U+0085 / U+2028, which line readers treat as breaks.
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      this.buf.push(chunk.subarray(start, i));
      const line = Buffer.concat(this.buf).toString('utf8');
      this.buf = [];
      start = i + 1;
      this.onLine(line);
    }
    if (start < chunk.length) this.buf.push(chunk.subarray(start));
  }

  private onLine(line: string): void {
    const p = this.pending.shift();
    if (!p) return this.fail(new OracleError(`${this.version} oracle: an answer nobody asked for: ${line.slice(0, 200)}`));
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return p.reject(new OracleError(`${this.version} oracle: not JSON: ${line.slice(0, 200)}`));
    }
    if (r.id !== p.seq) {
      return this.fail(new OracleError(`${this.version} oracle: answer ${String(r.id)} where ${p.seq} was due`));
    }
    if (typeof r.panic === 'string') return p.reject(new OracleError(`${this.version} oracle panicked: ${r.panic}`));
    if (r.timeout === true) return p.reject(new OracleError(`${this.version} oracle: case timed out`));
    if (typeof r.error === 'string') return p.reject(new OracleError(`${this.version} oracle: ${r.error}`));
    p.resolve(r as unknown as Reading);
  }

  /**
   * Sends one case: resolves once it is written (after 'drain' when the pipe is full), with the
   * promise of its answer (wrapped, so that awaiting the write does not await the answer).
   */
  async send(c: OracleCase): Promise<{ answer: Promise<Reading> }> {
    if (this.dead) throw this.dead;
    const seq = ++this.seq;
    const answer = new Promise<Reading>((resolve, reject) => this.pending.push({ seq, resolve, reject }));
    answer.catch(() => undefined); // the caller may attach its handlers only after a drain wait
    const ok = this.child.stdin.write(`${JSON.stringify({ id: seq, data: c.data, probes: c.probes ?? [] })}\n`);
    if (!ok && !this.dead) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.child.stdin.off('drain', done);
          this.child.off('exit', done);
          resolve();
        };
        this.child.stdin.on('drain', done);
        this.child.on('exit', done);
      });
    }
    return { answer };
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** Both oracle processes, started once per test file. */
export class AuthenticatorOracle {
  private constructor(private readonly procs: Record<AuthVersion, OracleProcess>) {}

  /**
   * Starts both oracle binaries.
   * @param opts.binaries paths per version (default: {@link oracleBinaries})
   * @param opts.caseTimeout per-case limit as a Go duration (default 5s)
   * @throws OracleError naming the missing file and how to build it
   */
  static async start(opts: { binaries?: Partial<Record<AuthVersion, string>>; caseTimeout?: string } = {}): Promise<AuthenticatorOracle> {
    const given = opts.binaries ?? {};
    const bins: Record<AuthVersion, string> = AUTH_VERSIONS.every((v) => given[v]) ? (given as Record<AuthVersion, string>) : { ...oracleBinaries(), ...given };
    for (const v of AUTH_VERSIONS) {
      if (!existsSync(bins[v])) {
        throw new OracleError(
          `the aws-iam-authenticator ${v} oracle is not built (${bins[v]} is missing): run bash test/stack/build.sh (or bash test/stack/build.sh --oracle-only)`,
        );
      }
    }
    const env = { ...process.env, ...(opts.caseTimeout ? { AAS_ORACLE_CASE_TIMEOUT: opts.caseTimeout } : {}) };
    const procs = {} as Record<AuthVersion, OracleProcess>;
    for (const v of AUTH_VERSIONS) procs[v] = new OracleProcess(v, bins[v], env);
    const oracle = new AuthenticatorOracle(procs);
    // One empty case proves both answer (and are the versions they claim to be).
    const hello = await oracle.read({ data: {} });
    for (const v of AUTH_VERSIONS) {
      if (hello[v].version !== v) {
        await oracle.close();
        throw new OracleError(`${bins[v]} says it is ${hello[v].version}, not ${v}`);
      }
    }
    return oracle;
  }

  /** Both versions' readings of one case. */
  async read(c: OracleCase): Promise<Readings> {
    const [a, b] = await Promise.all(AUTH_VERSIONS.map(async (v) => this.procs[v].send(c)));
    const [ra, rb] = await Promise.all([a!.answer, b!.answer]);
    return { 'v0.6.13': ra, 'v0.7.18': rb };
  }

  /** Readings of many cases, streamed in order (writes wait for the pipes to drain). */
  async readAll(cases: readonly OracleCase[]): Promise<Readings[]> {
    const answers: Promise<Readings>[] = [];
    for (const c of cases) {
      const [a, b] = await Promise.all(AUTH_VERSIONS.map(async (v) => this.procs[v].send(c)));
      const both = Promise.all([a!.answer, b!.answer]).then(([ra, rb]) => ({ 'v0.6.13': ra, 'v0.7.18': rb }));
      both.catch(() => undefined); // rejections surface through Promise.all below
      answers.push(both);
    }
    return Promise.all(answers);
  }

  /** Ends both processes (closes their stdin and waits for them to exit). */
  async close(): Promise<void> {
    await Promise.all(AUTH_VERSIONS.map(async (v) => this.procs[v].close()));
  }
}
