/**
 * The `plan` contract, end to end through the built command (bin/aws-auth-syncer.js → dist/) in
 * its own process, as an operator runs it: stdout is the next manifest (or one JSON document),
 * stderr the diff, the exit code the verdict. The option rules and input checks are covered
 * in-process by test/unit/cli/main.test.ts.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { entriesOf } from '../support/entries.js';

const F = 'test/fixtures/cli';
const run = (...args: string[]) => spawnSync(process.execPath, ['bin/aws-auth-syncer.js', ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'aas-cli-'));

beforeAll(() => {
  if (!existsSync('dist/cli/main.js')) throw new Error('run `npm run build` first (npm test does)');
});

describe('aws-auth-syncer plan', () => {
  test('--version and plan --help answer from the built command, exit 0', () => {
    expect(run('--version')).toMatchObject({ status: 0, stdout: `${JSON.parse(readFileSync('package.json', 'utf8')).version}\n` });
    const help = run('plan', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--current <file|none>');
  });

  test('--output json: stdout is exactly one JSON document, exit 2 for changes', () => {
    const r = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`, '--output', 'json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'planned', summary: { added: 4 } });
    expect(r.stderr).toBe('');
  });

  test('changes planned: exit 2, the complete next ConfigMap on stdout, the diff on stderr', () => {
    const r = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`);
    expect(r.status).toBe(2);
    const next = parse(r.stdout);
    expect(next.kind).toBe('ConfigMap');
    expect(next.metadata.resourceVersion).toBe('4711');
    expect(next.metadata.uid).toBeUndefined();
    expect(next.data.mapAccounts).toBe('- "444455556666"\n');
    const entries = entriesOf(next);
    expect(entries.filter((e) => e.groups.includes('system:nodes'))).toHaveLength(1);
    expect(entries.map((e) => e.arn)).toContain('arn:aws:iam::111122223333:role/AWSReservedSSO_ReadOnly_0123456789abcdef');
    expect(r.stderr).toContain('+ mapUsers arn:aws:iam::111122223333:user/eng/bob username="bob" groups=[dev-edit, dev-view, system:masters]');
    expect(r.stderr).toContain('4 to add, 0 to update, 0 to remove');

    // Feeding the result back in: nothing to change, exit 0, empty stdout.
    writeFileSync(join(tmp, 'next.yaml'), r.stdout);
    const again = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', join(tmp, 'next.yaml'));
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('');
  });

  test('--iam - reads standard input (aws iam … | aws-auth-syncer plan --iam -)', () => {
    const piped = spawnSync(
      process.execPath,
      ['bin/aws-auth-syncer.js', 'plan', '--config', `${F}/config.yaml`, '--iam', '-', '--current', `${F}/current.yaml`, '--output', 'json'],
      { encoding: 'utf8', input: readFileSync(`${F}/iam.json`, 'utf8') },
    );
    const fromFile = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`, '--output', 'json');
    expect(piped.status).toBe(2);
    expect(JSON.parse(piped.stdout)).toEqual(JSON.parse(fromFile.stdout));
  });

  test('no ConfigMap yet: --current none plans a create', () => {
    const r = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', 'none');
    expect(r.status).toBe(2);
    expect(parse(r.stdout).metadata).toMatchObject({ name: 'aws-auth', namespace: 'kube-system' });
    expect(r.stderr).toMatch(/will be created/);
  });

  test('refused by a guard: exit 3, stdout empty, the reason on stderr', () => {
    const first = run('plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/current.yaml`);
    writeFileSync(join(tmp, 'owned.yaml'), first.stdout);
    writeFileSync(join(tmp, 'empty-iam.json'), JSON.stringify({ UserDetailList: [], GroupDetailList: [], RoleDetailList: [] }));
    const r = run('plan', '--config', `${F}/config.yaml`, '--iam', join(tmp, 'empty-iam.json'), '--current', join(tmp, 'owned.yaml'));
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refused \(empty-discovery\)/);
  });

  test.each([
    [['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`], /required option '--current <file\|none>' not specified/],
    [['plan', '--config', `${F}/missing.yaml`, '--iam', `${F}/iam.json`, '--current', 'none'], /cannot read config file .*missing\.yaml: ENOENT/],
    [['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/current.yaml`, '--current', 'none'], /--iam .* is not JSON/],
    [['plan', '--config', `${F}/config.yaml`, '--iam', `${F}/iam.json`, '--current', `${F}/iam.json`], /is not a ConfigMap/],
    [['plan', '--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('invalid input %j: exit 1, a message naming the problem, no stack trace', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('aws-auth-syncer plan --target access-entries (the offline contract, built command)', () => {
  const E = `${F}/access-entries`;
  test('--output json: {target, calls, refusals, warnings}, exit 2; text: calls on stdout, exit 2; none: every create', () => {
    const r = run('plan', '--config', `${E}/config.yaml`, '--iam', `${E}/iam.json`, '--current-entries', `${E}/entries.json`, '--output', 'json');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['target', 'calls', 'refusals', 'warnings']));
    expect(doc.target).toBe('access-entries');
    expect(doc.calls.map((c: { op: string }) => c.op)).toEqual([
      'CreateAccessEntry',
      'CreateAccessEntry',
      'AssociateAccessPolicy',
      'CreateAccessEntry',
      'UpdateAccessEntry',
      'AssociateAccessPolicy',
      'AssociateAccessPolicy',
      'DeleteAccessEntry',
    ]);
    expect(doc.calls[0]).toEqual({
      op: 'CreateAccessEntry',
      principalArn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_0123456789abcdef',
      kubernetesGroups: ['dev-view'],
      username: 'sso-readonly:{{SessionName}}',
    });
    const text = run('plan', '--config', `${E}/config.yaml`, '--iam', `${E}/iam.json`, '--current-entries', `${E}/entries.json`);
    expect(text.status).toBe(2);
    expect(text.stdout.trim().split('\n')).toHaveLength(8);
    expect(text.stderr).toContain('access (as EKS access entries grant it):');
    const none = run('plan', '--config', `${E}/config.yaml`, '--iam', `${E}/iam.json`, '--current-entries', 'none', '--output', 'json');
    expect(none.status).toBe(2);
    expect(JSON.parse(none.stdout).summary).toMatchObject({ create: 4, associate: 3 });
  });

  test('bad --current-entries: one line on stderr naming it, exit 1', () => {
    const bad = join(tmp, 'bad-entries.json');
    writeFileSync(bad, '{"accessEntries": {}}');
    const r = run('plan', '--config', `${E}/config.yaml`, '--iam', `${E}/iam.json`, '--current-entries', bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--current-entries .*bad-entries.json: expected \{"accessEntries"/);
  });
});
