import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { groupProblem, usernameProblem } from '../../../lib/core/names.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken } from '../../../lib/core/ownership.js';
import { parseAwsAuth } from '../../../lib/core/parse.js';
import { CONFIGMAP_MAX_BYTES, dataSize, itemsToList, mappingObject, renderAwsAuth } from '../../../lib/core/render.js';
import type { NextItem } from '../../../lib/core/reconcile.js';
import type { ConfigMapObject, Mapping } from '../../../lib/core/types.js';
import { parseYaml11, renderYaml11 } from '../../../lib/core/yaml.js';
import { YAML11_LINE_BREAKS } from './support.js';

/** A list holding one string, rendered, is `- <scalar>\n`; was the scalar quoted? */
const quotedScalar = (s: string): boolean => /^- (["']).*\1\n$/su.test(renderYaml11([s]));

describe('renderYaml11 keeps strings strings', () => {
  // Plain scalars that the authenticator's Go parser (goyaml.v2 via sigs.k8s.io/yaml) reads as
  // booleans, null or numbers: they must be written quoted.
  const ambiguous = [
    'on', 'On', 'ON', 'off', 'yes', 'Yes', 'no', 'NO', 'y', 'Y', 'n', 'N', 'true', 'False',
    '~', 'null', 'Null', 'NULL', '',
    '012', '0', '-1', '+1', '1_000', '0x1F', '0b101', '1e3', '1E3', '+1e3', '1.5', '.5', '1.', '.inf', '-.Inf', '+.inf', '.nan',
    '123456789012', '18446744073709551615', '18446744073709551616', '08', '0_',
  ];
  test.each(ambiguous)('%j is quoted and reads back as the same string', (s) => {
    expect(quotedScalar(s)).toBe(true);
    expect(parseYaml11(renderYaml11([s]))).toEqual([s]);
  });

  // Strings go-yaml reads as strings however they are written (no sexagesimal, no timestamps as
  // values): quoting is optional, reading back is not.
  test.each(['1:20', '190:20:30', '2001-12-14', '2001-12-14T21:59:43Z', '2001-12-14 21:59:43.10 -5', '0x', '0b2', '0o8', '1e', '_1', '0x1p-2', '- x', 'a: b', 'x #y', '{{SessionName}}', '@x', '%x', '!x', '&x', '*x', '|', '>', '?', '-', ':', '[a]', '{a}', "it's", '"q"'])(
    '%j reads back as the same string',
    (s) => {
      expect(parseYaml11(renderYaml11([s]))).toEqual([s]);
      expect(parseYaml11(renderYaml11({ username: s }))).toEqual({ username: s });
    },
  );

  // Go's 0o/0O/0X/0B prefixes and `_` anywhere in a number: the authenticator's Go parser
  // (sigs.k8s.io/yaml, checked) reads every one of these as a number, and json.Unmarshal into
  // `groups []string` / `username string` fails for the entry. All of them pass
  // groupProblem/usernameProblem, so a tag value reaches the renderer: it must be quoted.
  const goNumbers = ['0o17', '0O17', '+0o17', '-0o17', '0o1_7', '0o_7', '0X1F', '-0X1F', '0B101', '+0B1', '1e1_0', '+_1', '.5_0', '1__0'];
  test.each(goNumbers)('%j is an acceptable group and username (so a tag value can reach the renderer)', (s) => {
    expect(groupProblem(s)).toBeUndefined();
    expect(usernameProblem(s)).toBeUndefined();
  });
  test.each(goNumbers)('%j is written quoted and reads back as the same string', (s) => {
    expect(quotedScalar(s)).toBe(true);
    expect(parseYaml11(renderYaml11([s]))).toEqual([s]);
  });

  test('property: every username and group the syncer accepts reads back as itself', () => {
    const chars = fc.constantFrom(...'abcXYZ019_.:/=+-@{}éß'.split(''), 'on', 'yes', 'null', '0x', '0b', '0o', 'e', '~', ' ');
    const name = fc.array(chars, { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(name, name, (u, g) => {
        fc.pre(usernameProblem(u) === undefined && groupProblem(g) === undefined);
        const m: Mapping = { key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/R', username: u, groups: [g] };
        const back = parseYaml11(renderYaml11([mappingObject(m)]));
        expect(back).toEqual([{ rolearn: m.arn, username: u, groups: [g] }]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('renderYaml11 and line separators', () => {
  // Raw U+2028/U+2029/U+0085 are line breaks to the authenticator's Go YAML 1.1 parser:
  // `username: alice<U+2028>bob` makes the whole key fail to parse (checked: "could not find
  // expected ':'"), i.e. every mapping in mapRoles is lost. They can reach the renderer through an
  // unmanaged entry that held them escaped ("alice\u2028bob") and is re-rendered when a managed
  // entry in the same key changes: they must be written as escapes inside double quotes.
  test.each([
    ['U+2028', 'alice\u2028bob', '"alice\\Lbob"'],
    ['U+2029', 'alice\u2029bob', '"alice\\Pbob"'],
    ['NEL', 'alice\u0085bob', '"alice\\Nbob"'],
    ['all three, alone', '\u2028\u2029\u0085', '"\\L\\P\\N"'],
  ])('%s is never written raw', (_n, s, written) => {
    const text = renderYaml11([{ rolearn: 'arn:aws:iam::111122223333:role/x', username: s }]);
    expect(text).not.toMatch(YAML11_LINE_BREAKS);
    expect(text).toBe(`- rolearn: arn:aws:iam::111122223333:role/x\n  username: ${written}\n`);
    expect(parseYaml11(text)).toEqual([{ rolearn: 'arn:aws:iam::111122223333:role/x', username: s }]);
  });

  test('in a mapping key and in a group too', () => {
    const text = renderYaml11([{ ['x\u2028y']: ['a\u2029b'] }]);
    expect(text).not.toMatch(YAML11_LINE_BREAKS);
    expect(parseYaml11(text)).toEqual([{ ['x\u2028y']: ['a\u2029b'] }]);
  });
});

describe('managed entries', () => {
  test('render rolearn/userarn, username, groups in that order', () => {
    const role: Mapping = { key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev', groups: ['a', 'b'] };
    const usr: Mapping = { key: 'mapUsers', arn: 'arn:aws:iam::111122223333:user/alice', username: 'alice', groups: ['a'] };
    expect(renderYaml11([mappingObject(role)])).toBe('- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: dev\n  groups:\n    - a\n    - b\n');
    expect(renderYaml11([mappingObject(usr)])).toBe('- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n    - a\n');
  });

  test('an empty group list renders as [] and reads back', () => {
    const text = renderYaml11([mappingObject({ key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/R', username: 'r', groups: [] })]);
    expect(text).toBe('- rolearn: arn:aws:iam::111122223333:role/R\n  username: r\n  groups: []\n');
  });

  test('templates and long ARNs stay on one line', () => {
    const arn = `arn:aws:iam::111122223333:role/${'x'.repeat(64)}`;
    const text = renderYaml11([{ rolearn: arn, username: 'arn:aws:sts::111122223333:assumed-role/X/{{SessionName}}' }]);
    expect(text.split('\n')).toHaveLength(3);
  });
});

describe('renderAwsAuth', () => {
  const unmanagedText = '- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]   # kept\n';
  const current: ConfigMapObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: '42', labels: { a: 'b' }, annotations: { keep: 'me' } },
    data: { mapRoles: unmanagedText, mapAccounts: '- "111122223333"\n', other: 'x' },
  };
  const parsed = parseAwsAuth(current);
  const unmanaged: NextItem[] = parsed.entries.map((entry) => ({ kind: 'unmanaged', entry }));
  const dev: Mapping = { key: 'mapRoles', arn: 'arn:aws:iam::111122223333:role/Dev', username: 'dev', groups: ['dev'] };

  test('a key whose entries did not change keeps its exact text (comments included)', () => {
    const out = renderAwsAuth({ current, next: { mapRoles: unmanaged, mapUsers: [] }, owned: [], unreadableKeys: [] });
    expect(out.data).toEqual(current.data);
    expect(out.metadata).toEqual(current.metadata);
    expect(out).not.toBe(current);
  });

  test('a changed key is re-rendered; other keys, labels, annotations and resourceVersion carried over', () => {
    const token = ownershipToken('mapRoles:arn:aws:iam::111122223333:role/dev');
    const out = renderAwsAuth({
      current,
      next: { mapRoles: [...unmanaged, { kind: 'managed', mapping: dev }], mapUsers: [] },
      owned: [token],
      unreadableKeys: [],
    });
    expect(parseYaml11(out.data!.mapRoles!)).toEqual([parsed.entries[0]!.raw, { rolearn: dev.arn, username: 'dev', groups: ['dev'] }]);
    expect(out.data!.mapAccounts).toBe(current.data!.mapAccounts);
    expect(out.data!.other).toBe('x');
    expect(out.data).not.toHaveProperty('mapUsers');
    expect(out.metadata).toEqual({ ...current.metadata, annotations: { keep: 'me', [OWNED_ANNOTATION]: formatOwned([token]) } });
    expect(current.data!.mapRoles).toBe(unmanagedText); // input not mutated
  });

  test('a key emptied of entries is written as []', () => {
    const cm: ConfigMapObject = { metadata: { name: 'aws-auth' }, data: { mapRoles: renderYaml11([mappingObject(dev)]) } };
    const out = renderAwsAuth({ current: cm, next: { mapRoles: [], mapUsers: [] }, owned: [], unreadableKeys: [] });
    expect(out.data!.mapRoles).toBe('[]\n');
  });

  test('owning nothing removes the annotation, and an annotations object left empty', () => {
    const cm: ConfigMapObject = { metadata: { name: 'aws-auth', annotations: { [OWNED_ANNOTATION]: 'v1:' } }, data: {} };
    const out = renderAwsAuth({ current: cm, next: { mapRoles: [], mapUsers: [] }, owned: [], unreadableKeys: [] });
    expect(out.metadata).toEqual({ name: 'aws-auth' });
  });

  test('no current object: a new kube-system/aws-auth', () => {
    const out = renderAwsAuth({ current: null, next: { mapRoles: [{ kind: 'managed', mapping: dev }], mapUsers: [] }, owned: ['0123456789abcdef'], unreadableKeys: [] });
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system', annotations: { [OWNED_ANNOTATION]: 'v1:0123456789abcdef' } },
      data: { mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: dev\n  groups:\n    - dev\n' },
    });
  });

  test('an unreadable key always keeps its text (it may hold node mappings nobody can see)', () => {
    const cm: ConfigMapObject = { metadata: {}, data: { mapRoles: '- [broken', mapUsers: '[]\n' } };
    const user: Mapping = { key: 'mapUsers', arn: 'arn:aws:iam::111122223333:user/alice', username: 'alice', groups: ['dev'] };
    const next = { mapRoles: [{ kind: 'managed', mapping: dev } as NextItem], mapUsers: [{ kind: 'managed', mapping: user } as NextItem] };
    const out = renderAwsAuth({ current: cm, next, owned: [], unreadableKeys: ['mapRoles'] });
    expect(out.data!.mapRoles).toBe('- [broken');
    expect(parseYaml11(out.data!.mapUsers!)).toEqual([mappingObject(user)]); // the readable key is still written
  });

  test('itemsToList gives managed objects and unmanaged raw entries, in order', () => {
    expect(itemsToList([{ kind: 'managed', mapping: dev }, ...unmanaged])).toEqual([mappingObject(dev), parsed.entries[0]!.raw]);
  });
});

describe('dataSize', () => {
  test('counts UTF-8 bytes of keys and values, and decoded binaryData', () => {
    const cm: ConfigMapObject = { metadata: {}, data: { ab: 'é' }, binaryData: { b: Buffer.from('hello').toString('base64') } };
    expect(dataSize(cm)).toBe(2 + 2 + 1 + 5);
  });

  test('the limit is 1 MiB', () => {
    expect(CONFIGMAP_MAX_BYTES).toBe(1048576);
  });
});

test('renderYaml11 never aliases repeated objects', () => {
  const groups = ['a'];
  const text = renderYaml11([{ groups }, { groups }]);
  expect(text).not.toMatch(/[&*]/);
});

describe('unusual values in unmanaged entries', () => {
  // go-yaml decodes !!binary to its text, so the field is a plain string to the authenticator.
  // (With yaml's own !!binary tag, `lineWidth: 0` made the stringifier throw RangeError and crash
  // planSync whenever the key was re-rendered.)
  test('a !!binary field is read as its decoded text and rendered as that string', () => {
    const raw = parseYaml11('- rolearn: arn:aws:iam::111122223333:role/x\n  note: !!binary aGVsbG8=\n');
    expect(raw).toEqual([{ rolearn: 'arn:aws:iam::111122223333:role/x', note: 'hello' }]);
    const text = renderYaml11(raw);
    expect(text).toBe('- rolearn: arn:aws:iam::111122223333:role/x\n  note: hello\n');
    expect(parseYaml11(text)).toEqual(raw);
  });

  test.each([
    ['above 2^53', '12345678901234567890', 12345678901234567890n],
    ['just above MAX_SAFE_INTEGER', '9007199254740993', 9007199254740993n],
    ['int64 minimum', '-9223372036854775808', -9223372036854775808n],
    ['uint64 maximum, in hex', '0xFFFFFFFFFFFFFFFF', 18446744073709551615n],
  ])('a big integer (%s) is read exactly and written back exactly', (_n, text, value) => {
    const raw = parseYaml11(`- ticket: ${text}\n`) as Array<Record<string, unknown>>;
    expect(raw[0]!.ticket).toBe(value);
    expect(renderYaml11(raw)).toBe(`- ticket: ${value}\n`);
  });
});
