import { describe, expect, test } from '@jest/globals';
import { classifySyncEvent, IAM_EVENT_NAMES } from '../../../lib/app/events.js';
import { InputError } from '../../../lib/errors.js';

const cloudtrail = (eventName: string, extra: Record<string, unknown> = {}) => ({
  version: '0',
  id: `eb-${eventName}`,
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.iam',
  region: 'us-east-1',
  detail: { eventSource: 'iam.amazonaws.com', eventName, eventID: `ct-${eventName}`, ...extra },
});

describe('classifySyncEvent', () => {
  test.each(IAM_EVENT_NAMES)('%s triggers a sync with both event ids', (name) => {
    expect(classifySyncEvent(cloudtrail(name))).toEqual({ kind: 'iam', eventIds: [`eb-${name}`, `ct-${name}`], eventNames: [name], ignored: 0 });
  });

  test('failed calls (errorCode) and unrelated calls are ignored', () => {
    expect(classifySyncEvent(cloudtrail('AddUserToGroup', { errorCode: 'AccessDenied' }))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('AccessDenied') });
    expect(classifySyncEvent(cloudtrail('CreatePolicy'))).toMatchObject({ kind: 'ignored' });
    expect(classifySyncEvent({ ...cloudtrail('TagRole'), source: 'aws.s3' })).toMatchObject({ kind: 'ignored' });
  });

  test('the schedule is a sync', () => {
    expect(classifySyncEvent({ id: 's1', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} })).toEqual({ kind: 'schedule', eventIds: ['s1'] });
  });

  test('an SQS batch of many events is one sync carrying every id', () => {
    const records = [cloudtrail('AddUserToGroup'), cloudtrail('RemoveUserFromGroup'), cloudtrail('CreatePolicy')].map((e, i) => ({ messageId: `m${i}`, body: JSON.stringify(e) }));
    const t = classifySyncEvent({ Records: [...records, { messageId: 'bad', body: 'not json' }] });
    expect(t).toMatchObject({ kind: 'iam', eventNames: ['AddUserToGroup', 'RemoveUserFromGroup'], ignored: 2 });
    expect(t.kind === 'iam' && t.eventIds).toHaveLength(6);
  });

  test('manual invokes: {}, {"dryRun": true}, {"force": true}; anything else is a clear error', () => {
    expect(classifySyncEvent({})).toEqual({ kind: 'manual', dryRun: false, force: false });
    expect(classifySyncEvent({ dryRun: true })).toEqual({ kind: 'manual', dryRun: true, force: false });
    expect(classifySyncEvent({ force: true })).toEqual({ kind: 'manual', dryRun: false, force: true });
    expect(() => classifySyncEvent({ dryrun: true })).toThrow(/unknown field\(s\) in the invoke payload: dryrun/);
    expect(() => classifySyncEvent({ dryRun: 'yes' })).toThrow(InputError);
    expect(() => classifySyncEvent('sync')).toThrow(/JSON object/);
  });
});
