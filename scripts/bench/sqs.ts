/**
 * A few SQS calls over moto's JSON protocol with fetch (the repository has no
 * @aws-sdk/client-sqs and the bench installs nothing). moto does not verify signatures; the
 * Authorization header only tells it which service is meant.
 */
const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIABENCHADMIN000000/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0';

export interface Message {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
}

export function sqs(endpoint: string) {
  const call = async <T = Record<string, unknown>>(action: string, body: unknown): Promise<T> => {
    const res = await fetch(`${endpoint}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `AmazonSQS.${action}`, Authorization: AUTH },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
  return {
    createQueue: async (name: string, attributes: Record<string, string> = {}) =>
      (await call<{ QueueUrl: string }>('CreateQueue', { QueueName: name, Attributes: attributes })).QueueUrl,
    send: (url: string, body: string) => call('SendMessage', { QueueUrl: url, MessageBody: body }),
    receive: async (url: string, { max = 10, waitSeconds = 1, visibility }: { max?: number; waitSeconds?: number; visibility?: number } = {}) =>
      (
        await call<{ Messages?: Message[] }>('ReceiveMessage', {
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          ...(visibility ? { VisibilityTimeout: visibility } : {}),
          MessageSystemAttributeNames: ['All'],
          AttributeNames: ['All'],
        })
      ).Messages ?? [],
    deleteBatch: async (url: string, messages: Message[]) => {
      for (let i = 0; i < messages.length; i += 10) {
        await call('DeleteMessageBatch', {
          QueueUrl: url,
          Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
        });
      }
    },
    depth: async (url: string) => {
      const r = await call<{ Attributes?: Record<string, string> }>('GetQueueAttributes', {
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      });
      return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    },
  };
}

/** The EventBridge event CloudTrail produces for an IAM call, as the rule delivers it to SQS. */
export function cloudTrailEvent(eventName: string, requestParameters: Record<string, string>, i: number) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const id = `${process.pid}-${i}-${Math.random().toString(16).slice(2, 10)}`;
  return {
    version: '0',
    id: `bench-${id}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.iam',
    account: '123456789012',
    time: now,
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/bench-admin', accountId: '123456789012' },
      eventTime: now,
      eventSource: 'iam.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: '127.0.0.1',
      userAgent: 'aws-auth-syncer-bench',
      requestParameters,
      responseElements: null,
      eventID: `ct-${id}`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
    },
  };
}
