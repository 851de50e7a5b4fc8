/**
 * aws-auth-syncer — the command line over the same library as the Lambda functions.
 *
 *   plan     offline: config + IAM JSON + current ConfigMap → next ConfigMap and a diff
 *   sync     live: the real sync with your AWS credentials (--dry-run to only show the diff)
 *   restore  live: put a backup back (--backup KEY|latest)
 *   backups  live: list the cluster's backups, newest first
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Log } from '../lib/app/ports.js';
import { restoreAwsAuth, listBackups } from '../lib/app/restore.js';
import { syncAwsAuth } from '../lib/app/sync.js';
import { liveDepsFor } from '../lib/adapters/wire.js';
import { readConfigFile, resolveSettings, toPolicy, type Config } from '../lib/config.js';
import { formatRefusal, formatReport } from '../lib/core/diff.js';
import { snapshotFromAuthorizationDetails, SnapshotFormatError, type AuthorizationDetailsPage } from '../lib/core/iam-snapshot.js';
import { planSync } from '../lib/core/plan.js';
import type { ConfigMapObject } from '../lib/core/types.js';
import { renderManifestYaml } from '../lib/app/manifest.js';
import { describeError, GuardRefusedError, InputError } from '../lib/errors.js';

export const EXIT = { unchanged: 0, error: 1, changes: 2, refused: 3 } as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): string;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p, 'utf8'),
};

const USAGE = `Usage: aws-auth-syncer <command> [options]

Commands:
  plan     --config FILE --iam FILE --current FILE|none [--self-arn ARN] [--force]
           Offline. Prints the complete next aws-auth ConfigMap (YAML) on stdout when there
           are changes, and the diff and guard messages on stderr.
           Exit: 0 nothing to change, 2 changes planned, 3 refused by a guard, 1 invalid input.
  sync     --config FILE [--dry-run] [--force] [--bucket NAME]
           Live, with your AWS credentials: read IAM, back up, write aws-auth.
  restore  --config FILE --backup KEY|latest [--dry-run] [--force] [--bucket NAME]
           Live: restore a backup (the current version is backed up first).
  backups  --config FILE [--limit N] [--bucket NAME]
           Live: list backups, newest first.

Options:
  --config FILE     YAML or JSON configuration (see README: configuration reference)
  --iam FILE        output of \`aws iam get-account-authorization-details\` (JSON)
  --current FILE    output of \`kubectl -n kube-system get configmap aws-auth -o yaml\`, or none
  -h, --help        this help
`;

const OPTIONS = {
  config: { type: 'string' },
  iam: { type: 'string' },
  current: { type: 'string' },
  'self-arn': { type: 'string' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  backup: { type: 'string' },
  bucket: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

function readText(io: Io, path: string, what: string): string {
  try {
    return io.readFile(path);
  } catch (err) {
    throw new InputError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Read `kubectl get cm aws-auth -o yaml|json` output. */
export function readCurrent(text: string, path: string): ConfigMapObject {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new InputError(`--current ${path} is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const cm = value as ConfigMapObject;
  if (typeof value !== 'object' || value === null || cm.kind !== 'ConfigMap' || typeof cm.metadata !== 'object' || cm.metadata === null) {
    throw new InputError(`--current ${path} is not a ConfigMap (expected the output of kubectl -n kube-system get configmap aws-auth -o yaml)`);
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
  const pages = (Array.isArray(value) ? value : [value]) as AuthorizationDetailsPage[];
  try {
    return snapshotFromAuthorizationDetails(pages);
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw new InputError(`--iam ${path}: ${err.message}`);
    throw err;
  }
}

/** A manifest for kubectl: server-set fields dropped, resourceVersion kept (so a stale apply conflicts). */
export function toManifest(cm: ConfigMapObject): string {
  const out = structuredClone(cm);
  for (const f of ['managedFields', 'uid', 'creationTimestamp', 'generation', 'selfLink']) delete out.metadata[f];
  return renderManifestYaml(out);
}

function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new InputError(`--${name} is required (see --help)`);
  return v;
}

function stderrLog(io: Io, verbose: boolean): Log {
  return {
    debug: () => {},
    info: () => {},
    warn: (m) => verbose && io.err(`warning: ${m}\n`),
    error: (m) => io.err(`error: ${m}\n`),
  };
}

function plan(values: Record<string, unknown>, io: Io): number {
  const config = readConfigFile(need(values, 'config'));
  const snapshot = readIam(readText(io, need(values, 'iam'), '--iam'), String(values.iam));
  const currentArg = need(values, 'current');
  const current = currentArg === 'none' ? null : readCurrent(readText(io, currentArg, '--current'), currentArg);
  const result = planSync({
    current,
    snapshot,
    policy: toPolicy(config, { region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION }),
    selfArns: [...(config.selfArn ?? []), ...(typeof values['self-arn'] === 'string' ? [values['self-arn']] : [])],
    force: values.force === true,
  });
  io.err(`${formatReport(result).join('\n')}\n`);
  if (!result.changed) return EXIT.unchanged;
  if (result.refusals.length > 0) return EXIT.refused;
  io.out(toManifest(result.next));
  return EXIT.changes;
}

async function live(command: string, values: Record<string, unknown>, io: Io): Promise<number> {
  const config: Config = readConfigFile(need(values, 'config'));
  if (command === 'restore') need(values, 'backup'); // before any AWS call
  // For a person at a terminal the file they named wins over a BACKUP_BUCKET in their shell.
  const settings = resolveSettings(config, undefined, (values.bucket as string | undefined) ?? config.backup.bucket);
  const deps = liveDepsFor(settings, stderrLog(io, true));
  const dryRun = values['dry-run'] === true;
  const force = values.force === true;
  if (command === 'backups') {
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new InputError('--limit must be a positive whole number');
    const list = await listBackups(deps.backups, config.cluster, limit);
    for (const b of list) io.out(`${b.key}\t${b.takenAt}\trv=${b.resourceVersion}\t${b.reason}\t${b.size} bytes\n`);
    io.err(`${list.length} backup(s) of ${config.cluster} in s3://${settings.bucket}\n`);
    return 0;
  }
  const selfArns = [...settings.selfArns, await deps.selfArn()];
  const result =
    command === 'sync'
      ? await syncAwsAuth(deps, { policy: toPolicy(config, { region: settings.region }), dryRun, force, selfArns, writeAttempts: config.kubernetes.writeAttempts })
      : await restoreAwsAuth(deps, { cluster: config.cluster, partition: toPolicy(config, { region: settings.region }).partition, backup: need(values, 'backup'), dryRun, force, selfArns, writeAttempts: config.kubernetes.writeAttempts });
  io.err(`${result.plan.report.join('\n')}\n`);
  if (result.outcome === 'planned' || result.outcome === 'refused') io.out(toManifest(result.plan.next));
  io.err(`outcome: ${result.outcome}${result.backupKey ? ` (previous version backed up to ${result.backupKey})` : ''}\n`);
  return result.outcome === 'refused' ? EXIT.refused : result.outcome === 'planned' ? EXIT.changes : EXIT.unchanged;
}

/** Run the command; returns the exit code. Never throws. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return command ? 0 : EXIT.error;
    }
    let values: Record<string, unknown>;
    try {
      ({ values } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }));
    } catch (err) {
      throw new InputError(`${(err as Error).message} (see --help)`);
    }
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    switch (command) {
      case 'plan':
        return plan(values, io);
      case 'sync':
      case 'restore':
      case 'backups':
        return await live(command, values, io);
      default:
        throw new InputError(`unknown command ${JSON.stringify(command)} (commands: plan, sync, restore, backups)`);
    }
  } catch (err) {
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
