/**
 * Generators and oracles shared by the property tests (and the differential tests in
 * test/oracle). Not a test file (jest only runs *.test.ts).
 *
 * The oracles decide what must survive a sync — unmanaged entries, node entries, everything
 * outside mapRoles/mapUsers — without the planner's own decisions (decide/render): entries are
 * cut out of the text line by line, values are read with an independent YAML 1.1 library, and
 * "may this entry change" is worked out from the ownership record and the wanted identities.
 */
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { buildDesired } from '../../../lib/core/desired.js';
import { OWNED_ANNOTATION, formatOwned, ownershipToken, owns, readOwned } from '../../../lib/core/ownership.js';
import { planSync, type SyncPlanInput } from '../../../lib/core/plan.js';
import type { GroupMapping, RoleMapping, SyncPolicy } from '../../../lib/core/policy.js';
import { DEFAULT_ROLE_USERNAME, DEFAULT_USER_USERNAME } from '../../../lib/core/policy.js';
import type { ConfigMapObject, IamGroup, IamRole, IamSnapshot, IamUser, MapKey } from '../../../lib/core/types.js';
import { ACCOUNT, NAMES, PATHS, UNIVERSE_PROBES, YAML_FRAGMENTS, YAML_SPECIAL_WORDS, mapAccountsTextArb, mapKeyTextArb, stringArb } from './awsauth-text.js';

export { ACCOUNT, YAML_FRAGMENTS, YAML_SPECIAL_WORDS };

export const CLUSTER = 'prod';
export const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/${CLUSTER}`;
export const TAG_GROUPS = `aws-auth-syncer/${CLUSTER}/groups`;
export const TAG_USERNAME = `aws-auth-syncer/${CLUSTER}/username`;

/** numRuns per property: modest, so the unit directory stays fast. PROPERTY_RUNS_SCALE=10
 * (for example) runs each property ten times longer. */
export const SCALE = Math.max(1, Number(process.env.PROPERTY_RUNS_SCALE ?? 1) || 1);
export const RUNS = {
  preserve: 150 * SCALE,
  idempotent: 120 * SCALE,
  injection: 120 * SCALE,
  noCrash: 300 * SCALE,
  planNoCrash: 150 * SCALE,
};

// ---------------------------------------------------------------------------------------------
// Strings

/** Any string: YAML words, binary strings, graphemes, fragments of YAML syntax. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: stringArb },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
);

/** Tag values an attacker who may tag an IAM principal can set (IAM allows 256 characters;
 * longer ones are tried too). */
export const hostileTagValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 256 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...YAML_FRAGMENTS), fc.constantFrom(...YAML_SPECIAL_WORDS), fc.string({ unit: 'grapheme-ascii', maxLength: 6 })), {
        maxLength: 16,
      })
      .map((a) => a.join('')),
  },
  { weight: 1, arbitrary: fc.constantFrom(...YAML_FRAGMENTS, ...YAML_SPECIAL_WORDS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 2000 }) },
  // Values that pass the name checks (letters, digits, _.:/=+-@{}) yet mean something else to
  // YAML or to another principal.
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.constantFrom(
          'on',
          'yes',
          'No',
          'null',
          'Null',
          '0o17',
          '012',
          '0x1F',
          '1:20',
          '1e3',
          '.inf',
          '.nan',
          '-',
          '.',
          ':',
          '@',
          '=',
          '+',
          '/',
          '_',
          '{',
          '}',
          '{{',
          '{{SessionName}}',
          'é',
          'e\u0301',
          '日本',
          'Ⅻ',
          '٣',
          'ǅ',
          'ſ',
          '\u212a',
          'system:masters',
          'eks:x',
          'aws:x',
          '---',
          '...',
          '-.5',
          '+.inf',
          `arn:aws:iam::${ACCOUNT}:role/Admin`,
          `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/x`,
          'admin',
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((a) => a.join('')),
  },
);

// ---------------------------------------------------------------------------------------------
// IAM snapshot and policy

export const SSO_ROLE = 'AWSReservedSSO_Admin_0123456789abcdef';
export const SSO_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';

const groupsTagValue = fc
  .array(fc.constantFrom('dev', 'view', 'ops', 'system:masters', 'system:nodes', 'eks:x', 'SYSTEM:NODES', 'on', 'bad!', 'développeurs', '😀', '0o17', 'Dev'), {
    maxLength: 4,
  })
  .chain((gs) => fc.constantFrom(' ', '  ', '\n', '\u2028', '\t').map((sep) => gs.join(sep)));

const usernameTagValue = fc.constantFrom(
  'alice',
  'bob',
  'system:admin',
  'eks:x',
  'Admin{{SessionName}}',
  'team:{{SessionName}}',
  'on',
  'x y',
  '',
  'yes',
  'admin',
  `arn:aws:iam::${ACCOUNT}:role/Admin`,
  'dev',
);

const tagKeyFor = (base: 'groups' | 'username'): fc.Arbitrary<string> =>
  fc.constantFrom(
    `aws-auth-syncer/${CLUSTER}/${base}`,
    `aws-auth-syncer/${CLUSTER}/${base}`,
    `AWS-Auth-Syncer/Prod/${base === 'groups' ? 'Groups' : 'UserName'}`,
    `aws-auth-syncer/staging/${base}`,
  );

const tagsArb: fc.Arbitrary<Record<string, string>> = fc
  .tuple(fc.option(fc.tuple(tagKeyFor('groups'), groupsTagValue), { freq: 3 }), fc.option(fc.tuple(tagKeyFor('username'), usernameTagValue), { freq: 2 }))
  .map(([g, u]) => {
    const tags: Record<string, string> = { team: 'x' };
    if (g) tags[g[0]] = g[1];
    if (u) tags[u[0]] = u[1];
    return tags;
  });

export const IAM_GROUP_NAMES = ['Admins', 'Devs', 'Viewers'] as const;

/** IAM paths and names: the usual ones, and the odd characters IAM allows in paths (! to ~,
 * DEL included) plus a few it does not, to see them refused. */
const iamPath = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.constantFrom('/a\u007fb/', "/it's/", '/a"b/', '/a#b/', '/a: b/', '/x\u0085/', '/-/', '/é/') },
);
const iamName = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('on', 'null', '0o17', 'x\u2028y', 'a b', 'ſ') },
);

const roleArb: fc.Arbitrary<IamRole> = fc
  .record({
    account: fc.constantFrom(ACCOUNT, ACCOUNT, ACCOUNT, '444455556666'),
    partition: fc.constantFrom('aws', 'aws', 'aws', 'aws', 'aws-cn'),
    path: iamPath,
    name: fc.oneof({ weight: 8, arbitrary: iamName }, { weight: 1, arbitrary: fc.constant(SSO_ROLE) }),
    tags: tagsArb,
  })
  .map(({ account, partition, path, name, tags }) => {
    const p = name === SSO_ROLE ? SSO_PATH : path;
    return { arn: `arn:${partition}:iam::${account}:role${p}${name}`, roleName: name, path: p, tags };
  });

const userArb: fc.Arbitrary<IamUser> = fc
  .record({
    account: fc.constantFrom(ACCOUNT, ACCOUNT, ACCOUNT, '444455556666'),
    partition: fc.constantFrom('aws', 'aws', 'aws', 'aws', 'aws-cn'),
    path: iamPath,
    name: iamName,
    groups: fc.subarray([...IAM_GROUP_NAMES, 'admins']),
    tags: tagsArb,
  })
  .map(({ account, partition, path, name, groups, tags }) => ({
    arn: `arn:${partition}:iam::${account}:user${path}${name}`,
    userName: name,
    path,
    groups,
    tags,
  }));

export const snapshotArb: fc.Arbitrary<IamSnapshot> = fc.record({
  roles: fc.uniqueArray(roleArb, { selector: (r) => r.arn.toLowerCase(), maxLength: 6 }),
  users: fc.uniqueArray(userArb, { selector: (u) => u.arn.toLowerCase(), maxLength: 5 }),
  groups: fc
    .subarray([...IAM_GROUP_NAMES])
    .map((names): IamGroup[] => names.map((n) => ({ arn: `arn:aws:iam::${ACCOUNT}:group/${n}`, groupName: n, path: '/' }))),
});

const GROUP_MAPPINGS: GroupMapping[] = [
  { iamGroup: 'admins', kubernetesGroups: ['system:masters'] },
  { iamGroup: 'Devs', kubernetesGroups: ['dev', 'view'] },
  { iamGroup: 'Missing', kubernetesGroups: ['ops'] },
];

const ROLE_MAPPINGS: RoleMapping[] = [
  { ssoPermissionSet: 'Admin', kubernetesGroups: ['system:masters'], username: 'sso-admin:{{SessionName}}' },
  { roleName: 'ops*', kubernetesGroups: ['ops'] },
  { roleName: 'Dev', kubernetesGroups: ['dev'], username: 'dev:{{SessionName}}' },
  { roleName: 'Admin', kubernetesGroups: ['system:masters'] },
];

export const policyArb: fc.Arbitrary<SyncPolicy> = fc.record({
  cluster: fc.constant(CLUSTER),
  clusterArn: fc.constantFrom(undefined, CLUSTER_ARN),
  partition: fc.constant('aws'),
  groupMappings: fc.subarray(GROUP_MAPPINGS),
  roleMappings: fc.subarray(ROLE_MAPPINGS),
  tagPrefix: fc.constant('aws-auth-syncer'),
  tags: fc.record({ allowedGroups: fc.constantFrom(['*'], ['*'], ['dev', 'view'], ['*', 'system:masters'], [], ['d*']) }),
  roleUsername: fc.constantFrom(DEFAULT_ROLE_USERNAME, '{roleName}', 'role:{accountId}:{roleName}'),
  userUsername: fc.constantFrom(DEFAULT_USER_USERNAME, 'user:{userName}'),
  adoptUnmanaged: fc.boolean(),
  guards: fc.record({ maxRemovals: fc.integer({ min: 0, max: 10 }) }),
}) as fc.Arbitrary<SyncPolicy>;

/** The syncer's own identities (its sync and restore roles, or a caller). */
export const selfArnsArb: fc.Arbitrary<string[]> = fc.subarray([
  `arn:aws:iam::${ACCOUNT}:role/Admin`,
  `arn:aws:sts::${ACCOUNT}:assumed-role/ops/session-1`,
  `arn:aws:iam::${ACCOUNT}:user/team/dev`,
  `arn:aws:iam::${ACCOUNT}:role/NodeInstanceRole`,
]);

// ---------------------------------------------------------------------------------------------
// Current aws-auth

/** Identity keys of the generated universe, with the key each would be owned under. */
const OWNABLE: { key: MapKey; id: string }[] = UNIVERSE_PROBES.flatMap((id) => {
  if (id.includes(':role/')) return [{ key: 'mapRoles' as const, id }];
  if (id.includes(':user/')) return [{ key: 'mapUsers' as const, id }, ...(id.endsWith('/admin') ? [{ key: 'mapRoles' as const, id }] : [])];
  return [];
});

/** The ownership annotation: tokens for part of the universe, for this cluster (by name or
 * ARN), another cluster, or in an old or broken form. */
const ownedArb: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.subarray(OWNABLE, { maxLength: 14 }), fc.constantFrom(CLUSTER, CLUSTER, CLUSTER_ARN)).map(([owned, ref]) =>
      formatOwned(
        ref,
        owned.map((o) => ownershipToken(ref, o.key, o.id)),
      ),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined,
      'garbage',
      'v1:0123456789abcdef',
      `v2;staging;${ownershipToken('staging', 'mapRoles', `arn:aws:iam::${ACCOUNT}:role/dev`)}`,
      'v2;prod;',
      'v2;prod;0123456789ABCDEF',
    ),
  },
);

/** A current aws-auth: hostile mapRoles/mapUsers/mapAccounts texts, unknown data keys, other
 * annotations and labels, and an ownership annotation covering part of the universe. */
export const currentArb = (opts: { mutations?: number; extreme?: number; maxItems?: number } = {}): fc.Arbitrary<ConfigMapObject | null> =>
  fc.option(
    fc
      .record({
        mapRoles: fc.option(mapKeyTextArb('mapRoles', opts), { freq: 8, nil: undefined }),
        mapUsers: fc.option(mapKeyTextArb('mapUsers', opts), { freq: 6, nil: undefined }),
        mapAccounts: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: mapAccountsTextArb }),
        other: fc.dictionary(fc.constantFrom('MapRoles', 'mapRoles2', 'foo', 'notes.txt'), anyString, { maxKeys: 2 }),
        owned: ownedArb,
        otherAnnotations: fc.dictionary(fc.constantFrom('team', 'kubectl.kubernetes.io/last-applied-configuration', 'x/y'), anyString, { maxKeys: 2 }),
        labels: fc.option(fc.dictionary(fc.constantFrom('app', 'tier'), fc.constantFrom('a', 'b')), { nil: undefined }),
        extraTop: fc.option(fc.dictionary(fc.constantFrom('immutable', 'binaryData', 'x-extra'), fc.constantFrom<unknown>(false, { 'k.bin': 'AAEC' }, 'v')), {
          nil: undefined,
        }),
        resourceVersion: fc.constantFrom('1', '12345'),
      })
      .map((r): ConfigMapObject => {
        const data: Record<string, string> = { ...r.other };
        if (r.mapRoles !== undefined) data.mapRoles = r.mapRoles;
        if (r.mapUsers !== undefined) data.mapUsers = r.mapUsers;
        if (r.mapAccounts !== undefined) data.mapAccounts = r.mapAccounts;
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

/**
 * A whole planSync input. Half the time the current aws-auth is what an earlier sync (with an
 * earlier IAM snapshot, forced) made of the generated one, so that the syncer owns entries in it
 * and the plan updates, removes and splices rather than only adds.
 */
export const planInputArb = (opts: Parameters<typeof currentArb>[0] = {}): fc.Arbitrary<SyncPlanInput> =>
  fc
    .record({
      current: currentArb(opts),
      snapshot: snapshotArb,
      policy: policyArb,
      selfArns: selfArnsArb,
      force: fc.boolean(),
      previous: fc.option(snapshotArb, { nil: undefined }),
    })
    .map(({ previous, ...input }) => (previous === undefined ? input : { ...input, current: planSync({ ...input, snapshot: previous, force: true }).next }));

// ---------------------------------------------------------------------------------------------
// Oracles

export const NODE_GROUP_NAMES = ['system:nodes', 'system:bootstrappers'];

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key's list as an independent YAML 1.1 reader (the `yaml` library) reads it; undefined when
 * it cannot. Only used on texts the syncer itself reads, to compare values before and after. */
export function readList(text: unknown): unknown[] | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = parseYaml(text, { version: '1.1', uniqueKeys: true, strict: true, maxAliasCount: 0 });
  } catch {
    return undefined;
  }
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : undefined;
}

/** A field of an entry, its name compared ASCII-case-insensitively (as encoding/json does). */
export function field(item: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(item).find((f) => f.toLowerCase() === name);
  return k === undefined ? undefined : item[k];
}

export function isNodeItem(item: unknown): boolean {
  if (!isPlainObject(item)) return false;
  const groups = field(item, 'groups');
  return Array.isArray(groups) && groups.some((g) => NODE_GROUP_NAMES.includes(g as string));
}

/** The lower-cased ARN a list item names, if any. */
export function itemArn(key: MapKey, item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  const arn = field(item, key === 'mapRoles' ? 'rolearn' : 'userarn');
  return typeof arn === 'string' && arn !== '' ? arn.toLowerCase() : undefined;
}

/** Stable JSON (sorted object keys) for comparing values. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isPlainObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

/** Is `sub` a subsequence of `list` (compared as values)? */
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

/**
 * The items of a top-level block sequence, cut out of the text line by line: from each item's
 * `-` line to its last content line (blank and comment lines after it belong to the next item).
 * Undefined when the text is not a plain LF block sequence.
 */
export function blockItems(text: string): string[] | undefined {
  if (text.includes('\r')) return undefined;
  const lines = text.split('\n');
  const isContent = (l: string): boolean => l.trim() !== '' && !l.trim().startsWith('#');
  let first = lines.findIndex(isContent);
  if (first !== -1 && /^---(\s|$)/.test(lines[first]!)) first = lines.findIndex((l, i) => i > first && isContent(l));
  if (first === -1) return [];
  const m = /^( *)-( |$)/.exec(lines[first]!);
  if (!m) return undefined;
  const dash = new RegExp(`^${m[1]}-( |$)`);
  const starts = lines.map((l, i) => (i >= first && dash.test(l) ? i : -1)).filter((i) => i !== -1);
  return starts.map((s, n) => {
    let end = (starts[n + 1] ?? lines.length) - 1;
    while (end > s && !isContent(lines[end]!)) end--;
    return lines.slice(s, end + 1).join('\n');
  });
}

/** Do the pieces occur in the text, in order, without overlapping? */
export function occursInOrder(pieces: readonly string[], text: string): boolean {
  let from = 0;
  for (const p of pieces) {
    const i = text.indexOf(p, from);
    if (i === -1) return false;
    from = i + p.length;
  }
  return true;
}

/** The ConfigMap without the parts the syncer controls (mapRoles, mapUsers, the ownership
 * annotation): everything else must come through a sync byte for byte. */
export function foreignParts(cm: ConfigMapObject): unknown {
  const copy = structuredClone(cm);
  const data = { ...(copy.data ?? {}) };
  delete data.mapRoles;
  delete data.mapUsers;
  const annotations = { ...(copy.metadata.annotations ?? {}) };
  delete annotations[OWNED_ANNOTATION];
  const { annotations: _a, ...metadata } = copy.metadata;
  const { data: _d, metadata: _m, ...rest } = copy;
  return { rest, metadata, annotations, data };
}

/**
 * Identities whose entries a plan may change or remove in a key: those the ownership record
 * owns there, and (with adoptUnmanaged) those IAM wants. Node entries never.
 */
export function mayChange(input: { current: ConfigMapObject | null; snapshot: IamSnapshot; policy: SyncPolicy }): (key: MapKey, item: unknown) => boolean {
  const owned = readOwned(input.current, { name: input.policy.cluster, arn: input.policy.clusterArn });
  const wanted = new Set(buildDesired(input.snapshot, input.policy).mappings.map((m) => m.identity.key));
  return (key, item) => {
    if (isNodeItem(item)) return false;
    const arn = itemArn(key, item);
    if (arn === undefined) return false;
    return owns(owned, key, arn) || (input.policy.adoptUnmanaged && wanted.has(arn));
  };
}

/** A fixed, ordinary policy for the example-based tests. */
export function basePolicy(over: Partial<SyncPolicy> = {}): SyncPolicy {
  return {
    cluster: CLUSTER,
    partition: 'aws',
    groupMappings: [],
    roleMappings: [],
    tagPrefix: 'aws-auth-syncer',
    tags: { allowedGroups: ['*'] },
    roleUsername: DEFAULT_ROLE_USERNAME,
    userUsername: DEFAULT_USER_USERNAME,
    adoptUnmanaged: false,
    guards: { maxRemovals: 10 },
    ...over,
  };
}
