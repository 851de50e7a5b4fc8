/**
 * The tag-key protection policies shipped in deploy/ (an AWS Organizations SCP and a
 * permissions-boundary example), checked two ways:
 *
 * 1. Linted by a real IAM policy linter, parliament (PyPI, installed by test/stack/parliament.sh
 *    into the tool cache): every finding must be explained below, every explanation must still
 *    match a finding, and the explanation itself is checked (the boundary's findings must all come
 *    from its `Allow *` ceiling). A seeded mistake proves the linter really runs and reports.
 * 2. Their tag-key pattern covers every tag key the syncer itself reads, in any case: IAM treats
 *    tag keys on roles and users case-insensitively (`Department` and `department` are one key) and
 *    so does the syncer, while IAM's StringLike compares case-sensitively. The property runs the
 *    real core (`buildDesired`) to decide which keys the syncer acts on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { buildDesired } from '../../../lib/core/desired.js';
import { DEFAULT_TAG_PREFIX } from '../../../lib/core/policy.js';
import { makePolicy } from '../core/support.js';
import { iamLike, lintPolicy, parliamentPath, type Finding } from '../../support/iam-policy.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCP = 'deploy/scp-aws-auth-syncer-tags.json';
const BOUNDARY = 'deploy/permissions-boundary-aws-auth-syncer-tags.json';
const TAG_ACTIONS = ['iam:TagRole', 'iam:UntagRole', 'iam:TagUser', 'iam:UntagUser', 'iam:CreateRole', 'iam:CreateUser'];

type Policy = { Version: string; Statement: any[] };
const load = (file: string): Policy => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Policy;

let parliament: string;
const lint = (policy: Policy): Finding[] => lintPolicy(parliament, policy);

/**
 * Findings we accept, each with its reason. A finding matches when file and issue agree and
 * `where` (if given) accepts it.
 */
const EXPLAINED: { file: string; issue: string; why: string }[] = [
  // The boundary's first statement is `Allow *` on `*`: a permissions boundary grants nothing by
  // itself, it only caps what identity policies grant, so `Allow *` means "no cap except the
  // denies below". The community auditors read it as a grant of every sensitive action; the
  // test 'the boundary findings all come from its Allow * ceiling' proves they come from there.
  { file: BOUNDARY, issue: 'CREDENTIALS_EXPOSURE', why: 'boundary ceiling Allow *, not a grant' },
  { file: BOUNDARY, issue: 'PERMISSIONS_MANAGEMENT_ACTIONS', why: 'boundary ceiling Allow *, not a grant' },
  { file: BOUNDARY, issue: 'PRIVILEGE_ESCALATION', why: 'boundary ceiling Allow *, not a grant' },
];

beforeAll(() => {
  parliament = parliamentPath();
}, 300_000);

describe('parliament lints the shipped policies', () => {
  test.each([SCP, BOUNDARY])('%s: every finding is explained, every explanation still applies', (file) => {
    const findings = lint(load(file));
    const unexplained = findings.filter((f) => !EXPLAINED.some((e) => e.file === file && e.issue === f.issue));
    expect(unexplained).toEqual([]);
    const stale = EXPLAINED.filter((e) => e.file === file && !findings.some((f) => f.issue === e.issue));
    expect(stale).toEqual([]);
  });

  test('the boundary findings all come from its Allow * ceiling', () => {
    const boundary = load(BOUNDARY);
    const ceiling = boundary.Statement.filter((s) => s.Effect === 'Allow');
    expect(ceiling).toEqual([{ Sid: 'CeilingIsWhateverTheIdentityPolicyAllows', Effect: 'Allow', Action: '*', Resource: '*' }]);
    const withoutCeiling = { ...boundary, Statement: boundary.Statement.filter((s) => s.Effect !== 'Allow') };
    expect(lint(withoutCeiling)).toEqual([]);
  });

  // parliament accepts every global `aws:` key on every action, so it cannot tell whether
  // aws:TagKeys reaches these actions; its bundled copy of the AWS Service Authorization
  // Reference can.
  test('every denied action documents aws:TagKeys (Service Authorization Reference, as parliament ships it)', () => {
    const python = join(parliament, '..', 'python');
    const file = execFileSync(python, ['-c', 'import os, parliament; print(os.path.join(os.path.dirname(parliament.__file__), "iam_definition.json"))'], {
      encoding: 'utf8',
    }).trim();
    const iam = (JSON.parse(readFileSync(file, 'utf8')) as any[]).find((svc) => svc.prefix === 'iam');
    for (const action of TAG_ACTIONS) {
      const p = iam.privileges.find((x: any) => `iam:${x.privilege}` === action);
      const keys = (p.resource_types as any[]).flatMap((r) => r.condition_keys as string[]);
      expect({ action, tagKeys: keys.includes('aws:TagKeys') }).toEqual({ action, tagKeys: true });
    }
  });

  test('the linter is live: a misspelt action and a condition key the action lacks are reported', () => {
    const scp = load(SCP);
    const broken = structuredClone(scp);
    broken.Statement[0].Action.push('iam:TagRoles');
    broken.Statement.push({
      Effect: 'Deny',
      Action: 'iam:UntagRole',
      Resource: '*',
      Condition: { ArnEquals: { 'iam:PermissionsBoundary': 'arn:aws:iam::111122223333:policy/b' } },
    });
    const issues = lint(broken).map((f) => f.issue);
    expect(issues).toContain('UNKNOWN_ACTION');
    expect(issues).toContain('UNKNOWN_CONDITION_FOR_ACTION');
  });
});

function tagStatements(p: Policy): any[] {
  return p.Statement.filter((s) => s.Effect === 'Deny' && s.Condition?.['ForAnyValue:StringLike']?.['aws:TagKeys']);
}

describe('the policies cover the tag keys the syncer reads', () => {
  test.each([SCP, BOUNDARY])('%s denies set and remove of the tag keys on roles and users, at creation too', (file) => {
    const [stmt, ...more] = tagStatements(load(file));
    expect(more).toEqual([]);
    expect([...stmt.Action].sort()).toEqual([...TAG_ACTIONS].sort());
    expect(stmt.Resource).toBe('*');
  });

  test('the SCP exempts only the named tag-admin roles', () => {
    const [stmt] = tagStatements(load(SCP));
    const exempt = Object.keys(stmt.Condition).filter((op) => op !== 'ForAnyValue:StringLike');
    expect(exempt).toEqual(['ArnNotLike']);
    expect(Object.keys(stmt.Condition.ArnNotLike)).toEqual(['aws:PrincipalArn']);
    // Roles only, each named: never a pattern that exempts whole accounts or every role.
    for (const arn of stmt.Condition.ArnNotLike['aws:PrincipalArn'] as string[])
      expect(arn).toMatch(/^arn:aws:iam::\*:role\/(.+\/)?(aws-auth-syncer-tag-admin|AWSReservedSSO_AwsAuthSyncerTagAdmin_\*)$/);
  });

  const caseVariant = (s: string) =>
    fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((flips) => [...s].map((c, i) => (flips[i] ? c.toUpperCase() : c)).join(''));
  const clusterName = fc.stringMatching(/^[0-9A-Za-z][A-Za-z0-9_-]{0,30}$/);

  test.each([SCP, BOUNDARY])('%s: the key the syncer acts on, and every case variant of it (IAM tag keys ignore case), matches the denied pattern', (file) => {
    const patterns: string[] = tagStatements(load(file))[0].Condition['ForAnyValue:StringLike']['aws:TagKeys'];
    fc.assert(
      fc.property(caseVariant(DEFAULT_TAG_PREFIX), clusterName, caseVariant('groups'), (prefix, cluster, suffix) => {
        const key = `${prefix}/${cluster}/${suffix}`;
        const snapshot = {
          users: [],
          groups: [],
          roles: [{ arn: 'arn:aws:iam::111122223333:role/Dev', roleName: 'Dev', path: '/', tags: { [key]: 'dev' } }],
        };
        // The syncer acts on the key spelled exactly (the real core decides); the policy covers that
        // spelling and every other, since IAM treats tag keys that differ only in case as one.
        const acted = buildDesired(snapshot, makePolicy({ cluster, tagPrefix: DEFAULT_TAG_PREFIX })).mappings.length === 1;
        expect(acted).toBe(key === `${DEFAULT_TAG_PREFIX}/${cluster}/groups`);
        expect(patterns.some((p) => iamLike(p, key))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('the pattern is not a blanket: ordinary tag keys stay free', () => {
    const patterns: string[] = tagStatements(load(SCP))[0].Condition['ForAnyValue:StringLike']['aws:TagKeys'];
    for (const key of ['team', 'CostCenter', 'aws-auth-syncer', 'eks/prod/groups', 'kubernetes.io/cluster/prod']) {
      expect(patterns.some((p) => iamLike(p, key))).toBe(false);
    }
  });
});
