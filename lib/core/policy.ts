/**
 * The part of the configuration the pure core needs. `lib/config.ts` validates and builds it.
 */

export interface GroupMapping {
  /** IAM group name (IAM compares group names case-insensitively). */
  iamGroup: string;
  kubernetesGroups: string[];
}

export interface SyncPolicy {
  /** EKS cluster name; also selects the tag keys `<tagPrefix>/<cluster>/…`. */
  cluster: string;
  groupMappings: GroupMapping[];
  /** Tag key prefix, `aws-auth-syncer` unless configured. */
  tagPrefix: string;
  /** Username template for roles; see `renderUsername`. */
  roleUsername: string;
  /** Username template for users. */
  userUsername: string;
  /** Take over an unmanaged entry whose ARN the syncer wants to manage, instead of reporting
   * a conflict. Node entries are never adopted. */
  adoptUnmanaged: boolean;
  guards: {
    /** Most owned entries one run may remove. */
    maxRemovals: number;
  };
}

/** Role sessions show up as the assumed-role ARN with the session name, as EKS access
 * entries do by default: every request in the audit log names the role and the session. */
export const DEFAULT_ROLE_USERNAME = 'arn:{partition}:sts::{accountId}:assumed-role/{roleName}/{{SessionName}}';
export const DEFAULT_USER_USERNAME = '{userName}';
export const DEFAULT_TAG_PREFIX = 'aws-auth-syncer';
export const DEFAULT_MAX_REMOVALS = 10;

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
  return template
    .split(/(\{\{[A-Za-z0-9]+\}\})/)
    .map((part) => {
      if (part.startsWith('{{')) {
        if (!AUTHENTICATOR_TEMPLATES.includes(part)) throw new Error(`unknown authenticator template ${part}`);
        return part;
      }
      return part.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
        const value = vars[name as keyof UsernameVars];
        if (!(USERNAME_PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`unknown placeholder {${name}}`);
        if (value === undefined) throw new Error(`placeholder {${name}} is not available here`);
        return value;
      });
    })
    .join('');
}
