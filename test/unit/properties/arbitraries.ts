/**
 * Generators and oracles shared by the property tests. Not a test file (jest only runs
 * *.test.ts). The oracles read YAML with the core's own YAML 1.1 reader (the one the
 * authenticator's behaviour is modelled on) but decide ownership, node-ness and "unchanged"
 * independently of reconcile/render.
 */
import { afterAll, beforeAll } from '@jest/globals';
import fc from 'fast-check';
import { stringify as stringifyYaml12 } from 'yaml';
import { canonicalKey } from '../../../lib/core/arn.js';
import { formatOwned, OWNED_ANNOTATION, ownershipToken } from '../../../lib/core/ownership.js';
import { field } from '../../../lib/core/parse.js';
import type { GroupMapping, SyncPolicy } from '../../../lib/core/policy.js';
import { DEFAULT_ROLE_USERNAME, DEFAULT_USER_USERNAME } from '../../../lib/core/policy.js';
import type { ConfigMapObject, IamGroup, IamRole, IamSnapshot, IamUser, MapKey } from '../../../lib/core/types.js';
import { parseYaml11, renderYaml11, stableJson } from '../../../lib/core/yaml.js';

export const CLUSTER = 'prod';
export const TAG_GROUPS = `aws-auth-syncer/${CLUSTER}/groups`;
export const TAG_USERNAME = `aws-auth-syncer/${CLUSTER}/username`;

/** numRuns per property: modest, so the whole directory stays well under a minute.
 * PROPERTY_RUNS_SCALE=10 (for example) runs each property ten times longer. */
const SCALE = Math.max(1, Number(process.env.PROPERTY_RUNS_SCALE ?? 1) || 1);
export const RUNS = {
  preserve: 200 * SCALE,
  idempotent: 150 * SCALE,
  roundtrip: 300 * SCALE,
  injection: 150 * SCALE,
  noCrash: 400 * SCALE,
  planNoCrash: 200 * SCALE,
};

// ---------------------------------------------------------------------------------------------
// Strings

/** Plain-scalar words YAML 1.1 / go-yaml read as something other than a string. */
export const YAML_SPECIAL_WORDS = [
  'on', 'off', 'On', 'OFF', 'yes', 'no', 'Yes', 'NO', 'y', 'n', 'Y', 'N', 'true', 'False', 'TRUE',
  'null', 'Null', 'NULL', '~', '', ' ', '0o17', '0O17', '012', '0777', '0888', '0x1F', '0X1f', '0b101',
  '+0x1F', '-0', '1:20', '1:20:30', '190:20:30.15', '1e3', '1E3', '1e+3', '1.e5', '.5', '+.5', '-.5', '0.',
  '.inf', '.Inf', '-.INF', '+.inf', '.nan', '.NaN', '1_000', '0x_1F', '1__0', '_1', '1_', '._5',
  '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616',
  '-9223372036854775809', '2024-03-01', '2001-12-14t21:59:43.10-05:00', '=', '-', '--', '---', '...',
  '? x', '- x', ': x', 'a: b', 'a #b', '#c', '&a', '*a', '!x', '!!str', '%YAML', '@x', '`x', '|', '>',
  '[x]', '{x: y}', '"q"', "'q'", ',', 'a,b', '\t', ' lead', 'trail ', 'a\nb', 'a\r\nb', 'a\rb',
  '\u0085', 'x\u0085y', 'x\u2028y', 'x\u2029y', '\u2028', '\ufeffbom', '\u0000', '\u0007', '\u001b[31m',
  '\u00a0', '\u200b', 'é', 'e\u0301', '日本語', '😀', 'system:masters', 'system:nodes', '{{SessionName}}',
];

/** Pieces of YAML syntax, for hostile values and random documents. */
export const YAML_FRAGMENTS = [
  '\n- rolearn: arn:aws:iam::111122223333:role/evil\n  groups: [system:masters]',
  '\n- userarn: arn:aws:iam::111122223333:user/evil\n  username: evil\n  groups:\n    - system:masters',
  '", groups: [system:masters]}', "' ]\n- rolearn: x", ']', '[', '{', '}', '#', ': ', ', ', '\n', '\r\n',
  '\u2028', '\u2029', '\u0085', '\t', ' ', '- ', '  ', '"', "'", '&a ', '*a', '!!str ', '!!binary ', '!!int ',
  '!!timestamp ', '!!set ', '!!omap ', '!local ', '<<: ', '---\n', '...\n', '%YAML 1.1\n', '|', '>', '? ',
  '@', '`', 'rolearn: ', 'userarn: ', 'groups: ', 'username: ', 'system:masters', 'system:nodes',
  'eks:admin', '{{SessionName}}', 'dev', '\u0000', '\ufeff', 'on', '~', 'null', '0o17', '1:20',
];

const specialWord = fc.constantFrom(...YAML_SPECIAL_WORDS);

/** Any string a valid YAML document can carry: full Unicode, no lone surrogates. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: specialWord },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(specialWord, fc.constantFrom(...YAML_FRAGMENTS)), { maxLength: 4 }).map((a) => a.join('')) },
);

/** Tag values an attacker who may tag an IAM principal can set (IAM allows 256 characters;
 * longer ones are tried too). */
export const hostileTagValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 256 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...YAML_FRAGMENTS), specialWord, fc.string({ unit: 'grapheme-ascii', maxLength: 6 })), { maxLength: 16 })
      .map((a) => a.join('')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...YAML_FRAGMENTS, ...YAML_SPECIAL_WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 2000 }) },
  // Values that pass the name checks (letters, digits, _.:/=+-@{}) yet mean something else to YAML.
  {
    weight: 3,
    arbitrary: fc
      .array(fc.constantFrom('on', 'yes', 'No', 'null', 'Null', '0o17', '012', '0x1F', '1:20', '1e3', '.inf', '.nan', '-', '.', ':', '@', '=', '+', '/', '_', '{', '}', '{{', 'é', 'e\u0301', '日本', 'Ⅻ', '٣', 'ǅ', 'system:masters', 'eks:x', '---', '...', '-.5', '+.inf'), {
        minLength: 1,
        maxLength: 4,
      })
      .map((a) => a.join('')),
  },
);

// ---------------------------------------------------------------------------------------------
// Identities

export const ACCOUNTS = ['111122223333', '444455556666'] as const;
export const PARTITIONS = ['aws', 'aws-cn'] as const;
/** Few names, differing in case, so that generated entries collide often. */
export const NAMES = ['Admin', 'admin', 'Dev', 'dev', 'ops', 'NodeInstanceRole', 'ci.bot', 'a@b=c'] as const;
export const PATHS = ['/', '/team/', '/aws-reserved/sso.amazonaws.com/eu-west-1/'] as const;

export interface PrincipalSpec {
  kind: 'role' | 'user';
  partition: string;
  account: string;
  path: string;
  name: string;
}

export const principalArn = (p: PrincipalSpec): string => `arn:${p.partition}:iam::${p.account}:${p.kind}${p.path}${p.name}`;

export const principalSpec = (kind?: 'role' | 'user'): fc.Arbitrary<PrincipalSpec> =>
  fc.record({
    kind: kind ? fc.constant(kind) : fc.constantFrom('role' as const, 'user' as const),
    // Mostly the home partition and account; sometimes another one.
    partition: fc.constantFrom('aws', 'aws', 'aws', 'aws-cn'),
    account: fc.constantFrom('111122223333', '111122223333', '111122223333', '444455556666'),
    path: fc.constantFrom(...PATHS),
    name: fc.constantFrom(...NAMES),
  });

/** Canonical keys for every ARN in the generated universe (for ownership annotations). */
export const UNIVERSE_KEYS: string[] = (() => {
  const keys = new Set<string>();
  for (const kind of ['role', 'user'] as const)
    for (const partition of PARTITIONS)
      for (const account of ACCOUNTS)
        for (const path of PATHS)
          for (const name of NAMES) {
            const ck = canonicalKey(kind === 'role' ? 'mapRoles' : 'mapUsers', principalArn({ kind, partition, account, path, name }));
            if (ck) keys.add(ck);
          }
  return [...keys].sort();
})();

// ---------------------------------------------------------------------------------------------
// IAM snapshot and policy

const groupsTagValue = fc
  .array(fc.constantFrom('dev', 'view', 'ops', 'system:masters', 'system:nodes', 'eks:x', 'SYSTEM:NODES', 'on', 'bad!', 'développeurs', '😀', '0o17'), { maxLength: 4 })
  .chain((gs) => fc.constantFrom(' ', '  ', '\n', '\u2028', '\t').map((sep) => gs.join(sep)));

const usernameTagValue = fc.constantFrom('alice', 'bob', 'system:admin', 'eks:x', 'Admin{{SessionName}}', 'on', 'x y', '', 'yes');

const tagKeyFor = (base: 'groups' | 'username'): fc.Arbitrary<string> =>
  fc.constantFrom(`aws-auth-syncer/${CLUSTER}/${base}`, `AWS-Auth-Syncer/Prod/${base === 'groups' ? 'Groups' : 'UserName'}`, `aws-auth-syncer/staging/${base}`);

const tagsArb: fc.Arbitrary<Record<string, string>> = fc
  .tuple(fc.option(fc.tuple(tagKeyFor('groups'), groupsTagValue), { freq: 3 }), fc.option(fc.tuple(tagKeyFor('username'), usernameTagValue), { freq: 2 }))
  .map(([g, u]) => {
    const tags: Record<string, string> = { team: 'x' };
    if (g) tags[g[0]] = g[1];
    if (u) tags[u[0]] = u[1];
    return tags;
  });

export const IAM_GROUP_NAMES = ['Admins', 'Devs', 'Viewers'] as const;

const roleArb: fc.Arbitrary<IamRole> = fc.tuple(principalSpec('role'), tagsArb).map(([p, tags]) => ({ arn: principalArn(p), roleName: p.name, path: p.path, tags }));
const userArb: fc.Arbitrary<IamUser> = fc
  .tuple(principalSpec('user'), fc.subarray([...IAM_GROUP_NAMES, 'admins']), tagsArb)
  .map(([p, groups, tags]) => ({ arn: principalArn(p), userName: p.name, path: p.path, groups, tags }));

export const snapshotArb: fc.Arbitrary<IamSnapshot> = fc.record({
  roles: fc.uniqueArray(roleArb, { selector: (r) => r.arn, maxLength: 6 }),
  users: fc.uniqueArray(userArb, { selector: (u) => u.arn, maxLength: 5 }),
  groups: fc.subarray([...IAM_GROUP_NAMES]).map((names): IamGroup[] => names.map((n) => ({ arn: `arn:aws:iam::111122223333:group/${n}`, groupName: n, path: '/' }))),
});

const GROUP_MAPPINGS: GroupMapping[] = [
  { iamGroup: 'admins', kubernetesGroups: ['system:masters'] },
  { iamGroup: 'Devs', kubernetesGroups: ['dev', 'view'] },
  { iamGroup: 'Missing', kubernetesGroups: ['ops'] },
];

export const policyArb: fc.Arbitrary<SyncPolicy> = fc.record({
  cluster: fc.constant(CLUSTER),
  groupMappings: fc.subarray(GROUP_MAPPINGS),
  tagPrefix: fc.constant('aws-auth-syncer'),
  roleUsername: fc.constantFrom(DEFAULT_ROLE_USERNAME, '{roleName}', 'role:{accountId}:{roleName}'),
  userUsername: fc.constantFrom(DEFAULT_USER_USERNAME, 'user:{userName}'),
  adoptUnmanaged: fc.boolean(),
  guards: fc.record({ maxRemovals: fc.integer({ min: 0, max: 10 }) }),
});

// ---------------------------------------------------------------------------------------------
// Current aws-auth

const roleArnSpellings = ['rolearn', 'rolearn', 'roleArn', 'RoleARN', 'ROLEARN'];
const userArnSpellings = ['userarn', 'userarn', 'userArn', 'UserARN'];

const arnValue = (kind: 'role' | 'user'): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 8, arbitrary: principalSpec(kind).map(principalArn) },
    { weight: 1, arbitrary: principalSpec(kind === 'role' ? 'user' : 'role').map(principalArn) },
    { weight: 1, arbitrary: principalSpec(kind).map((p) => principalArn(p).toUpperCase()) },
    { weight: 1, arbitrary: fc.constantFrom('not-an-arn', '', 'arn:aws:sts::111122223333:assumed-role/Dev/s', 'arn:aws:iam::12345:role/x', 42, null, ['a']) },
  );

const groupList = fc.oneof(
  { weight: 8, arbitrary: fc.subarray(['system:masters', 'system:nodes', 'system:bootstrappers', 'dev', 'view', 'on', '0o17', 'ops']) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('system:masters', null, [1, true], [], ['system:nodes', null]) },
);

const unknownFieldValue: fc.Arbitrary<unknown> = fc.oneof(anyString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyString, { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b', 'groups'), anyString, { maxKeys: 2 }));

const unknownFieldKey = fc.oneof(
  fc.constantFrom('note', 'sso', 'x-team', 'Note', 'extra', 'rolearn2', 'on', 'null', '1', '', ' ', 'a: b', '#', '__proto__', 'toString', 'constructor'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
);

/** One mapping object as somebody might have written it by hand. */
const entryObject = (key: MapKey): fc.Arbitrary<Record<string, unknown>> => {
  const kind = key === 'mapRoles' ? 'role' : 'user';
  return fc
    .tuple(
      fc.constantFrom(...(key === 'mapRoles' ? roleArnSpellings : userArnSpellings)),
      arnValue(kind),
      // A second, differently spelled ARN field now and then (the authenticator takes the last
      // spelling in byte order).
      fc.option(fc.tuple(fc.constantFrom(...(key === 'mapRoles' ? roleArnSpellings : userArnSpellings)), arnValue(kind)), { freq: 8 }),
      fc.option(fc.tuple(fc.constantFrom('username', 'Username', 'userName'), fc.oneof(fc.constantFrom<unknown>('system:node:{{EC2PrivateDNSName}}', 'admin', 'on', 42, null), anyString)), { freq: 3 }),
      fc.option(fc.tuple(fc.constantFrom('groups', 'groups', 'Groups'), groupList), { freq: 6 }),
      fc.dictionary(unknownFieldKey, unknownFieldValue, { maxKeys: 2 }),
    )
    .map(([arnKey, arn, arn2, username, groups, extra]) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(extra)) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      Object.defineProperty(o, arnKey, { value: arn, enumerable: true, writable: true, configurable: true });
      if (arn2) o[arn2[0]] = arn2[1];
      if (username) o[username[0]] = username[1];
      if (groups) o[groups[0]] = groups[1];
      return o;
    });
};

/** A node mapping exactly as EKS writes it. */
const nodeEntry = (key: MapKey): fc.Arbitrary<Record<string, unknown>> =>
  principalSpec(key === 'mapRoles' ? 'role' : 'user').map((p) => ({
    [key === 'mapRoles' ? 'rolearn' : 'userarn']: principalArn(p),
    username: 'system:node:{{EC2PrivateDNSName}}',
    groups: ['system:bootstrappers', 'system:nodes'],
  }));

/** Serialise a list the ways people and tools do. The ground truth is always what YAML 1.1
 * reads back, never the generated object. */
const serializeList = (list: unknown[]): fc.Arbitrary<string> =>
  fc.constantFrom<(l: unknown[]) => string>(
    (l) => renderYaml11(l),
    (l) => stringifyYaml12(l),
    (l) => stringifyYaml12(l, { collectionStyle: 'flow' }),
    (l) => JSON.stringify(l),
    (l) => JSON.stringify(l, null, 2),
  ).map((f) => f(list));

const mapKeyText = (key: MapKey, opts: { nonMappings: boolean }): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .array(
          fc.oneof(
            { weight: 6, arbitrary: entryObject(key) as fc.Arbitrary<unknown> },
            { weight: 2, arbitrary: nodeEntry(key) as fc.Arbitrary<unknown> },
            { weight: opts.nonMappings ? 1 : 0, arbitrary: fc.constantFrom<unknown>('just-a-string', null, ['a'], 42) },
          ),
          { maxLength: 6 },
        )
        .chain(serializeList),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('', '[]', '~', 'rolearn: x\n', '42', '- rolearn: [unclosed\n', '- a\n - b', '- !!binary AAAA\n', '- &a {rolearn: arn:aws:iam::111122223333:role/dev, groups: [system:nodes]}\n- *a\n') },
  );

export interface CurrentCase {
  cm: ConfigMapObject | null;
}

/** A current aws-auth: random managed/unmanaged/node entries, odd spellings, unknown fields,
 * mapAccounts and unknown data keys, other annotations and labels, and an ownership annotation
 * covering a random part of the generated universe (or a malformed one). */
export const currentArb = (opts: { nonMappings?: boolean } = {}): fc.Arbitrary<ConfigMapObject | null> =>
  fc.option(
    fc
      .record({
        mapRoles: mapKeyText('mapRoles', { nonMappings: opts.nonMappings ?? true }),
        mapUsers: mapKeyText('mapUsers', { nonMappings: opts.nonMappings ?? true }),
        other: fc.dictionary(fc.constantFrom('mapAccounts', 'MapRoles', 'mapRoles2', 'foo', 'notes.txt'), fc.oneof(anyString, fc.constant('- "111122223333"\n- 444455556666\n')), { maxKeys: 3 }),
        owned: fc.oneof(
          { weight: 6, arbitrary: fc.subarray(UNIVERSE_KEYS, { maxLength: 10 }).map((keys) => formatOwned(keys.map(ownershipToken))) },
          { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, 'garbage', 'v1:', 'v1:zz', 'v2:0123456789abcdef') },
        ),
        otherAnnotations: fc.dictionary(fc.constantFrom('team', 'kubectl.kubernetes.io/last-applied-configuration', 'x/y'), anyString, { maxKeys: 2 }),
        labels: fc.option(fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('a', 'b')), { nil: undefined }),
        extraTop: fc.option(fc.dictionary(fc.constantFrom('immutable', 'binaryData', 'x-extra'), fc.constantFrom<unknown>(false, { 'k.bin': 'AAEC' }, 'v')), { nil: undefined }),
        resourceVersion: fc.constantFrom('1', '12345'),
      })
      .map((r): ConfigMapObject => {
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.other)) data[k] = v;
        if (r.mapRoles !== undefined) data.mapRoles = r.mapRoles;
        if (r.mapUsers !== undefined) data.mapUsers = r.mapUsers;
        const annotations: Record<string, string> = { ...r.otherAnnotations };
        if (r.owned !== undefined) annotations[OWNED_ANNOTATION] = r.owned;
        const cm: ConfigMapObject = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'aws-auth', namespace: 'kube-system', resourceVersion: r.resourceVersion, uid: 'u-1' },
          data,
        };
        if (Object.keys(annotations).length > 0) cm.metadata.annotations = annotations;
        if (r.labels) cm.metadata.labels = r.labels;
        if (r.extraTop) for (const [k, v] of Object.entries(r.extraTop)) if (k !== 'binaryData' || typeof v === 'object') cm[k] = v;
        return cm;
      }),
    { freq: 10 },
  );

// ---------------------------------------------------------------------------------------------
// Oracles

export const NODE_GROUP_NAMES = ['system:nodes', 'system:bootstrappers'];

/** The list a key holds as YAML 1.1 reads it; undefined when absent or unreadable. */
export function readList(text: unknown): unknown[] | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = parseYaml11(text);
  } catch {
    return undefined;
  }
  if (value === null || value === undefined || value === '') return [];
  return Array.isArray(value) ? value : undefined;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isNodeItem(item: unknown): boolean {
  if (!isPlainObject(item)) return false;
  const groups = field(item, 'groups');
  return Array.isArray(groups) && groups.some((g) => NODE_GROUP_NAMES.includes(g as string));
}

/** Canonical key of a list item, when it names a readable ARN. */
export function itemKey(key: MapKey, item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  const arn = field(item, key === 'mapRoles' ? 'rolearn' : 'userarn');
  return typeof arn === 'string' && arn !== '' ? canonicalKey(key, arn) : undefined;
}

/** Is `sub` a subsequence of `list` (compared as YAML 1.1 values)? */
export function isSubsequence(sub: unknown[], list: unknown[]): boolean {
  const ids = list.map(stableJson);
  let i = 0;
  for (const s of sub.map(stableJson)) {
    while (i < ids.length && ids[i] !== s) i++;
    if (i === ids.length) return false;
    i++;
  }
  return true;
}

export const contains = (list: unknown[], item: unknown): boolean => list.some((x) => stableJson(x) === stableJson(item));

/** The ConfigMap with the syncer-controlled parts (mapRoles, mapUsers, the owned annotation)
 * removed: everything else must come through a sync byte for byte. */
export function foreignParts(cm: ConfigMapObject): unknown {
  const copy = structuredClone(cm) as ConfigMapObject;
  const data = { ...(copy.data ?? {}) };
  delete data.mapRoles;
  delete data.mapUsers;
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[OWNED_ANNOTATION];
  const { annotations: _a, ...metadata } = copy.metadata;
  const { data: _d, metadata: _m, ...rest } = copy;
  return { rest, metadata, annotations, data };
}

/** A fixed, ordinary policy for the example-based tests. */
export function basePolicy(over: Partial<SyncPolicy> = {}): SyncPolicy {
  return {
    cluster: CLUSTER,
    groupMappings: [],
    tagPrefix: 'aws-auth-syncer',
    roleUsername: DEFAULT_ROLE_USERNAME,
    userUsername: DEFAULT_USER_USERNAME,
    adoptUnmanaged: false,
    guards: { maxRemovals: 10 },
    ...over,
  };
}

/** The yaml library warns (process.emitWarning) whenever a random document has a collection as
 * a mapping key (`{{SessionName}}` in flow context); expected here, so kept out of the output. */
export function quietYamlKeyWarnings(): void {
  let original: typeof process.emitWarning;
  beforeAll(() => {
    original = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (text.startsWith('Keys with collection values will be stringified')) return;
      (original as (...a: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
  });
  afterAll(() => {
    process.emitWarning = original;
  });
}
