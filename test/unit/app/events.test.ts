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
    expect(classifySyncEvent(cloudtrail('AddUserToGroup', { errorCode: 'AccessDenied' }))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('AccessDenied'),
    });
    expect(classifySyncEvent(cloudtrail('CreatePolicy'))).toMatchObject({ kind: 'ignored' });
    expect(classifySyncEvent({ ...cloudtrail('TagRole'), source: 'aws.s3' })).toMatchObject({ kind: 'ignored' });
  });

  test('IAM Identity Center provisioning a permission set (CreateRole by the SSO service) triggers a sync', () => {
    // As CloudTrail records it in the member account (us-east-1) and EventBridge delivers it.
    const event = {
      version: '0',
      id: '6f0e3c1a-2b7d-4e0f-9a51-0c2d7e1b4a10',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.iam',
      account: '111122223333',
      time: '2026-11-28T18:40:12Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        eventVersion: '1.09',
        userIdentity: {
          type: 'AssumedRole',
          principalId: 'AROAEXAMPLESSOSERVICE:SSO',
          arn: 'arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForSSO/SSO',
          accountId: '111122223333',
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              principalId: 'AROAEXAMPLESSOSERVICE',
              arn: 'arn:aws:iam::111122223333:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO',
              accountId: '111122223333',
              userName: 'AWSServiceRoleForSSO',
            },
            attributes: { creationDate: '2026-11-28T18:40:10Z', mfaAuthenticated: 'false' },
          },
          invokedBy: 'sso.amazonaws.com',
        },
        eventTime: '2026-11-28T18:40:12Z',
        eventSource: 'iam.amazonaws.com',
        eventName: 'CreateRole',
        awsRegion: 'us-east-1',
        sourceIPAddress: 'sso.amazonaws.com',
        userAgent: 'sso.amazonaws.com',
        requestParameters: {
          path: '/aws-reserved/sso.amazonaws.com/',
          roleName: 'AWSReservedSSO_AdminAccess_0123456789abcdef',
          assumeRolePolicyDocument:
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}]}',
          maxSessionDuration: 43200,
        },
        responseElements: {
          role: {
            path: '/aws-reserved/sso.amazonaws.com/',
            roleName: 'AWSReservedSSO_AdminAccess_0123456789abcdef',
            roleId: 'AROAEXAMPLENEWROLE00',
            arn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdminAccess_0123456789abcdef',
            createDate: 'Nov 28, 2026, 6:40:12 PM',
          },
        },
        requestID: 'c1e0d7a2-8f3b-4b8e-9b0a-3c6f1e2d4a5b',
        eventID: 'e2b1c0d9-7a6f-4e3d-8c2b-1a0f9e8d7c6b',
        readOnly: false,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: '111122223333',
        eventCategory: 'Management',
      },
    };
    expect(classifySyncEvent(event)).toEqual({
      kind: 'iam',
      eventIds: ['6f0e3c1a-2b7d-4e0f-9a51-0c2d7e1b4a10', 'e2b1c0d9-7a6f-4e3d-8c2b-1a0f9e8d7c6b'],
      eventNames: ['CreateRole'],
      ignored: 0,
    });
    // Through the queue, as the rule delivers it.
    expect(classifySyncEvent({ Records: [{ messageId: 'm1', body: JSON.stringify(event) }] })).toMatchObject({ kind: 'iam', eventNames: ['CreateRole'] });
  });

  test('the schedule is a sync', () => {
    expect(classifySyncEvent({ id: 's1', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} })).toEqual({ kind: 'schedule', eventIds: ['s1'] });
  });

  test('an SQS batch of many events is one sync carrying every id', () => {
    const records = [cloudtrail('AddUserToGroup'), cloudtrail('RemoveUserFromGroup'), cloudtrail('CreatePolicy')].map((e, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify(e),
    }));
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
