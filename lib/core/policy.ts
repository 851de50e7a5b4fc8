/**
 * The part of the configuration the pure core needs. `lib/config.ts` validates and builds it.
 */

/** An EKS access policy for the access-entries target, by name, cluster-wide or in namespaces. */
export interface AccessPolicyConfig {
  /** Access policy name, such as `AmazonEKSViewPolicy`. */
  policy: string;
  scope: 'cluster' | 'namespace';
  /** For `scope: namespace`: the namespaces (EKS allows a trailing `*`). */
  namespaces?: string[];
}

export interface GroupMapping {
  /** IAM group name (IAM compares group names case-insensitively). */
  iamGroup: string;
  kubernetesGroups: string[];
  /** Access-entries target only: EKS access policies for every member. */
  accessPolicies?: AccessPolicyConfig[];
}

/** Roles mapped by config (trusted, reviewed input): by SSO permission set or by role-name glob. */
export interface RoleMapping {
  /** IAM Identity Center permission set: matches `AWSReservedSSO_<name>_<hex>` under
   * `/aws-reserved/sso.amazonaws.com/`. */
  ssoPermissionSet?: string;
  /** Glob (`*`, `?`) on the role name, any path. */
  roleName?: string;
  kubernetesGroups: string[];
  /** Username template; defaults to `usernames.role`. */
  username?: string;
  /** Access-entries target only: EKS access policies for the matching roles. */
  accessPolicies?: AccessPolicyConfig[];
}

export interface SyncPolicy {
  /** EKS cluster name; also selects the tag keys `<tagPrefix>/<cluster>/…`. */
  cluster: string;
  /** The cluster's EKS ARN, when known (binds ownership records to this cluster). */
  clusterArn?: string;
  /** The cluster's partition: callers from another partition never get in. */
  partition: string;
  groupMappings: GroupMapping[];
  roleMappings: RoleMapping[];
  /** Tag key prefix, `aws-auth-syncer` unless configured. */
  tagPrefix: string;
  tags: {
    /** Globs of the Kubernetes groups a tag may grant. `system:masters` only when listed as such. */
    allowedGroups: string[];
  };
  /** Username template for roles; see `renderUsername`. */
  roleUsername: string;
  /** Username template for users. */
  userUsername: string;
  /** Take over an unmanaged entry whose identity the syncer wants to manage, instead of reporting
   * a conflict. Node entries are never adopted; admin and self entries only with force. */
  adoptUnmanaged: boolean;
  guards: {
    /** Most identities one run may take access from. */
    maxRemovals: number;
  };
}

/** Role sessions show up as the assumed-role ARN with the session name, as EKS access
 * entries do by default: every request in the audit log names the role and the session. */
export const DEFAULT_ROLE_USERNAME = 'arn:{partition}:sts::{accountId}:assumed-role/{roleName}/{{SessionName}}';
export const DEFAULT_USER_USERNAME = '{userName}';
export const DEFAULT_TAG_PREFIX = 'aws-auth-syncer';
export const DEFAULT_MAX_REMOVALS = 10;
export const DEFAULT_ALLOWED_TAG_GROUPS = ['*'];

/** Placeholders the syncer fills in; `{{…}}` ones are left for the authenticator. */
export const USERNAME_PLACEHOLDERS = ['partition', 'accountId', 'roleName', 'userName', 'path'] as const;
export type UsernameVars = Partial<Record<(typeof USERNAME_PLACEHOLDERS)[number], string>>;

/** Templates the authenticator itself expands at login time. */
export const AUTHENTICATOR_TEMPLATES = ['{{AccountID}}', '{{SessionName}}', '{{SessionNameRaw}}', '{{EC2PrivateDNSName}}', '{{AccessKeyID}}'];

/**
 * Fill `{name}` placeholders; `{{…}}` authenticator templates pass through untouched.
 * Throws on an unknown placeholder (config validation calls this once with sample values).
 */
export function renderUsername(template: string, vars: UsernameVars): string {
  return compileUsername(template)(vars);
}

/**
 * A template as a function of its variables (parse once, fill many times: one template serves
 * every principal of a run). Throws on an unknown authenticator template; placeholders are
 * checked when filled.
 */
export function compileUsername(template: string): (vars: UsernameVars) => string {
  const parts = template.split(/(\{\{[A-Za-z0-9]+\}\})/).map((part) => {
    if (part.startsWith('{{')) {
      if (!AUTHENTICATOR_TEMPLATES.includes(part)) throw new Error(`unknown authenticator template ${part}`);
      return part;
    }
    return part.split(/(\{[A-Za-z]+\})/);
  });
  return (vars) =>
    parts
      .map((part) =>
        typeof part === 'string'
          ? part
          : part
              .map((p, i) => {
                if (i % 2 === 0) return p;
                const name = p.slice(1, -1);
                if (!(USERNAME_PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`unknown placeholder {${name}}`);
                const value = vars[name as keyof UsernameVars];
                if (value === undefined) throw new Error(`placeholder {${name}} is not available here`);
                return value;
              })
              .join(''),
      )
      .join('');
}

/** A `*`/`?` glob as an anchored regular expression. */
export function globToRegExp(glob: string, flags = ''): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}
