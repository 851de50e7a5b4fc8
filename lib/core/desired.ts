/**
 * The mappings IAM asks for: members of mapped IAM groups, and roles and users tagged
 * `<tagPrefix>/<cluster>/groups`. Pure: a function of the IAM snapshot and the policy.
 */
import { canonicalArn, canonicalKey, parseArn } from './arn.js';
import { groupProblem, sortedUnique, splitGroups, usernameProblem } from './names.js';
import { renderUsername, type SyncPolicy } from './policy.js';
import type { IamSnapshot, Mapping, MapKey, Warning } from './types.js';

export interface DesiredMappings {
  /** Sorted by canonical key; one per principal. */
  mappings: Mapping[];
  warnings: Warning[];
}

/** Tag values for this cluster, looked up case-insensitively (IAM tag keys are unique
 * regardless of case). */
function clusterTags(tags: Record<string, string>, policy: SyncPolicy): { groups?: string; username?: string } {
  const base = `${policy.tagPrefix}/${policy.cluster}/`.toLowerCase();
  const out: { groups?: string; username?: string } = {};
  for (const [k, v] of Object.entries(tags)) {
    const lower = k.toLowerCase();
    if (lower === `${base}groups`) out.groups = v;
    else if (lower === `${base}username`) out.username = v;
  }
  return out;
}

interface Pending {
  key: MapKey;
  arn: string;
  username: string;
  groups: Set<string>;
  fromTagUsername: boolean;
}

/** Build the desired managed mappings. Bad tag values skip the entry or the group, with a warning. */
export function buildDesired(snapshot: IamSnapshot, policy: SyncPolicy): DesiredMappings {
  const warnings: Warning[] = [];
  const byKey = new Map<string, Pending>();

  const add = (key: MapKey, rawArn: string, username: string, groups: string[], fromTagUsername: boolean): void => {
    const arn = canonicalArn(key, rawArn);
    const ck = canonicalKey(key, rawArn);
    if (arn === undefined || ck === undefined) {
      warnings.push({ code: 'bad-arn', message: `skipped ${rawArn}: not an IAM ${key === 'mapRoles' ? 'role' : 'user'} ARN`, arn: rawArn });
      return;
    }
    const cleanGroups: string[] = [];
    for (const g of groups) {
      const problem = groupProblem(g);
      if (problem) warnings.push({ code: 'bad-group', message: `${arn}: dropped ${problem}`, arn });
      else cleanGroups.push(g);
    }
    const existing = byKey.get(ck);
    // Every group asked for was refused: mapping the principal with none would be a surprise.
    if (groups.length > 0 && cleanGroups.length === 0 && !existing) {
      warnings.push({ code: 'no-groups-left', message: `skipped ${arn}: none of its groups may be granted`, arn });
      return;
    }
    if (existing) {
      cleanGroups.forEach((g) => existing.groups.add(g));
      // An explicit username tag wins over a template default.
      if (fromTagUsername && !existing.fromTagUsername) {
        existing.username = username;
        existing.fromTagUsername = true;
      }
      return;
    }
    byKey.set(ck, { key, arn, username, groups: new Set(cleanGroups), fromTagUsername });
  };

  const mappedGroups = new Map<string, string[]>();
  for (const gm of policy.groupMappings) {
    const name = gm.iamGroup.toLowerCase();
    mappedGroups.set(name, [...(mappedGroups.get(name) ?? []), ...gm.kubernetesGroups]);
  }
  const knownGroups = new Set(snapshot.groups.map((g) => g.groupName.toLowerCase()));
  for (const gm of policy.groupMappings) {
    if (!knownGroups.has(gm.iamGroup.toLowerCase())) {
      warnings.push({ code: 'missing-group', message: `IAM group ${gm.iamGroup} (in groupMappings) does not exist` });
    }
  }

  const usernameFor = (template: string, vars: Record<string, string>, tagged: string | undefined, arn: string): string | undefined => {
    let name: string;
    try {
      // A tagged username goes through the same template check: `{{Bogus}}` or `{x}` never reach aws-auth.
      name = renderUsername(tagged ?? template, vars);
    } catch (err) {
      warnings.push({ code: 'bad-username', message: `skipped ${arn}: ${(err as Error).message}`, arn });
      return undefined;
    }
    const problem = usernameProblem(name);
    if (problem) {
      warnings.push({ code: 'bad-username', message: `skipped ${arn}: ${problem}`, arn });
      return undefined;
    }
    return name;
  };

  for (const user of snapshot.users) {
    const parsed = parseArn(user.arn);
    const tags = clusterTags(user.tags, policy);
    const groups: string[] = [];
    for (const g of user.groups) groups.push(...(mappedGroups.get(g.toLowerCase()) ?? []));
    const viaGroup = user.groups.some((g) => mappedGroups.has(g.toLowerCase()));
    if (!viaGroup && tags.groups === undefined) continue;
    if (tags.groups !== undefined) groups.push(...splitGroups(tags.groups));
    const vars = { partition: parsed?.partition ?? 'aws', accountId: parsed?.accountId ?? '', userName: user.userName, path: user.path };
    const username = usernameFor(policy.userUsername, vars, tags.username, user.arn);
    if (username === undefined) continue;
    add('mapUsers', user.arn, username, groups, tags.username !== undefined);
  }

  for (const role of snapshot.roles) {
    const tags = clusterTags(role.tags, policy);
    if (tags.groups === undefined) continue;
    const parsed = parseArn(role.arn);
    const vars = { partition: parsed?.partition ?? 'aws', accountId: parsed?.accountId ?? '', roleName: role.roleName, path: role.path };
    const username = usernameFor(policy.roleUsername, vars, tags.username, role.arn);
    if (username === undefined) continue;
    add('mapRoles', role.arn, username, splitGroups(tags.groups), tags.username !== undefined);
  }

  const mappings = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, p]) => ({ key: p.key, arn: p.arn, username: p.username, groups: sortedUnique(p.groups) }));
  return { mappings, warnings };
}
