/**
 * The Notifier port over SNS: one Publish per notice to the stack's topic (its e-mail and other
 * subscribers get the subject and the body as they are).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notice, Notifier } from '../app/ports.js';

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: Pick<SNSClient, 'send'>,
    private readonly topicArn: string,
  ) {}

  async publish(notice: Notice): Promise<void> {
    await this.sns.send(new PublishCommand({ TopicArn: this.topicArn, Subject: notice.subject, Message: notice.body }));
  }
}

/** The region an SNS topic lives in (its ARN's fourth field): the stack's, not the cluster's. */
export function topicRegion(topicArn: string): string {
  const region = topicArn.split(':')[3];
  if (!region) throw new Error(`not an SNS topic ARN: ${topicArn}`);
  return region;
}
