/**
 * Identities as values: who a caller is to the authenticator, and whom an aws-auth ARN can match.
 *
 * aws-iam-authenticator turns the caller's STS ARN into a *canonical ARN* (pkg/arn Canonicalize):
 * an assumed-role session becomes `arn:<p>:iam::<acct>:role/<name>` — without the role's path,
 * since STS session ARNs never carry one — while users keep theirs. It then lower-cases it and
 * looks it up in aws-auth (mapRoles first, then mapUsers; either key can hold either kind).
 * So the one identity key is the lower-cased canonical ARN, and an aws-auth ARN either equals
 * one (a live entry), can never equal one (a dead entry: a role ARN with a path, an STS ARN,
 * another partition, a stray space or NBSP), or compares differently across authenticator
 * versions (unsure: the non-ASCII letters that fold to ASCII, see `readEntryArn`).
 */

export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'] as const;

/** The partition a region belongs to (the cluster's; callers from another never get in). */
export function partitionOfRegion(region: string | undefined): string {
  if (!region) return 'aws';
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

export type PrincipalKind = 'role' | 'user' | 'root' | 'federated-user';

export interface Identity {
  /** The lower-cased canonical ARN: the authenticator's lookup key. */
  readonly key: string;
  readonly kind: PrincipalKind;
  readonly partition: string;
  readonly accountId: string;
  /** The ARN as aws-auth must hold it, in its original case (roles without their path). */
  readonly arn: string;
  /** Role or user name (for roles: without path). */
  readonly name: string;
  /** IAM path, `/` when none (for roles: the path the canonical ARN drops). */
  readonly path: string;
}

const NAME = "[\\w+=,.@-]{1,64}";
const PATH_SEGMENT = '[\\x21-\\x2e\\x30-\\x7e]+';
const PRINCIPAL_RE = new RegExp(
  `^arn:([a-z-]+):(iam|sts)::(\\d{12}):(?:(role)((?:/${PATH_SEGMENT})*)/(${NAME})|(user)((?:/${PATH_SEGMENT})*)/(${NAME})|(root)|(assumed-role)/(${NAME})/([\\w+=,.@-]{2,64})|(federated-user)/([\\w+=,.@-]{2,32}))$`,
);

function build(kind: PrincipalKind, partition: string, accountId: string, name: string, path: string, arn: string): Identity {
  return { key: arn.toLowerCase(), kind, partition, accountId, arn, name, path };
}

/**
 * The identity of an IAM principal ARN as IAM, STS or a person writes it: a role (with or without
 * path), an STS assumed-role session, a user, the root user or a federated user. Undefined when it
 * is not one.
 */
export function identityOfPrincipal(arn: string): Identity | undefined {
  const m = PRINCIPAL_RE.exec(arn);
  if (!m) return undefined;
  const [, partition, service, accountId] = m as unknown as [string, string, string, string];
  if (!(PARTITIONS as readonly string[]).includes(partition)) return undefined;
  const base = `arn:${partition}:${service}::${accountId}:`;
  if (service === 'iam') {
    if (m[4]) return build('role', partition, accountId, m[6]!, `${m[5] || ''}/`, `arn:${partition}:iam::${accountId}:role/${m[6]}`);
    if (m[7]) return build('user', partition, accountId, m[9]!, `${m[8] || ''}/`, arn);
    if (m[10]) return build('root', partition, accountId, 'root', '/', arn);
    return undefined;
  }
  if (m[11]) return build('role', partition, accountId, m[12]!, '/', `arn:${partition}:iam::${accountId}:role/${m[12]}`);
  if (m[14]) return build('federated-user', partition, accountId, m[15]!, '/', `${base}federated-user/${m[15]}`);
  return undefined;
}

/** What an ARN written in aws-auth can match. */
export type EntryTarget =
  | { kind: 'identity'; identity: Identity }
  | { kind: 'dead'; reason: string }
  | { kind: 'unsure'; reason: string };

/**
 * Non-ASCII letters that one authenticator version folds to ASCII and another does not:
 * v0.6.13 lower-cases (`strings.ToLower`: İ→i, K→k); v0.7.x compares with `strings.EqualFold`
 * (K→k, ſ→s). Any other non-ASCII character can never equal an ASCII canonical ARN.
 */
const VERSION_DEPENDENT = /[\u0130\u212a\u017f]/;

/**
 * Whom the ARN text of an aws-auth entry can match, for a cluster in `partition`. No trimming, no
 * repair: the authenticator compares the text as it is.
 */
export function readEntryArn(text: string, partition: string): EntryTarget {
  if (text === '') return { kind: 'dead', reason: 'it has no ARN' };
  if (VERSION_DEPENDENT.test(text)) {
    return { kind: 'unsure', reason: `its ARN ${JSON.stringify(text)} holds a letter (İ, K or ſ) that authenticator versions fold to ASCII differently` };
  }
  // eslint-disable-next-line no-control-regex
  const nonAscii = /[^\x00-\x7f]/.exec(text);
  if (nonAscii) {
    const code = nonAscii[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { kind: 'dead', reason: `its ARN holds U+${code}, which no IAM ARN has: it never matches` };
  }
  const id = identityOfPrincipal(text);
  if (id && id.key === text.toLowerCase()) {
    if (id.partition !== partition) return { kind: 'dead', reason: `its ARN is in partition ${id.partition}, not the cluster's (${partition}): it never matches` };
    return { kind: 'identity', identity: id };
  }
  if (id && /:sts::\d{12}:assumed-role\//i.test(text)) {
    return { kind: 'dead', reason: `an STS assumed-role ARN never matches: the authenticator compares the role ARN (${id.arn})` };
  }
  if (id && id.kind === 'role') {
    return { kind: 'dead', reason: `a role ARN with a path never matches: the authenticator compares it without the path (${id.arn})` };
  }
  // Upper-case letters in the partition, service or resource type still compare equal.
  const lower = identityOfPrincipal(text.toLowerCase());
  if (lower && lower.key === text.toLowerCase() && !/:sts::\d{12}:assumed-role\//.test(lower.key)) {
    if (lower.kind === 'role' && lower.path !== '/') {
      return { kind: 'dead', reason: `a role ARN with a path never matches: the authenticator compares it without the path (${lower.arn})` };
    }
    if (lower.partition !== partition) return { kind: 'dead', reason: `its ARN is in partition ${lower.partition}, not the cluster's (${partition}): it never matches` };
    return { kind: 'identity', identity: { ...lower, arn: text } };
  }
  return { kind: 'dead', reason: `${JSON.stringify(text)} is not the ARN of an IAM role, user, root user or federated user: it never matches` };
}

/** An identity's canonical key for a principal ARN (e.g. the syncer's own caller ARN). */
export function identityKeyOf(arn: string): string | undefined {
  return identityOfPrincipal(arn)?.key;
}
