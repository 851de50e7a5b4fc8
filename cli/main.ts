/**
 * aws-auth-syncer — the command line over the same library as the Lambda functions.
 *
 *   plan     offline: config + IAM JSON + current ConfigMap → next ConfigMap and a diff
 *   sync     live: the real sync with your AWS credentials (--dry-run to only show the diff)
 *   restore  live: put a backup back (--backup KEY|latest)
 *   backups  live: list the cluster's backups, newest first
 *   migrate  live: what a switch to EKS access entries would create, and what cannot move
 *
 * Arguments are parsed by commander (no dependencies of its own): per-command options and
 * help, --version, and an error naming any option the command does not take — the job a
 * node:util parseArgs table plus hand-written help and checks did before, in less code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { Log } from '../lib/app/ports.js';
import { configMapManifest } from '../lib/app/manifest.js';
import { backupsReply, entriesPlanReply, entriesWriteReply, errorReply, planReply, refusedReply, restoreReply, syncReply } from '../lib/app/reply.js';
import { restoreAwsAuth, listBackups } from '../lib/app/restore.js';
import { syncAwsAuth } from '../lib/app/sync.js';
import type { LiveDeps, LiveSettings } from '../lib/adapters/wire.js';
import { configSelfArns, isSelfArn, REGION_RE, resolveSettings, SELF_ARN_EXPECTED, toPolicy, TARGETS, type Config, type Target } from '../lib/config.js';
import { pickCluster, readClusterSetFile } from '../lib/config-clusters.js';
import { entriesFromDocument, EntriesFormatError, planEntriesSync, type CurrentEntries } from '../lib/core/access-entries.js';
import { formatRefusal, formatReport } from '../lib/core/diff.js';
import { snapshotFromAuthorizationDetails, SnapshotFormatError, type AuthorizationDetailsPage } from '../lib/core/iam-snapshot.js';
import { planSync } from '../lib/core/plan.js';
import { AWS_AUTH_NAME, AWS_AUTH_NAMESPACE } from '../lib/core/render.js';
import type { ConfigMapObject } from '../lib/core/types.js';
import { isPlainObject } from '../lib/core/objects.js';
import { describeError, GuardRefusedError, InputError } from '../lib/errors.js';

export const EXIT = { unchanged: 0, error: 1, changes: 2, refused: 3 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): string;
}

/** A file's text: UTF-8 only (a leading BOM dropped); anything else is an error, never guessed. */
export function decodeText(bytes: Uint8Array): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new TextFormatError('it is UTF-16 text (as Windows PowerShell 5 writes with ">"); save it as UTF-8');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Where: the first replacement character of a lenient decoding, as a byte offset.
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const bad = Buffer.byteLength(lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD'))));
    throw new TextFormatError(`it is not UTF-8 text (byte ${bad} is not; Latin-1?): convert it, e.g. iconv -f latin1 -t utf-8`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

class TextFormatError extends Error {}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  // `-` is standard input (`aws iam get-account-authorization-details | aws-auth-syncer plan --iam - …`).
  readFile: (p) => decodeText(readFileSync(p === '-' ? 0 : p)),
};

/** Node's file error codes, in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many symbolic links',
  ENOTDIR: 'a part of the path is not a directory',
  ERR_STRING_TOO_LONG: 'the file is too large',
  ERR_FS_FILE_TOO_LARGE: 'the file is too large',
};

/** The package version: package.json is two levels up from dist/cli/, one from cli/ (tests). */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'aws-auth-syncer' && pkg.version) return pkg.version;
    } catch {
      /* try the next level */
    }
  }
  return 'unknown';
}

const IAM_LISTS = ['UserDetailList', 'RoleDetailList', 'GroupDetailList'] as const;
const IAM_EXPECTED =
  'expected the output of `aws iam get-account-authorization-details` (a JSON object with UserDetailList, RoleDetailList and GroupDetailList, or a list of such pages)';
const CURRENT_EXPECTED = 'expected the output of `kubectl -n kube-system get configmap aws-auth -o yaml` (or -o json)';
const ENTRIES_EXPECTED =
  'expected {"accessEntries": [<aws eks describe-access-entry .accessEntry>, ...], "associatedPolicies": {"<principalArn>": [<aws eks list-associated-access-policies .associatedAccessPolicies[]>, ...]}}';

function readText(io: Io, path: string, what: string): string {
  if (path === '') throw new InputError(`${what} needs a file path (it is empty)`);
  try {
    return io.readFile(path);
  } catch (err) {
    if (err instanceof TextFormatError) throw new InputError(`cannot read ${what} ${path}: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${what} ${path}: ${code ? `${FILE_ERRORS[code] ?? code} (${code})` : (err as Error).message}`);
  }
}

/** Read `kubectl get cm aws-auth -o yaml|json` output: one ConfigMap, kube-system/aws-auth. */
export function readCurrent(text: string, path: string): ConfigMapObject {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    const m = (err as Error).message;
    throw new InputError(
      /multiple documents/.test(m)
        ? `--current ${path} holds several YAML documents (---): give the one ConfigMap kube-system/aws-auth`
        : `--current ${path} is not YAML or JSON: ${m.split('\n')[0]!.replace(/:$/, '')}`,
    );
  }
  const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (Array.isArray(obj.items)) {
    // `kubectl get cm -o yaml` without a name prints a List of every ConfigMap.
    throw new InputError(
      `--current ${path} is a ${String(obj.kind ?? 'list')} of ${obj.items.length} object(s), not one ConfigMap: name the one ConfigMap (${CURRENT_EXPECTED})`,
    );
  }
  const cm = value as ConfigMapObject;
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    cm.kind !== 'ConfigMap' ||
    typeof cm.metadata !== 'object' ||
    cm.metadata === null
  ) {
    throw new InputError(`--current ${path} is not a ConfigMap (${CURRENT_EXPECTED})`);
  }
  const ns = cm.metadata.namespace ?? AWS_AUTH_NAMESPACE;
  if (cm.metadata.name !== AWS_AUTH_NAME || ns !== AWS_AUTH_NAMESPACE) {
    throw new InputError(
      `--current ${path} is ConfigMap ${String(ns)}/${String(cm.metadata.name)}, not ${AWS_AUTH_NAMESPACE}/${AWS_AUTH_NAME} (${CURRENT_EXPECTED})`,
    );
  }
  if (cm.data !== undefined && (typeof cm.data !== 'object' || cm.data === null || Object.values(cm.data).some((v) => typeof v !== 'string'))) {
    throw new InputError(`--current ${path}: data must map keys to strings`);
  }
  return cm;
}

/** Read `aws iam get-account-authorization-details` output (one page, or a list of pages). */
export function readIam(text: string, path: string) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--iam ${path} is not JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(value) && value.length === 0) throw new InputError(`--iam ${path} is an empty list: ${IAM_EXPECTED}`);
  const pages = (Array.isArray(value) ? value : [value]) as AuthorizationDetailsPage[];
  // A partial listing read as the whole account would plan to remove everyone it leaves out.
  const where = (i: number) => (pages.length === 1 ? '' : ` page ${i + 1} of ${pages.length}:`);
  pages.forEach((page, i) => {
    if (!isPlainObject(page)) return; // the reader below names it
    const missing = IAM_LISTS.filter((k) => !Array.isArray((page as Record<string, unknown>)[k]));
    if (missing.length > 0 && missing.length < IAM_LISTS.length)
      throw new InputError(
        `--iam ${path}:${where(i)} no ${missing.join(' or ')}, so it is not every principal (was it run with --filter?); run \`aws iam get-account-authorization-details\` without --filter`,
      );
  });
  const last = pages[pages.length - 1];
  if (isPlainObject(last)) {
    const l = last as Record<string, unknown>;
    if (l.IsTruncated === true || typeof l.Marker === 'string' || typeof l.NextToken === 'string')
      throw new InputError(
        `--iam ${path}:${where(pages.length - 1)} the listing is truncated (${l.IsTruncated === true ? 'IsTruncated' : typeof l.Marker === 'string' ? 'Marker' : 'NextToken'}), so it is not every principal; run \`aws iam get-account-authorization-details\` without --max-items or --no-paginate (the aws CLI then reads every page)`,
      );
  }
  try {
    return snapshotFromAuthorizationDetails(pages);
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw new InputError(`--iam ${path}: ${err.message}; ${IAM_EXPECTED}`);
    throw err;
  }
}

/** A manifest for kubectl: server-set fields dropped, resourceVersion kept (so a stale apply conflicts). */
export const toManifest = configMapManifest;

function stderrLog(io: Io): Log {
  return {
    debug: () => {},
    info: () => {},
    warn: (m) => io.err(`warning: ${m}\n`),
    error: (m) => io.err(`error: ${m}\n`),
  };
}

type Output = 'text' | 'json';
const json = (io: Io, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);
const exitFor = (outcome: string): number => (outcome === 'refused' ? EXIT.refused : outcome === 'planned' ? EXIT.changes : EXIT.unchanged);

interface PlanOptions {
  config: string;
  iam: string;
  current?: string;
  currentEntries?: string;
  target?: Target;
  selfArn?: string;
  force?: boolean;
  output: Output;
  cluster?: string;
}

/** Read `--current-entries`: `none`, or `{"accessEntries": [...], "associatedPolicies": {...}}`. */
export function readCurrentEntries(text: string, path: string): CurrentEntries {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--current-entries ${path} is not JSON: ${(err as Error).message}`);
  }
  try {
    return entriesFromDocument(value);
  } catch (err) {
    if (err instanceof EntriesFormatError) throw new InputError(`--current-entries ${path}: ${err.message}; ${ENTRIES_EXPECTED}`);
    throw err;
  }
}

function planEntries(o: PlanOptions, config: Config, io: Io): number {
  if (o.current !== undefined) throw new InputError('plan --target access-entries reads --current-entries (the access entries), not --current (aws-auth)');
  if (o.currentEntries === undefined) throw new InputError(`plan --target access-entries needs --current-entries FILE|none (${ENTRIES_EXPECTED})`);
  const snapshot = readIam(readText(io, o.iam, '--iam'), o.iam);
  const current =
    o.currentEntries === 'none' ? { entries: [], policies: {} } : readCurrentEntries(readText(io, o.currentEntries, '--current-entries'), o.currentEntries);
  const policy = toPolicy(config, { region: config.region ?? envRegion() });
  const selfArns = [...configSelfArns(config), ...(o.selfArn ? [o.selfArn] : [])];
  const result = planEntriesSync({ current, snapshot, policy, selfArns, force: o.force === true });
  const reply = entriesPlanReply(config.cluster, result);
  if (o.output === 'json') {
    json(io, reply);
    return exitFor(reply.outcome);
  }
  io.err(`${reply.diff.join('\n')}\n`);
  // stdout: the calls, one JSON object per line, when there is something to do.
  if (reply.outcome === 'planned') io.out(reply.calls.map((c) => `${JSON.stringify(c)}\n`).join(''));
  return exitFor(reply.outcome);
}

/** The target a command works on: --target, else the config's (an unreadable config fails later, with its message). */
function targetOf(o: { config: string; target?: Target; cluster?: string }): Target {
  if (o.target) return o.target;
  try {
    return pickCluster(readClusterSetFile(o.config), o.cluster).config.target;
  } catch {
    return 'aws-auth';
  }
}

function plan(o: PlanOptions, io: Io): number {
  // A config that lists clusters: --cluster names the one to plan.
  const { config } = pickCluster(readClusterSetFile(o.config), o.cluster);
  if ((o.target ?? config.target) === 'access-entries') return planEntries(o, config, io);
  if (o.currentEntries !== undefined) throw new InputError('--current-entries is for --target access-entries; the aws-auth target reads --current');
  if (o.current === undefined) throw new InputError('plan needs --current FILE|none (the aws-auth ConfigMap)');
  const snapshot = readIam(readText(io, o.iam, '--iam'), o.iam);
  const current = o.current === 'none' ? null : readCurrent(readText(io, o.current, '--current'), o.current);
  const policy = toPolicy(config, { region: config.region ?? envRegion() });
  const selfArns = [...configSelfArns(config), ...(o.selfArn ? [o.selfArn] : [])];
  const result = planSync({ current, snapshot, policy, selfArns, force: o.force === true });
  const reply = planReply(config.cluster, result);
  if (o.output === 'json') {
    json(io, reply);
    return exitFor(reply.outcome);
  }
  io.err(`${formatReport(result).join('\n')}\n`);
  if (reply.outcome === 'planned') io.out(toManifest(result.next));
  return exitFor(reply.outcome);
}

interface LiveOptions {
  config: string;
  target?: Target;
  bucket?: string;
  profile?: string;
  output: Output;
  dryRun?: boolean;
  force?: boolean;
  backup?: string;
  limit?: number;
  kubeconfig?: string;
  context?: string;
  cluster?: string;
}

/** --kubeconfig / --context: the cluster kubectl would use, checked against the config's cluster. */
async function kubeconfigConnection(o: LiveOptions, cluster: string, io: Io): Promise<Pick<LiveSettings, 'connect' | 'identity'>> {
  if (o.kubeconfig === undefined && o.context === undefined) return {};
  // Loaded here, not at startup: `plan` and `--help` should not pay for the Kubernetes client.
  const { clientNodeConnection, eksClusterName, loadKubeConfig } = await import('../lib/adapters/kube-client.js');
  const kc = loadKubeConfig({ file: o.kubeconfig, context: o.context });
  const named = eksClusterName(kc);
  if (named !== undefined && named !== cluster) {
    throw new InputError(`kubeconfig context ${kc.getCurrentContext()} points at EKS cluster ${named}, but the config is for cluster ${cluster}`);
  }
  io.err(`cluster: kubeconfig context ${kc.getCurrentContext()} (${kc.getCurrentCluster()?.server})\n`);
  const connection = clientNodeConnection(kc);
  return { connect: async () => connection, identity: `kubeconfig user ${kc.getCurrentUser()?.name ?? '(none)'}` };
}

async function live(command: 'sync' | 'restore' | 'backups', o: LiveOptions, io: Io): Promise<number> {
  const { config, roleArn } = pickCluster(readClusterSetFile(o.config), o.cluster);
  const target = o.target ?? config.target;
  if (target === 'access-entries' && (o.kubeconfig !== undefined || o.context !== undefined)) {
    throw new InputError('--kubeconfig and --context are for the aws-auth target: access entries are EKS API calls made with your AWS credentials');
  }
  const kube = command === 'backups' ? {} : await kubeconfigConnection(o, config.cluster, io);
  // A cluster in another account is reached through its role (your identity must be allowed to
  // assume it); through a kubeconfig, the kubeconfig's credentials are used instead.
  const assume = roleArn && command !== 'backups' && !kube.connect ? { roleArn } : {};
  // The AWS SDK is loaded by live commands only (a second or more of startup on a busy machine).
  const [{ assertProfileExists, profileInUse, regionFromEnvOrProfile }, { liveDepsFor }] = await Promise.all([
    import('../lib/adapters/aws-profile.js'),
    import('../lib/adapters/wire.js'),
  ]);
  await assertProfileExists(o.profile);
  const region = config.region ?? (await regionFromEnvOrProfile(o.profile));
  if (!region) {
    throw new InputError(`no region: set \`region\` in ${o.config}, AWS_REGION, or a region in the AWS profile ${profileInUse(o.profile)}`);
  }
  // For a person at a terminal the file they named wins over a BACKUP_BUCKET in their shell.
  const settings = resolveSettings(config, { ...process.env, AWS_REGION: region }, o.bucket ?? config.backup.bucket);
  const deps = liveDepsFor(settings, stderrLog(io), undefined, { profile: o.profile, ...kube, ...assume });
  if (target === 'access-entries') return liveEntries(command, o, io, { config, region, deps, bucket: settings.bucket, selfArns: settings.selfArns });
  if (command === 'backups') {
    const list = await listBackups(deps.backups, config.cluster, o.limit ?? 50);
    if (o.output === 'json') json(io, backupsReply(config.cluster, list));
    else for (const b of list) io.out(`${b.key}\t${b.takenAt}\trv=${b.resourceVersion}\t${b.reason}\t${b.size} bytes\n`);
    io.err(`${list.length} backup(s) of ${config.cluster} in s3://${settings.bucket}\n`);
    return EXIT.unchanged;
  }
  // The identities whose access must survive: the config's, SYNCER_SELF_ARNS, and whoever runs this.
  const selfArns = [...new Set([...settings.selfArns, ...(roleArn ? [roleArn] : []), await deps.selfArn()])];
  const policy = toPolicy(config, { region });
  const common = { dryRun: o.dryRun === true, force: o.force === true, selfArns, writeAttempts: config.kubernetes.writeAttempts };
  const [result, reply] =
    command === 'sync'
      ? await syncAwsAuth(deps, { policy, ...common }).then((r) => [r, syncReply(config.cluster, r, [])] as const)
      : await restoreAwsAuth(deps, { cluster: config.cluster, partition: policy.partition, backup: o.backup!, ...common }).then(
          (r) => [r, restoreReply(config.cluster, r)] as const,
        );
  if (o.output === 'json') {
    json(io, reply);
    return exitFor(result.outcome);
  }
  io.err(`${result.plan.report.join('\n')}\n`);
  if (result.outcome === 'planned' || result.outcome === 'refused') io.out(toManifest(result.plan.next));
  io.err(`outcome: ${result.outcome}${result.backupKey ? ` (previous version backed up to ${result.backupKey})` : ''}\n`);
  return exitFor(result.outcome);
}

/** sync / restore / backups on the access-entries target. */
async function liveEntries(
  command: 'sync' | 'restore' | 'backups',
  o: LiveOptions,
  io: Io,
  ctx: { config: Config; region: string; deps: LiveDeps; bucket: string; selfArns: string[] },
): Promise<number> {
  const { config, deps } = ctx;
  if (command === 'backups') {
    const list = await deps.backups.listEntries(config.cluster, o.limit ?? 50);
    if (o.output === 'json') json(io, { ...backupsReply(config.cluster, list), target: 'access-entries' });
    else for (const b of list) io.out(`${b.key}\t${b.takenAt}\t${b.resourceVersion.replace(/^e/, '')} entries\t${b.reason}\t${b.size} bytes\n`);
    io.err(`${list.length} access-entries backup(s) of ${config.cluster} in s3://${ctx.bucket}\n`);
    return EXIT.unchanged;
  }
  const { syncAccessEntries, restoreAccessEntries } = await import('../lib/app/access-entries.js');
  const selfArns = [...new Set([...ctx.selfArns, await deps.selfArn()])];
  const common = { dryRun: o.dryRun === true, force: o.force === true, selfArns };
  const [result, reply] =
    command === 'sync'
      ? await syncAccessEntries(deps, { policy: toPolicy(config, { region: ctx.region }), ...common }).then(
          (r) => [r, entriesWriteReply(config.cluster, r, { principals: r.principals })] as const,
        )
      : await restoreAccessEntries(deps, { cluster: config.cluster, backup: o.backup!, ...common }).then(
          (r) => [r, entriesWriteReply(config.cluster, r, { restoredFrom: r.restoredFrom.key, restoredTakenAt: r.restoredFrom.takenAt })] as const,
        );
  if (o.output === 'json') {
    json(io, reply);
    return exitFor(result.outcome);
  }
  io.err(`${result.report.join('\n')}\n`);
  if (result.outcome === 'planned' || result.outcome === 'refused') io.out(reply.calls.map((c) => `${JSON.stringify(c)}\n`).join(''));
  io.err(`outcome: ${result.outcome}${result.backupKey ? ` (owned entries backed up to ${result.backupKey})` : ''}\n`);
  return exitFor(result.outcome);
}

interface MigrateOptions extends LiveOptions {
  to: string;
  apply?: boolean;
}

/**
 * migrate --to access-entries: what the switch would create (the access-entries plan from the
 * same desired mappings) and which aws-auth entries cannot move. Reads IAM, aws-auth, the
 * cluster's authentication mode and its access entries; writes nothing without --apply (then:
 * the access-entries sync, guarded and backed up; aws-auth and the config are left as they are).
 */
async function migrate(o: MigrateOptions, io: Io): Promise<number> {
  if (o.to !== 'access-entries') throw new InputError(`--to must be access-entries (the only target to migrate to), not ${JSON.stringify(o.to)}`);
  const { config, roleArn } = pickCluster(readClusterSetFile(o.config), o.cluster);
  const kube = await kubeconfigConnection(o, config.cluster, io);
  const [{ assertProfileExists, regionFromEnvOrProfile, profileInUse }, { liveDepsFor }, { planMigration, formatMigration }, { syncAccessEntries }] =
    await Promise.all([
      import('../lib/adapters/aws-profile.js'),
      import('../lib/adapters/wire.js'),
      import('../lib/core/migrate.js'),
      import('../lib/app/access-entries.js'),
    ]);
  await assertProfileExists(o.profile);
  const region = config.region ?? (await regionFromEnvOrProfile(o.profile));
  if (!region) throw new InputError(`no region: set \`region\` in ${o.config}, AWS_REGION, or a region in the AWS profile ${profileInUse(o.profile)}`);
  const settings = resolveSettings(config, { ...process.env, AWS_REGION: region }, o.bucket ?? config.backup.bucket);
  // The access entries and the authentication mode are EKS API calls: always through EKS (as the
  // cluster's role when it names one), even when a kubeconfig reaches the API server for aws-auth.
  const deps = liveDepsFor(settings, stderrLog(io), undefined, { profile: o.profile, ...(roleArn ? { roleArn } : {}) });
  const awsAuthStore = kube.connect ? liveDepsFor(settings, stderrLog(io), undefined, { profile: o.profile, ...kube }).store : deps.store;
  const selfArns = [...new Set([...settings.selfArns, ...(roleArn ? [roleArn] : []), await deps.selfArn()])];
  const policy = toPolicy(config, { region });
  const snapshot = await deps.iam.readSnapshot();
  const mode = await deps.cluster.authenticationMode();
  const currentEntries = mode === 'CONFIG_MAP' ? { entries: [], policies: {} } : await deps.entries.read();
  const awsAuth = await awsAuthStore.read();
  const entriesPlan = planEntriesSync({ current: currentEntries, snapshot, policy, selfArns, force: o.force === true });
  const migration = planMigration({ current: awsAuth, policy, entriesPlan, currentEntries });
  const modeLine =
    mode === 'CONFIG_MAP'
      ? `authentication mode CONFIG_MAP: switch the cluster to API_AND_CONFIG_MAP first (aws eks update-cluster-config --name ${config.cluster} --access-config authenticationMode=API_AND_CONFIG_MAP; one-way)`
      : `authentication mode ${mode}`;
  let applied: Awaited<ReturnType<typeof syncAccessEntries>> | undefined;
  if (o.apply) applied = await syncAccessEntries(deps, { policy, selfArns, force: o.force === true });
  const base = entriesPlanReply(config.cluster, applied?.plan ?? entriesPlan);
  const outcome = applied?.outcome ?? base.outcome;
  if (o.output === 'json') {
    json(io, {
      ...base,
      outcome,
      command: 'migrate',
      authenticationMode: mode,
      migration,
      ...(applied ? { applied: applied.applied, backupKey: applied.backupKey } : {}),
    });
  } else {
    io.err(`${[modeLine, ...formatMigration(migration), 'access entries the switch creates:', ...base.diff].join('\n')}\n`);
    if (!o.apply && outcome === 'planned') io.out(base.calls.map((c) => `${JSON.stringify(c)}\n`).join(''));
    io.err(
      o.apply
        ? `outcome: ${outcome}${applied?.backupKey ? ` (owned entries backed up to ${applied.backupKey})` : ''}; aws-auth is unchanged: set target: access-entries in ${o.config} to keep them in sync\n`
        : 'nothing was written (add --apply to create the access entries)\n',
    );
  }
  return exitFor(outcome);
}

/**
 * Required options, checked in the action: commander checks `requiredOption`s before unknown
 * ones, and `plan --backup x` must be told that --backup is not plan's, not that --iam is missing.
 */
function required<T extends object>(cmd: Command, o: T, ...names: (keyof T & string)[]): T {
  for (const name of names) {
    if (o[name] === undefined) {
      const flag = cmd.options.find((opt) => opt.attributeName() === name)?.flags ?? name;
      cmd.error(`error: required option '${flag}' not specified`);
    }
  }
  return o;
}

/**
 * The region `plan` takes when the config names none (its partition decides which ARNs can log
 * in): AWS_REGION, else AWS_DEFAULT_REGION, checked as the config's `region` is.
 */
function envRegion(): string | undefined {
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const v = process.env[name];
    if (v === undefined || v === '') continue;
    if (!REGION_RE.test(v))
      throw new InputError(`${name}=${v} is not an AWS region such as eu-west-1 (set \`region\` in the config to plan for a cluster's region)`);
    return v;
  }
  return undefined;
}

/** An ARN the guards can key (as selfArn in the config is checked): a typo would protect no one. */
function selfArnOption(value: string): string {
  if (!isSelfArn(value)) throw new InvalidArgumentError(SELF_ARN_EXPECTED);
  return value;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return Number(value);
}

const JSON_HELP = `With --output json, stdout is one JSON document (the Lambda functions' reply shapes; a
failure is {"outcome": "error", ...}, a refusal {"outcome": "refused", ...}); messages stay on stderr.`;
const FAIL = '1 invalid input or a failure (one line on stderr, no stack trace)';
const EXIT_HELP = {
  plan: `\nExit codes: 0 nothing to change, 2 changes planned, 3 refused by a guard, ${FAIL}.\n${JSON_HELP}`,
  write: `\nExit codes: 0 nothing to change or written, 2 changes planned (--dry-run), 3 refused by a\nguard, ${FAIL}.\n${JSON_HELP}`,
  backups: `\nExit codes: 0 listed, ${FAIL}.\n${JSON_HELP}`,
  all: `\nExit codes: 0 nothing to change (or done), 2 changes planned (plan, --dry-run), 3 refused by a\nguard, ${FAIL}.\n${JSON_HELP}`,
};

/** One fresh program per call, so that main() can be called repeatedly (tests). */
function program(io: Io, done: (code: number) => void): Command {
  const out = new Command('aws-auth-syncer')
    .description('Keep the EKS aws-auth ConfigMap in sync with IAM: plan offline, sync, back up and restore.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .showHelpAfterError('(aws-auth-syncer --help lists the commands)')
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
    .addHelpText(
      'after',
      `\nEach command has its own help: aws-auth-syncer plan --help.\n${EXIT_HELP.all}\n\nAWS credentials and region: --profile or AWS_PROFILE, the shared config and credentials files,\nthe usual AWS_* variables (as the aws CLI). The cluster's region is \`region\` in the config,\nelse AWS_REGION / AWS_DEFAULT_REGION, else the profile's region.\n`,
    );
  const outputOption = () => new Option('--output <format>', 'text, or json: one JSON document on stdout').choices(['text', 'json']).default('text');
  const liveOptions = (cmd: Command) =>
    cmd
      .option('--config <file>', 'YAML or JSON configuration (README: configuration reference)')
      .option('--bucket <name>', 'backup bucket (default: backup.bucket in the config, else BACKUP_BUCKET)')
      .option('--profile <name>', 'AWS profile (default: AWS_PROFILE, else the default chain)')
      .option('--cluster <name>', 'with a config that lists clusters: the one to act on')
      .addOption(outputOption());
  const cluster = (cmd: Command) =>
    cmd
      .option('--kubeconfig <file>', 'reach the cluster through this kubeconfig (as kubectl would) instead of EKS DescribeCluster + an STS token')
      .option('--context <name>', 'kubeconfig context (default: its current-context; implies the kubeconfig path even without --kubeconfig)');

  out
    .command('plan')
    .showHelpAfterError('(aws-auth-syncer plan --help lists its options)')
    .description(
      'Offline: print the complete next aws-auth ConfigMap (YAML) on stdout when there are changes — with --target access-entries, the EKS calls (one JSON object per line); the diff and guard messages on stderr.',
    )
    .option('--config <file>', 'YAML or JSON configuration')
    .option('--iam <file>', 'output of `aws iam get-account-authorization-details` (JSON)')
    .addOption(new Option('--target <target>', 'aws-auth or access-entries (default: target in the config)').choices([...TARGETS]))
    .option('--current <file|none>', 'aws-auth target: output of `kubectl -n kube-system get configmap aws-auth -o yaml`, or none (plan a create)')
    .option(
      '--current-entries <file|none>',
      'access-entries target: {"accessEntries": [<describe-access-entry .accessEntry>…], "associatedPolicies": {"<principalArn>": […]}}, or none',
    )
    .option('--self-arn <arn>', "the syncer's own identity, whose access must survive (in addition to selfArn in the config)", selfArnOption)
    .option('--cluster <name>', 'with a config that lists clusters: the one to plan')
    .option('--force', 'proceed over problems in the current aws-auth; waive the removal and empty-discovery guards')
    .addOption(outputOption())
    .addHelpText('after', EXIT_HELP.plan)
    .action(async (o: PlanOptions, cmd: Command) => {
      required(cmd, o, 'config', 'iam');
      required(cmd, o, targetOf(o) === 'access-entries' ? 'currentEntries' : 'current');
      done(await jsonErrors(o.output, io, async () => plan(o, io)));
    });

  const targetOption = () => new Option('--target <target>', 'aws-auth or access-entries (default: target in the config)').choices([...TARGETS]);

  cluster(liveOptions(out.command('sync').showHelpAfterError('(aws-auth-syncer sync --help lists its options)')))
    .addOption(targetOption())
    .description('Live, with your AWS credentials: read IAM, back up the current aws-auth to S3, write the next one.')
    .option('--dry-run', 'only show what would change (exit 2 when something would)')
    .option('--force', 'proceed over problems in the current aws-auth; waive the removal and empty-discovery guards')
    .addHelpText('after', EXIT_HELP.write)
    .action(async (o: LiveOptions, cmd: Command) => done(await jsonErrors(o.output, io, () => live('sync', required(cmd, o, 'config'), io))));

  cluster(liveOptions(out.command('restore').showHelpAfterError('(aws-auth-syncer restore --help lists its options)')))
    .addOption(targetOption())
    .description('Live: restore a backup (the current version is backed up first; the same guards apply).')
    .option('--backup <key|latest>', 'backup key (see `backups`), or latest')
    .option('--dry-run', 'only show what would change')
    .option('--force', 'restore even when a guard refuses (never waives the admin, node and self guards)')
    .addHelpText('after', EXIT_HELP.write)
    .action(async (o: LiveOptions, cmd: Command) => done(await jsonErrors(o.output, io, () => live('restore', required(cmd, o, 'config', 'backup'), io))));

  cluster(liveOptions(out.command('migrate').showHelpAfterError('(aws-auth-syncer migrate --help lists its options)')))
    .description(
      'Live: what switching to EKS access entries would create, and which aws-auth entries cannot move (mapAccounts, system: groups, sso matchers, dead entries). Writes nothing without --apply.',
    )
    .option('--to <target>', 'access-entries')
    .option('--apply', 'create the access entries (guarded, backed up); aws-auth and the config stay as they are')
    .option('--force', 'waive the removal and empty-discovery guards')
    .addHelpText('after', EXIT_HELP.write)
    .action(async (o: MigrateOptions, cmd: Command) => done(await jsonErrors(o.output, io, () => migrate(required(cmd, o, 'config', 'to'), io))));

  liveOptions(out.command('backups').showHelpAfterError('(aws-auth-syncer backups --help lists its options)'))
    .addOption(targetOption())
    .description("Live: list the cluster's backups, newest first (S3 only; no cluster access).")
    .option('--limit <n>', 'at most this many (default 50)', positiveInt)
    .addHelpText('after', EXIT_HELP.backups)
    .action(async (o: LiveOptions, cmd: Command) => done(await jsonErrors(o.output, io, () => live('backups', required(cmd, o, 'config'), io))));
  return out;
}

/** In JSON mode a failure is a JSON document on stdout too (the message still goes to stderr). */
async function jsonErrors(output: Output, io: Io, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (output === 'json') json(io, err instanceof GuardRefusedError ? refusedReply(err) : errorReply(err));
    throw err;
  }
}

/** Run the command; returns the exit code. Never throws. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.error;
  try {
    if (argv.length === 0) {
      program(io, () => {}).outputHelp({ error: true });
      return EXIT.error;
    }
    await program(io, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // Usage errors: commander has already printed "error: unknown option '--backup'" and the like.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.error;
    const d = describeError(err);
    if (err instanceof GuardRefusedError) {
      io.err(`${err.reasons.map(formatRefusal).join('\n')}\n`);
      return EXIT.refused;
    }
    io.err(`aws-auth-syncer: ${d.message}\n`);
    if (!d.userError && err instanceof Error && err.cause) io.err(`  cause: ${describeError(err.cause).message}\n`);
    return EXIT.error;
  }
}
