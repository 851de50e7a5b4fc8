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

import { quoted } from './text.js';

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

const NAME_RE = /^[\w+=,.@-]{1,64}$/;
const SESSION_RE = /^[\w+=,.@-]{2,64}$/;
const FEDERATED_RE = /^[\w+=,.@-]{2,32}$/;
/** IAM paths, without their last `/`: none, or `/` and printable ASCII or DEL (IAM's documented
 * pattern `(\u002F)|(\u002F[\u0021-\u007F]+\u002F)`, which allows `/a//b/`). */
const PATH_RE = /^(?:\/[\x21-\x7f]+)?$/;
const ACCOUNT_RE = /^\d{12}$/;

function build(kind: PrincipalKind, partition: string, accountId: string, name: string, path: string, arn: string): Identity {
  return { key: arn.toLowerCase(), kind, partition, accountId, arn, name, path };
}

/**
 * The identity of an IAM principal ARN as IAM, STS or a person writes it: a role (with or without
 * path), an STS assumed-role session, a user, the root user or a federated user. Undefined when it
 * is not one. (Hand-parsed rather than one large regular expression: a 1 MiB aws-auth holds
 * thousands of ARNs.)
 */
export function identityOfPrincipal(arn: string): Identity | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[3] !== '') return undefined;
  const [, partition, service, , accountId] = parts as [string, string, string, string, string];
  if (!(PARTITIONS as readonly string[]).includes(partition) || !ACCOUNT_RE.test(accountId)) return undefined;
  // Paths may hold ":" (any printable ASCII but "/").
  const resource = parts.length === 6 ? parts[5]! : parts.slice(5).join(':');
  const slash = resource.indexOf('/');
  const type = slash === -1 ? resource : resource.slice(0, slash);
  if (service === 'iam') {
    if (type === 'root' && slash === -1) return build('root', partition, accountId, 'root', '/', arn);
    if ((type !== 'role' && type !== 'user') || slash === -1) return undefined;
    const last = resource.lastIndexOf('/');
    const name = resource.slice(last + 1);
    const path = resource.slice(slash, last);
    if (!NAME_RE.test(name) || !PATH_RE.test(path)) return undefined;
    const written = type === 'role' ? `arn:${partition}:iam::${accountId}:role/${name}` : arn;
    return build(type, partition, accountId, name, `${path}/`, written);
  }
  if (service !== 'sts' || slash === -1) return undefined;
  const rest = resource.slice(slash + 1).split('/');
  if (type === 'assumed-role' && rest.length === 2 && NAME_RE.test(rest[0]!) && SESSION_RE.test(rest[1]!)) {
    return build('role', partition, accountId, rest[0]!, '/', `arn:${partition}:iam::${accountId}:role/${rest[0]}`);
  }
  if (type === 'federated-user' && rest.length === 1 && FEDERATED_RE.test(rest[0]!)) return build('federated-user', partition, accountId, rest[0]!, '/', arn);
  return undefined;
}

/** What an ARN written in aws-auth can match. */
export type EntryTarget = { kind: 'identity'; identity: Identity } | { kind: 'dead'; reason: string } | { kind: 'unsure'; reason: string };

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
    return { kind: 'unsure', reason: `its ARN ${quoted(text)} holds a letter (İ, K or ſ) that authenticator versions fold to ASCII differently` };
  }
  // eslint-disable-next-line no-control-regex
  const nonAscii = /[^\x00-\x7f]/.exec(text);
  if (nonAscii) {
    const code = nonAscii[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { kind: 'dead', reason: `its ARN holds U+${code}, which no IAM ARN has: it never matches` };
  }
  // The authenticator lower-cases both sides, so parse the lower-cased text once.
  const lower = text.toLowerCase();
  const id = identityOfPrincipal(lower);
  if (!id) return { kind: 'dead', reason: `${quoted(text)} is not the ARN of an IAM role, user, root user or federated user: it never matches` };
  if (id.key !== lower) {
    if (lower.includes(':assumed-role/'))
      return { kind: 'dead', reason: `an STS assumed-role ARN never matches: the authenticator compares the role ARN (${id.arn})` };
    return { kind: 'dead', reason: `a role ARN with a path never matches: the authenticator compares it without the path (${id.arn})` };
  }
  if (id.partition !== partition)
    return { kind: 'dead', reason: `its ARN is in partition ${id.partition}, not the cluster's (${partition}): it never matches` };
  return { kind: 'identity', identity: { ...id, arn: text } };
}

/** An identity's canonical key for a principal ARN (e.g. the syncer's own caller ARN). */
export function identityKeyOf(arn: string): string | undefined {
  return identityOfPrincipal(arn)?.key;
}
