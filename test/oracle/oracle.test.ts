/**
 * The authenticator oracle through its TypeScript client: a dozen aws-auth texts and what
 * aws-iam-authenticator v0.6.13 and v0.7.18 do with them (each answer checked by running the
 * authenticator's own code; see test/oracle/README.md for the full table). Needs only the oracle
 * binaries (`bash test/stack/build.sh --oracle-only`), no stack.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { AuthenticatorOracle, OracleError, type Readings } from '../support/authenticator-oracle.js';

const A = 'arn:aws:iam::111122223333';
const role = (name: string): string => `${A}:role/${name}`;
const user = (name: string): string => `${A}:user/${name}`;

let oracle: AuthenticatorOracle;
beforeAll(async () => {
  oracle = await AuthenticatorOracle.start();
});
afterAll(async () => {
  await oracle?.close();
});

const read = async (data: Record<string, string>, probes: string[] = []): Promise<Readings> => oracle.read({ data, probes });

describe('authenticator oracle (v0.6.13, v0.7.18)', () => {
  test('duplicate rolearn: the later entry wins in both versions', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a')}\n  username: first\n- rolearn: ${role('a')}\n  username: second\n  groups: [g2]\n` }, [
      role('a'),
    ]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles).toMatchObject({ parsed: 2, stored: 1, yamlError: null, decodeError: null });
      expect(r[v].identities[role('a')]).toEqual({ mapped: true, from: 'mapRoles', arn: role('a'), username: 'second', groups: ['g2'] });
    }
  });

  test('user ARNs differing only in case: v0.6.13 keeps the last, v0.7.18 answers by map order', async () => {
    const r = await read({ mapUsers: `- userarn: ${user('Bob')}\n  username: first\n- userarn: ${user('bob')}\n  username: second\n` }, [user('bob')]);
    expect(r['v0.6.13'].identities[user('bob')]).toMatchObject({ mapped: true, username: 'second' });
    expect(r['v0.7.18'].keys.mapUsers.stored).toBe(2);
    expect(r['v0.7.18'].identities[user('bob')]).toEqual({
      ambiguous: [
        { from: 'mapUsers', arn: user('Bob'), username: 'first', groups: [] },
        { from: 'mapUsers', arn: user('bob'), username: 'second', groups: [] },
      ],
    });
  });

  test('rolearn together with sso: v0.7.18 drops the entry (Validate), v0.6.13 maps it', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a')}\n  sso:\n    permissionSetName: Admin\n    accountID: '111122223333'\n  username: u\n` }, [
      role('a'),
    ]);
    expect(r['v0.6.13'].identities[role('a')]).toMatchObject({ mapped: true, username: 'u' });
    expect(r['v0.7.18'].keys.mapRoles.validateErrors).toEqual(['only one of rolearn or SSO can be supplied']);
    expect(r['v0.7.18'].identities[role('a')]).toEqual({ mapped: false });
  });

  test('field groupſ (LONG S) fills groups through encoding/json case folding', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a')}\n  username: u\n  group\u017f: [system:masters]\n` }, [role('a')]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].identities[role('a')]).toMatchObject({ mapped: true, groups: ['system:masters'] });
    }
  });

  test('KELVIN SIGN, LONG S and DOTTED CAPITAL I in ARNs', async () => {
    const r = await read(
      {
        mapRoles:
          `- rolearn: ${role('\u212aube')}\n  username: kelvin\n` +
          `- rolearn: ${role('admin\u017f')}\n  username: longs\n` +
          `- rolearn: ${role('\u0130y')}\n  username: dotted\n`,
      },
      [role('kube'), role('admins'), role('iy')],
    );
    // K (U+212A): ToLower and EqualFold both give k.
    expect(r['v0.6.13'].identities[role('kube')]).toMatchObject({ mapped: true, username: 'kelvin' });
    expect(r['v0.7.18'].identities[role('kube')]).toMatchObject({ mapped: true, username: 'kelvin' });
    // ſ (U+017F): EqualFold only.
    expect(r['v0.6.13'].identities[role('admins')]).toEqual({ mapped: false });
    expect(r['v0.7.18'].identities[role('admins')]).toMatchObject({ mapped: true, username: 'longs' });
    // İ (U+0130): Go's ToLower only.
    expect(r['v0.6.13'].identities[role('iy')]).toMatchObject({ mapped: true, username: 'dotted' });
    expect(r['v0.7.18'].identities[role('iy')]).toEqual({ mapped: false });
    // The oracle finds these grants itself, from the stored keys.
    expect(r['v0.6.13'].derived).toEqual([role('iy'), role('kube')]);
    expect(r['v0.7.18'].derived).toEqual([role('admins'), role('kube')]);
  });

  test('NBSP-suffixed rolearn and a rolearn with a path match no caller', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a\u00a0')}\n  username: nbsp\n- rolearn: ${role('team/b')}\n  username: path\n` }, [
      role('a'),
      role('b'),
    ]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles.stored).toBe(2);
      expect(r[v].identities[role('a')]).toEqual({ mapped: false });
      expect(r[v].identities[role('b')]).toEqual({ mapped: false });
      expect(r[v].derived).toEqual([role('team/b')]);
    }
  });

  test('a raw DEL anywhere makes go-yaml reject the whole key; mapUsers still loads', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a')}\n  username: x\u007fy\n`, mapUsers: `- userarn: ${user('u')}\n  username: u\n` }, [
      role('a'),
      user('u'),
    ]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles).toMatchObject({ yamlError: 'yaml: control characters are not allowed', stored: 0 });
      expect(r[v].identities[role('a')]).toEqual({ mapped: false });
      expect(r[v].identities[user('u')]).toMatchObject({ mapped: true, username: 'u' });
    }
  });

  test('%YAML 1.2 directive and \\/ escape are refused by go-yaml v2', async () => {
    const r = await read({ mapRoles: `%YAML 1.2\n---\n- rolearn: ${role('a')}\n  username: u\n`, mapUsers: `- userarn: "${user('a\\/b')}"\n  username: u\n` });
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles.yamlError).toBe('yaml: found incompatible YAML document');
      expect(r[v].keys.mapUsers.yamlError).toBe('yaml: found unknown escape character');
    }
  });

  test('merge key << merges an anchored mapping, own keys win', async () => {
    const r = await read(
      { mapRoles: `- &b\n  rolearn: ${role('base')}\n  username: base\n  groups: [g]\n- <<: *b\n  rolearn: ${role('a')}\n  username: own\n` },
      [role('a')],
    );
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].identities[role('a')]).toEqual({ mapped: true, from: 'mapRoles', arn: role('a'), username: 'own', groups: ['g'] });
    }
  });

  test('a number as username is a decode error, yet the entry is stored with an empty username', async () => {
    const r = await read({ mapRoles: `- rolearn: ${role('a')}\n  username: 123\n  groups: [system:masters]\n` }, [role('a')]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles.decodeError).toBe('json: cannot unmarshal number into Go struct field RoleMapping.username of type string');
      expect(r[v].identities[role('a')]).toEqual({ mapped: true, from: 'mapRoles', arn: role('a'), username: '', groups: ['system:masters'] });
    }
  });

  test('mapAccounts keeps numbers as written; an allowed account maps unmapped ARNs to themselves', async () => {
    const r = await read({ mapAccounts: '- 012345678901\n- 0x1F\n- ~\n', mapRoles: `- rolearn: arn:aws:iam::012345678901:role/m\n  username: m\n` }, [
      'arn:aws:iam::012345678901:role/x',
      'arn:aws:iam::012345678901:role/m',
      role('x'),
    ]);
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].accounts).toEqual(['', '012345678901', '0x1F']);
      expect(r[v].identities['arn:aws:iam::012345678901:role/x']).toEqual({
        account: true,
        username: 'arn:aws:iam::012345678901:role/x',
        groups: [],
      });
      expect(r[v].identities['arn:aws:iam::012345678901:role/m']).toMatchObject({ mapped: true, username: 'm' });
      expect(r[v].identities[role('x')]).toEqual({ mapped: false });
    }
  });

  test('excessive aliasing hits go-yaml’s alias budget; skippable texts are no error', async () => {
    let laughs = 'a: &a [x,x,x,x,x,x,x,x,x,x]\n';
    for (const [p, n] of [...'abcdefg'].map((p, i) => [p, 'bcdefgh'[i]!])) laughs += `${n}: &${n} [${Array(10).fill(`*${p}`).join(',')}]\n`;
    const r = await read({ mapRoles: laughs, mapUsers: '``', mapAccounts: "''" });
    for (const v of ['v0.6.13', 'v0.7.18'] as const) {
      expect(r[v].keys.mapRoles.yamlError).toBe('yaml: document contains excessive aliasing');
      expect(r[v].keys.mapUsers).toMatchObject({ skippable: true, yamlError: null, decodeError: null, stored: 0 });
      expect(r[v].keys.mapAccounts).toEqual({ present: true, skippable: true, error: null });
    }
  });

  test('streams many cases in order', async () => {
    const cases = Array.from({ length: 300 }, (_, i) => ({
      data: { mapRoles: `- rolearn: ${role(`r${i}`)}\n  username: u${i}\n  groups: [${'g'.repeat(2000)}]\n` },
      probes: [role(`r${i}`)],
    }));
    const rs = await oracle.readAll(cases);
    expect(rs).toHaveLength(300);
    rs.forEach((r, i) => {
      expect(r['v0.6.13'].identities[role(`r${i}`)]).toMatchObject({ mapped: true, username: `u${i}` });
      expect(r['v0.7.18'].identities[role(`r${i}`)]).toMatchObject({ mapped: true, username: `u${i}` });
    });
  });

  test('a missing binary is a clear error', async () => {
    await expect(AuthenticatorOracle.start({ binaries: { 'v0.6.13': '/nonexistent/aas-oracle', 'v0.7.18': '/nonexistent/aas-oracle' } })).rejects.toThrow(
      new OracleError(
        'the aws-iam-authenticator v0.6.13 oracle is not built (/nonexistent/aas-oracle is missing): run bash test/stack/build.sh (or bash test/stack/build.sh --oracle-only)',
      ),
    );
  });
});
