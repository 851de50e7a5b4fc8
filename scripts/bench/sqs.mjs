/**
 * A few SQS calls over moto's JSON protocol with fetch (the repository has no @aws-sdk/client-sqs
 * and the bench installs nothing). moto does not verify signatures; the Authorization header
 * only tells it which service is meant.
 */
const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIABENCHADMIN000000/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0';

export function sqs(endpoint) {
  const call = async (action, body) => {
    const res = await fetch(`${endpoint}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `AmazonSQS.${action}`, Authorization: AUTH },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`SQS ${action}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  };
  return {
    createQueue: (name, attributes = {}) => call('CreateQueue', { QueueName: name, Attributes: attributes }).then((r) => r.QueueUrl),
    send: (url, body) => call('SendMessage', { QueueUrl: url, MessageBody: body }),
    receive: (url, { max = 10, waitSeconds = 1, visibility } = {}) =>
      call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds, ...(visibility ? { VisibilityTimeout: visibility } : {}), MessageSystemAttributeNames: ['All'], AttributeNames: ['All'] }).then((r) => r.Messages ?? []),
    deleteBatch: async (url, messages) => {
      for (let i = 0; i < messages.length; i += 10) {
        await call('DeleteMessageBatch', { QueueUrl: url, Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })) });
      }
    },
    depth: (url) =>
      call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }).then(
        (r) => Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      ),
  };
}

/** The EventBridge event CloudTrail produces for an IAM call, as the rule delivers it to SQS. */
export function cloudTrailEvent(eventName, requestParameters, i) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    version: '0',
    id: `bench-${process.pid}-${i}-${Math.random().toString(16).slice(2, 10)}`,
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
      eventID: `ct-${process.pid}-${i}-${Math.random().toString(16).slice(2, 10)}`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
    },
  };
}
