/**
 * Which Kubernetes usernames and groups the syncer will write. Tag values come from anyone who
 * may tag an IAM role or user, so they are checked as untrusted input: IAM tag values allow
 * Unicode separators (U+2028/U+2029 are line breaks to the authenticator's Go YAML parser), and
 * a username or group in a reserved namespace would impersonate the cluster's own identities.
 */

const GROUP_RE = /^[\p{L}\p{N}_.:/=+\-@]+$/u;
const USERNAME_RE = /^[\p{L}\p{N}_.:/=+\-@{}]+$/u;
const MAX_NAME = 253;

/** Prefixes reserved for Kubernetes and EKS identities. */
export const RESERVED_PREFIXES = ['system:', 'eks:'];
/** Prefixes EKS access entries reserve for usernames; refused in usernames that come from tags. */
export const RESERVED_TAG_USERNAME_PREFIXES = ['system:', 'eks:', 'aws:', 'amazon:', 'iam:'];
/** Groups that make an entry a node mapping: never granted by the syncer. */
export const NODE_GROUPS = ['system:nodes', 'system:bootstrappers'];
/** The one reserved group the syncer may grant (cluster admin, as in most aws-auth files). */
export const ALLOWED_RESERVED_GROUPS = ['system:masters'];
/**
 * Groups a tag may grant only when `tags.allowedGroups` names them literally (no glob covers
 * them): cluster admin, and the syncer's own group (deploy/rbac.yaml lets it update aws-auth,
 * so whoever holds it can write themselves system:masters).
 */
export const PRIVILEGED_GROUPS = ['system:masters', 'aws-auth-syncer'];

/** Why a username is refused, or undefined when it is fine. */
export function usernameProblem(name: string): string | undefined {
  if (name === '') return 'username is empty';
  if (name.length > MAX_NAME) return `username is longer than ${MAX_NAME} characters`;
  if (!USERNAME_RE.test(name)) return `username ${JSON.stringify(name)} has characters outside letters, digits and _.:/=+-@{}`;
  const lower = name.toLowerCase();
  const reserved = RESERVED_PREFIXES.find((p) => lower.startsWith(p));
  if (reserved) return `username ${JSON.stringify(name)} claims the reserved "${reserved}" namespace`;
  return undefined;
}

/** Why a Kubernetes group is refused, or undefined when it is fine. */
export function groupProblem(group: string): string | undefined {
  if (group === '') return 'group is empty';
  if (group.length > MAX_NAME) return `group is longer than ${MAX_NAME} characters`;
  if (!GROUP_RE.test(group)) return `group ${JSON.stringify(group)} has characters outside letters, digits and _.:/=+-@`;
  if (NODE_GROUPS.includes(group)) return `group ${group} is for nodes; node mappings are never managed by the syncer`;
  const lower = group.toLowerCase();
  if (RESERVED_PREFIXES.some((p) => lower.startsWith(p)) && !ALLOWED_RESERVED_GROUPS.includes(group)) {
    return `group ${JSON.stringify(group)} is in a reserved namespace`;
  }
  return undefined;
}

/** Split a groups tag value: groups are separated by any whitespace (including U+2028/2029). */
export function splitGroups(value: string): string[] {
  return value.split(/[\s\u0085]+/u).filter((g) => g !== '');
}

/** Sorted, de-duplicated copy. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}
