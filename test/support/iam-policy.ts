/**
 * Helpers for tests that read IAM policies: IAM's StringLike wildcard match, and the IAM policy
 * linter parliament (PyPI; test/stack/parliament.sh installs it into the tool cache).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** IAM's StringLike / ArnLike: `*` any run of characters, `?` exactly one, the rest literal and case-sensitive. */
export function iamLike(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'su').test(value);
}

export interface Finding {
  issue: string;
  severity: string;
  detail: unknown;
  location: Record<string, unknown>;
}

/** Path of the parliament executable; installs it on first use (build.sh does so on CI). */
export function parliamentPath(): string {
  return execFileSync('bash', [join(ROOT, 'test/stack/parliament.sh')], { encoding: 'utf8', timeout: 300_000 }).trim();
}

/** parliament's findings (community auditors included) for one policy document. */
export function lintPolicy(parliament: string, policy: unknown): Finding[] {
  // parliament reads the policy from stdin; its --file conflicts with a non-tty stdin.
  const r = spawnSync(parliament, ['--json', '--include-community-auditors'], { input: JSON.stringify(policy), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`parliament failed (exit ${r.status}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Finding);
}
