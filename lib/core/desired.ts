/**
 * The mappings IAM and the config ask for. Pure: a function of the IAM snapshot and the policy.
 *
 * Trust follows who can change the input. Config (group and role mappings) is reviewed code: its
 * groups and usernames are taken as they are. Tags can be set by anyone allowed `iam:Tag*`, so
 * what a tag may grant is limited by config: groups only within `tags.allowedGroups`
 * (`system:masters` and the syncer's own group only when listed as such; never a node or reserved group), and a username
 * only when it cannot impersonate anyone (no bare `{{SessionName}}`, no other principal's ARN or
 * role name, no reserved prefix, not already used by another entry). A refused tag username falls
 * back to the default template; a principal left with no allowed group is not mapped.
 */
import { identityOfPrincipal, type Identity } from './identity.js';
import { groupProblem, PRIVILEGED_GROUPS, RESERVED_TAG_USERNAME_PREFIXES, sortedUnique, splitGroups, usernameProblem } from './names.js';
import { UsernameIndex } from './usernames.js';
import { compileUsername, globToRegExp, type AccessPolicyConfig, type SyncPolicy, type UsernameVars } from './policy.js';
import type { AccessPolicyGrant, IamRole, IamSnapshot, MapKey, Mapping, Warning } from './types.js';

export interface DesiredMappings {
  /** Sorted by identity key; one per identity. */
  mappings: Mapping[];
  warnings: Warning[];
}

export interface DesiredContext {
  /** Usernames already used by entries the syncer does not own (username → where, whose). */
  usernamesInUse?: ReadonlyMap<string, { where: string; id?: string }>;
}

interface Pending {
  key: MapKey;
  identity: Identity;
  /** The ARN as IAM reports it (roles with their path). */
  principalArn: string;
  /** Access policies from config (never from tags). */
  policies: AccessPolicyConfig[];
  vars: UsernameVars;
  groups: Set<string>;
  /** Where the username comes from: config beats tag beats the default template. */
  username: { value: string; from: 'config' | 'tag' | 'default' };
  /** An untrusted username to check once every mapping is known. */
  tagUsername?: string;
}

const SSO_PATH = '/aws-reserved/sso.amazonaws.com/';

/** The ARN of an EKS access policy by name, in the cluster's partition. */
export function accessPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${name}`;
}

/**
 * Access policies as associations: one per policy (EKS keeps one association per policy and
 * principal), cluster scope winning over namespaces, namespaces merged; sorted by policy ARN.
 */
export function mergeAccessPolicies(partition: string, configs: readonly AccessPolicyConfig[]): AccessPolicyGrant[] {
  const byArn = new Map<string, AccessPolicyGrant>();
  for (const c of configs) {
    const policyArn = accessPolicyArn(partition, c.policy);
    const had = byArn.get(policyArn);
    if (c.scope === 'cluster' || had?.scope.type === 'cluster') {
      byArn.set(policyArn, { policyArn, scope: { type: 'cluster' } });
      continue;
    }
    const namespaces = sortedUnique([...(had?.scope.type === 'namespace' ? had.scope.namespaces : []), ...(c.namespaces ?? [])]);
    byArn.set(policyArn, { policyArn, scope: { type: 'namespace', namespaces } });
  }
  return [...byArn.values()].sort((a, b) => (a.policyArn < b.policyArn ? -1 : a.policyArn > b.policyArn ? 1 : 0));
}
const SSO_ROLE = /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/;

/** Tag values for this cluster. Keys compare exactly: EKS cluster names are case-sensitive. */
function clusterTags(tags: Record<string, string>, policy: SyncPolicy, arn: string, warnings: Warning[]): { groups?: string; username?: string } {
  const base = `${policy.tagPrefix}/${policy.cluster}/`;
  const out: { groups?: string; username?: string } = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k === `${base}groups`) out.groups = v;
    else if (k === `${base}username`) out.username = v;
    else if (k.toLowerCase() === `${base}groups`.toLowerCase() || k.toLowerCase() === `${base}username`.toLowerCase()) {
      warnings.push({ code: 'tag-key-case', message: `${arn}: tag ${k} ignored: tag keys compare exactly (expected ${base}groups or ${base}username)`, arn });
    }
  }
  return out;
}

/** Role mappings from config that match a role, in config order. */
function matchingRoleMappings(role: IamRole, policy: SyncPolicy) {
  return policy.roleMappings.filter((rm) => {
    if (rm.ssoPermissionSet !== undefined) {
      const m = SSO_ROLE.exec(role.roleName);
      return role.path.startsWith(SSO_PATH) && m?.[1] === rm.ssoPermissionSet;
    }
    return rm.roleName !== undefined && globToRegExp(rm.roleName, 'i').test(role.roleName);
  });
}

/** Build the desired managed mappings. Bad input skips the principal or the group, with a warning. */
export function buildDesired(snapshot: IamSnapshot, policy: SyncPolicy, context: DesiredContext = {}): DesiredMappings {
  const warnings: Warning[] = [];
  const byKey = new Map<string, Pending>();
  const allowed = policy.tags.allowedGroups.map((g) => ({ literal: g, re: globToRegExp(g) }));
  const clusterAccount = policy.clusterArn?.split(':')[4];

  // The same few group names recur for thousands of principals: check each name once.
  const problems = new Map<string, string | undefined>();
  const problemOf = (g: string): string | undefined => {
    if (!problems.has(g)) problems.set(g, groupProblem(g));
    return problems.get(g);
  };
  const tagGroups = (value: string, arn: string): string[] => {
    const out: string[] = [];
    for (const g of splitGroups(value)) {
      const problem = problemOf(g);
      if (problem) warnings.push({ code: 'bad-group', message: `${arn}: dropped ${problem}`, arn });
      else if (!allowed.some((a) => a.literal === g || (!PRIVILEGED_GROUPS.includes(g) && a.re.test(g)))) {
        warnings.push({ code: 'tag-group-not-allowed', message: `${arn}: tag group ${JSON.stringify(g)} is not in tags.allowedGroups; not granted`, arn });
      } else out.push(g);
    }
    return out;
  };

  // Templates are few (config) or one per principal (tags): compile each once per run.
  const compiled = new Map<string, ReturnType<typeof compileUsername>>();
  const render = (template: string, vars: UsernameVars, arn: string, what: string): string | undefined => {
    try {
      let fill = compiled.get(template);
      if (!fill) compiled.set(template, (fill = compileUsername(template)));
      const name = fill(vars);
      const problem = usernameProblem(name);
      if (!problem) return name;
      warnings.push({ code: 'bad-username', message: `${arn}: ${what} refused: ${problem}`, arn });
    } catch (err) {
      warnings.push({ code: 'bad-username', message: `${arn}: ${what} refused: ${(err as Error).message}`, arn });
    }
    return undefined;
  };

  const add = (
    key: MapKey,
    rawArn: string,
    identity: Identity | undefined,
    vars: UsernameVars,
    sources: { trusted: string[]; tag?: string; configUsername?: string; tagUsername?: string; mapped: boolean; policies?: AccessPolicyConfig[] },
  ): void => {
    if (!sources.mapped) return;
    if (!identity || identity.kind !== (key === 'mapRoles' ? 'role' : 'user')) {
      warnings.push({ code: 'bad-arn', message: `skipped ${rawArn}: not an IAM ${key === 'mapRoles' ? 'role' : 'user'} ARN`, arn: rawArn });
      return;
    }
    const arn = identity.arn;
    if (identity.partition !== policy.partition) {
      warnings.push({ code: 'other-partition', message: `skipped ${arn}: partition ${identity.partition} is not the cluster's (${policy.partition})`, arn });
      return;
    }
    const asked = sources.tag !== undefined ? splitGroups(sources.tag).length : 0;
    // Config groups are validated with the config; the check again here keeps node and reserved
    // groups out whatever the caller passed.
    const trusted = sources.trusted.filter((g) => {
      const problem = problemOf(g);
      if (problem) warnings.push({ code: 'bad-group', message: `${arn}: dropped ${problem}`, arn });
      return !problem;
    });
    const groups = [...trusted, ...(sources.tag !== undefined ? tagGroups(sources.tag, arn) : [])];
    const existing = byKey.get(identity.key);
    // Every group asked for was refused: mapping the principal with none would be a surprise.
    if (groups.length === 0 && (asked > 0 || sources.trusted.length > 0) && !existing) {
      warnings.push({ code: 'no-groups-left', message: `skipped ${arn}: none of its groups may be granted`, arn });
      return;
    }
    if (clusterAccount !== undefined && identity.accountId !== clusterAccount && !existing) {
      warnings.push({ code: 'other-account', message: `${arn} is in account ${identity.accountId}, not the cluster's (${clusterAccount})`, arn });
    }
    let configured: string | undefined;
    if (sources.configUsername !== undefined) {
      configured = render(sources.configUsername, vars, arn, 'the username from roleMappings');
      if (configured === undefined) return;
    }
    const pending: Pending = existing ?? {
      key,
      identity,
      principalArn: rawArn,
      policies: [],
      vars,
      groups: new Set<string>(),
      username: { value: '', from: 'default' as const },
    };
    pending.policies.push(...(sources.policies ?? []));
    if (!existing) {
      const fallback = render(key === 'mapRoles' ? policy.roleUsername : policy.userUsername, vars, arn, 'the default username');
      if (fallback === undefined && configured === undefined) return;
      pending.username = { value: fallback ?? '', from: 'default' };
    }
    if (configured !== undefined && pending.username.from !== 'config') pending.username = { value: configured, from: 'config' };
    groups.forEach((g) => pending.groups.add(g));
    if (sources.tagUsername !== undefined && pending.username.from !== 'config') pending.tagUsername = sources.tagUsername;
    byKey.set(identity.key, pending);
  };

  // IAM groups → users.
  const mappedGroups = new Map<string, string[]>();
  const groupPolicies = new Map<string, AccessPolicyConfig[]>();
  for (const gm of policy.groupMappings) {
    const name = gm.iamGroup.toLowerCase();
    mappedGroups.set(name, [...(mappedGroups.get(name) ?? []), ...gm.kubernetesGroups]);
    groupPolicies.set(name, [...(groupPolicies.get(name) ?? []), ...(gm.accessPolicies ?? [])]);
  }
  const knownGroups = new Set(snapshot.groups.map((g) => g.groupName.toLowerCase()));
  for (const gm of policy.groupMappings) {
    if (!knownGroups.has(gm.iamGroup.toLowerCase()))
      warnings.push({ code: 'missing-group', message: `IAM group ${gm.iamGroup} (in groupMappings) does not exist` });
  }
  for (const user of snapshot.users) {
    const id = identityOfPrincipal(user.arn);
    const tags = clusterTags(user.tags, policy, user.arn, warnings);
    const trusted = user.groups.flatMap((g) => mappedGroups.get(g.toLowerCase()) ?? []);
    const viaGroup = user.groups.some((g) => mappedGroups.has(g.toLowerCase()));
    add(
      'mapUsers',
      user.arn,
      id,
      { partition: id?.partition ?? 'aws', accountId: id?.accountId ?? '', userName: user.userName, path: user.path },
      {
        trusted,
        tag: tags.groups,
        tagUsername: tags.username,
        mapped: viaGroup || tags.groups !== undefined,
        policies: user.groups.flatMap((g) => groupPolicies.get(g.toLowerCase()) ?? []),
      },
    );
  }

  // Config role mappings and tagged roles → roles.
  for (const role of snapshot.roles) {
    const id = identityOfPrincipal(role.arn);
    const tags = clusterTags(role.tags, policy, role.arn, warnings);
    const rms = matchingRoleMappings(role, policy);
    add(
      'mapRoles',
      role.arn,
      id,
      { partition: id?.partition ?? 'aws', accountId: id?.accountId ?? '', roleName: role.roleName, path: role.path },
      {
        trusted: rms.flatMap((rm) => rm.kubernetesGroups),
        configUsername: rms.find((rm) => rm.username !== undefined)?.username,
        tag: tags.groups,
        tagUsername: tags.username,
        mapped: rms.length > 0 || tags.groups !== undefined,
        policies: rms.flatMap((rm) => rm.accessPolicies ?? []),
      },
    );
  }

  // Tag usernames, now that every mapping is known: none may impersonate anyone.
  const inUse = new UsernameIndex();
  for (const [k, p] of byKey) inUse.add(p.username.value, { id: k });
  for (const [name, where] of context.usernamesInUse ?? []) inUse.add(name, where);
  for (const p of byKey.values()) {
    if (p.tagUsername === undefined) continue;
    const { vars } = p;
    const arn = p.identity.arn;
    const name = render(p.tagUsername, vars, arn, `the username tag ${JSON.stringify(p.tagUsername)}`);
    if (name === undefined) continue;
    const problem = tagUsernameProblem(name, p.identity, inUse);
    if (problem) {
      warnings.push({
        code: 'tag-username-refused',
        message: `${arn}: the username tag ${JSON.stringify(p.tagUsername)} is refused (${problem}); using ${JSON.stringify(p.username.value)}`,
        arn,
      });
      continue;
    }
    inUse.remove(p.username.value, p.identity.key);
    inUse.add(name, { id: p.identity.key });
    p.username = { value: name, from: 'tag' };
  }

  const mappings = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, p]) => ({
      key: p.key,
      identity: p.identity,
      principalArn: p.principalArn,
      username: p.username.value,
      groups: sortedUnique(p.groups),
      accessPolicies: mergeAccessPolicies(policy.partition, p.policies),
    }));
  return { mappings, warnings };
}

/**
 * Why a username from a tag could impersonate someone, or undefined. Modelled on what EKS access
 * entries allow: a session template needs a prefix with a colon (`ci:{{SessionName}}`), since a
 * bare `{{SessionName}}` lets whoever assumes the role choose their Kubernetes name.
 */
export function tagUsernameProblem(name: string, self: Identity, inUse: UsernameIndex): string | undefined {
  const lower = name.toLowerCase();
  const reserved = RESERVED_TAG_USERNAME_PREFIXES.find((p) => lower.startsWith(p));
  if (reserved) return `it claims the reserved "${reserved}" prefix`;
  if (name.includes('{{EC2PrivateDNSName}}')) return '{{EC2PrivateDNSName}} is for node mappings';
  const session = name.search(/\{\{SessionName(?:Raw)?\}\}/);
  if (session !== -1 && !name.slice(0, session).includes(':'))
    return 'a {{SessionName}} template needs a prefix with a colon before it, such as "team:{{SessionName}}"';
  const assumed = /assumed-role\/([^/]+)/i.exec(name);
  if (assumed && (self.kind !== 'role' || assumed[1]!.toLowerCase() !== self.name.toLowerCase())) return `it names the role ${assumed[1]}, not this principal`;
  if (lower.startsWith('arn:')) {
    const other = identityOfPrincipal(name.replace(/\{\{[A-Za-z]+\}\}/g, 'x1'));
    if (!other || other.key !== self.key) return 'it is shaped like the ARN of another principal';
  }
  // A template stands for every name it can render to (usernames.ts).
  const met = inUse.meets(name, self.key);
  if (met?.user.where !== undefined) return `an entry the syncer does not own (${met.user.where}) uses ${met.name}, which it can be the same as`;
  if (met) return `another mapping's username (${met.name}) can be the same`;
  return undefined;
}
