/**
 * The entries of an aws-auth ConfigMap as plain data, read with the syncer's own strict reader
 * (for assertions in tests). Not a test file.
 */
import { viewAwsAuth } from '../../lib/core/awsauth.js';
import type { ConfigMapObject, MapKey } from '../../lib/core/types.js';

export interface PlainEntry {
  key: MapKey;
  arn: string;
  username: string;
  groups: string[];
}

/** Every mapRoles/mapUsers entry (in order), or only those of one key. Throws if a key is unreadable. */
export function entriesOf(cm: ConfigMapObject | null, only?: MapKey): PlainEntry[] {
  const view = viewAwsAuth(cm, 'aws');
  const out: PlainEntry[] = [];
  for (const k of [view.mapRoles, view.mapUsers]) {
    if (only && k.key !== only) continue;
    if (k.state === 'unsure' || k.state === 'broken') throw new Error(`${k.key} is ${k.state}: ${k.reason}`);
    for (const e of k.entries) out.push({ key: e.key, arn: e.arn, username: e.username, groups: e.groups });
  }
  return out;
}
