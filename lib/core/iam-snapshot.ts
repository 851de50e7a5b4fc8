/**
 * Turn GetAccountAuthorizationDetails pages (the SDK's response objects, or the JSON that
 * `aws iam get-account-authorization-details` prints — same field names) into an IamSnapshot.
 * A malformed principal is an error, not a skipped entry: a partial picture of IAM must never
 * read as "these principals were deleted".
 */
import { isPlainObject } from './objects.js';
import type { IamGroup, IamRole, IamSnapshot, IamUser } from './types.js';

export interface AuthorizationDetailsPage {
  UserDetailList?: unknown[];
  GroupDetailList?: unknown[];
  RoleDetailList?: unknown[];
  [other: string]: unknown;
}

export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

function str(obj: Record<string, unknown>, key: string, where: string, optional = false): string {
  const v = obj[key];
  if (typeof v === 'string') return v;
  if (optional && (v === undefined || v === null)) return '';
  throw new SnapshotFormatError(`${where}.${key} is ${v === undefined ? 'missing' : 'not a string'}`);
}

function tags(obj: Record<string, unknown>, where: string): Record<string, string> {
  const list = obj.Tags;
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw new SnapshotFormatError(`${where}.Tags is not a list`);
  const out: Record<string, string> = {};
  list.forEach((t, i) => {
    if (!isPlainObject(t)) throw new SnapshotFormatError(`${where}.Tags[${i}] is not an object`);
    out[str(t, 'Key', `${where}.Tags[${i}]`)] = str(t, 'Value', `${where}.Tags[${i}]`, true);
  });
  return out;
}

function list(page: AuthorizationDetailsPage, key: string, p: number): Record<string, unknown>[] {
  const v = page[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SnapshotFormatError(`page ${p}: ${key} is not a list`);
  return v.map((item, i) => {
    if (!isPlainObject(item)) throw new SnapshotFormatError(`page ${p}: ${key}[${i}] is not an object`);
    return item;
  });
}

/** CreateDate as IAM gives it: a Date (SDK), an ISO 8601 string (aws CLI JSON) or epoch ms. */
function createDate(obj: Record<string, unknown>, where: string): number | undefined {
  const v = obj.CreateDate;
  if (v === undefined || v === null) return undefined;
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(ms)) throw new SnapshotFormatError(`${where}.CreateDate is not a date`);
  return ms;
}

/** The unique id (RoleId / UserId), when present. */
function uniqueId(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new SnapshotFormatError(`${where}.${key} is not a string`);
  return v;
}

/** Optional fields, left out when absent (so that snapshots without them compare as before). */
function extra(id: string | undefined, createdAt: number | undefined): { id?: string; createdAt?: number } {
  return { ...(id !== undefined ? { id } : {}), ...(createdAt !== undefined ? { createdAt } : {}) };
}

const LISTS = ['UserDetailList', 'RoleDetailList', 'GroupDetailList'] as const;

/**
 * Combine pages into one snapshot. Every page must carry at least one of the three detail
 * lists (IAM's pages always do, empty or not): a document without them — `aws iam list-roles`
 * output (`{"Roles": [...]}`), `{}` — is something else, and reading it as an account with no
 * principals would plan to remove every owned entry.
 */
export function snapshotFromAuthorizationDetails(pages: AuthorizationDetailsPage[]): IamSnapshot {
  const users: IamUser[] = [];
  const roles: IamRole[] = [];
  const groups: IamGroup[] = [];
  pages.forEach((page, p) => {
    if (!isPlainObject(page)) throw new SnapshotFormatError(`page ${p} is not an object`);
    if (!LISTS.some((k) => k in page)) {
      const keys = Object.keys(page);
      throw new SnapshotFormatError(
        `page ${p} has none of ${LISTS.join(', ')} (${keys.length === 0 ? 'it is an empty object' : `its fields: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`})`,
      );
    }
    list(page, 'UserDetailList', p).forEach((u, i) => {
      const where = `UserDetailList[${i}]`;
      const groupList = u.GroupList ?? [];
      if (!Array.isArray(groupList) || !groupList.every((g) => typeof g === 'string')) {
        throw new SnapshotFormatError(`${where}.GroupList is not a list of group names`);
      }
      users.push({
        arn: str(u, 'Arn', where),
        userName: str(u, 'UserName', where),
        path: str(u, 'Path', where, true) || '/',
        groups: groupList as string[],
        tags: tags(u, where),
        ...extra(uniqueId(u, 'UserId', where), createDate(u, where)),
      });
    });
    list(page, 'RoleDetailList', p).forEach((r, i) => {
      const where = `RoleDetailList[${i}]`;
      roles.push({
        arn: str(r, 'Arn', where),
        roleName: str(r, 'RoleName', where),
        path: str(r, 'Path', where, true) || '/',
        tags: tags(r, where),
        ...extra(uniqueId(r, 'RoleId', where), createDate(r, where)),
      });
    });
    list(page, 'GroupDetailList', p).forEach((g, i) => {
      const where = `GroupDetailList[${i}]`;
      groups.push({ arn: str(g, 'Arn', where), groupName: str(g, 'GroupName', where), path: str(g, 'Path', where, true) || '/' });
    });
  });
  return { users, roles, groups };
}
