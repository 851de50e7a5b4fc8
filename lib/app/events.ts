/**
 * What woke the sync function: IAM CloudTrail events (directly from EventBridge or batched
 * through SQS), the drift schedule, or a manual invoke. Pure: a function of the event.
 */
import { InputError } from '../errors.js';
import { isPlainObject } from '../core/objects.js';

/** IAM API calls that can change who maps to what. */
export const IAM_EVENT_NAMES = [
  'AddUserToGroup',
  'RemoveUserFromGroup',
  // CreateUser can carry tags (like CreateRole): a new tagged user is mapped at once.
  'CreateUser',
  'DeleteUser',
  'DeleteGroup',
  'UpdateUser',
  'UpdateGroup',
  // Also how IAM Identity Center provisions a permission set into an account: the SSO service
  // (its service-linked role AWSServiceRoleForSSO, invokedBy sso.amazonaws.com) calls IAM
  // CreateRole for AWSReservedSSO_<PermissionSet>_<hex> under /aws-reserved/sso.amazonaws.com/,
  // recorded as an ordinary IAM API call (source aws.iam); removing the assignment is DeleteRole.
  // Delete + create under the same ARN also gives a new role id, which access entries need
  // recreated (lib/core/access-entries.ts).
  'CreateRole',
  'DeleteRole',
  'TagRole',
  'UntagRole',
  'TagUser',
  'UntagUser',
] as const;

export type SyncTrigger =
  | { kind: 'iam'; eventIds: string[]; eventNames: string[]; ignored: number }
  | { kind: 'schedule'; eventIds: string[] }
  | { kind: 'manual'; dryRun: boolean; force: boolean; cluster?: string }
  | { kind: 'ignored'; reason: string; eventIds: string[] };

type One = { relevant: boolean; schedule: boolean; ids: string[]; name?: string; why?: string };

function classifyEventBridge(e: Record<string, unknown>): One {
  const id = typeof e.id === 'string' ? e.id : undefined;
  const ids = id ? [id] : [];
  if (e['detail-type'] === 'Scheduled Event') return { relevant: true, schedule: true, ids };
  const detail = isPlainObject(e.detail) ? e.detail : {};
  const name = typeof detail.eventName === 'string' ? detail.eventName : undefined;
  if (typeof detail.eventID === 'string') ids.push(detail.eventID);
  if (e.source !== 'aws.iam' || e['detail-type'] !== 'AWS API Call via CloudTrail') {
    return { relevant: false, schedule: false, ids, why: `not an IAM CloudTrail event (${String(e.source)} / ${String(e['detail-type'])})` };
  }
  if (detail.errorCode !== undefined) return { relevant: false, schedule: false, ids, name, why: `${name} failed (${String(detail.errorCode)})` };
  if (!name || !(IAM_EVENT_NAMES as readonly string[]).includes(name))
    return { relevant: false, schedule: false, ids, name, why: `${name} does not affect mappings` };
  return { relevant: true, schedule: false, ids, name };
}

/** Did a service (EventBridge, SQS, the schedule) send this, rather than a person? */
export function isAutomaticEvent(event: unknown): boolean {
  return isPlainObject(event) && (Array.isArray(event.Records) || 'detail-type' in event || 'source' in event);
}

/** Classify any event the sync function receives. Throws InputError on a malformed manual payload. */
export function classifySyncEvent(event: unknown): SyncTrigger {
  if (event === undefined || event === null || (isPlainObject(event) && Object.keys(event).length === 0)) {
    return { kind: 'manual', dryRun: false, force: false };
  }
  if (!isPlainObject(event)) throw new InputError('the invoke payload must be a JSON object such as {"dryRun": true}');

  let items: One[];
  if (Array.isArray(event.Records)) {
    items = event.Records.map((r, i) => {
      if (!isPlainObject(r) || typeof r.body !== 'string') return { relevant: false, schedule: false, ids: [], why: `record ${i} has no body` };
      try {
        const body: unknown = JSON.parse(r.body);
        return isPlainObject(body) ? classifyEventBridge(body) : { relevant: false, schedule: false, ids: [], why: `record ${i} is not an event` };
      } catch {
        return { relevant: false, schedule: false, ids: [], why: `record ${i} is not JSON` };
      }
    });
  } else if ('detail-type' in event || 'source' in event) {
    items = [classifyEventBridge(event)];
  } else {
    const unknown = Object.keys(event).filter((k) => k !== 'dryRun' && k !== 'force' && k !== 'cluster');
    if (unknown.length > 0) throw new InputError(`unknown field(s) in the invoke payload: ${unknown.join(', ')} (allowed: dryRun, force, cluster)`);
    for (const k of ['dryRun', 'force'] as const) {
      if (event[k] !== undefined && typeof event[k] !== 'boolean') throw new InputError(`${k} must be true or false`);
    }
    // `cluster`: one cluster of a configuration that lists several (the others are left alone).
    if (event.cluster !== undefined && (typeof event.cluster !== 'string' || event.cluster === ''))
      throw new InputError('cluster must be the name of a configured cluster');
    return {
      kind: 'manual',
      dryRun: event.dryRun === true,
      force: event.force === true,
      ...(typeof event.cluster === 'string' ? { cluster: event.cluster } : {}),
    };
  }

  const relevant = items.filter((i) => i.relevant);
  const eventIds = items.flatMap((i) => i.ids);
  if (relevant.length === 0)
    return {
      kind: 'ignored',
      reason:
        items
          .map((i) => i.why)
          .filter(Boolean)
          .join('; ') || 'no events',
      eventIds,
    };
  if (relevant.every((i) => i.schedule)) return { kind: 'schedule', eventIds };
  return {
    kind: 'iam',
    eventIds,
    eventNames: [...new Set(relevant.flatMap((i) => (i.name ? [i.name] : [])))],
    ignored: items.length - relevant.length,
  };
}
