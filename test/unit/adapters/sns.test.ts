/** The Notifier port over SNS (SDK mock); the delivery itself runs on moto in test/integration/config-parameter.test.ts. */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsNotifier, topicRegion } from '../../../lib/adapters/sns.js';

const snsMock = mockClient(SNSClient);
const client = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const topic = 'arn:aws:sns:us-east-1:111122223333:aws-auth-syncer-prod-AlarmTopic-ABC';

beforeEach(() => {
  snsMock.reset();
});

describe('SnsNotifier', () => {
  test('publishes the notice to the topic: subject and body as they are', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new SnsNotifier(client, topic).publish({ subject: 'aws-auth-syncer: aws-auth replaced on prod (+1 -0 ~0)', body: '{"cluster":"prod"}' });
    expect(snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: topic, Subject: 'aws-auth-syncer: aws-auth replaced on prod (+1 -0 ~0)', Message: '{"cluster":"prod"}' },
    ]);
  });

  test('a failed publish is thrown to the caller (which logs and counts it)', async () => {
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AuthorizationErrorException' }));
    await expect(new SnsNotifier(client, topic).publish({ subject: 's', body: 'b' })).rejects.toThrow('not authorized');
  });

  test("the topic region comes from its ARN (the stack's region, not the cluster's)", () => {
    expect(topicRegion('arn:aws:sns:eu-central-1:111122223333:t')).toBe('eu-central-1');
    expect(() => topicRegion('nonsense')).toThrow('not an SNS topic ARN: nonsense');
  });
});
