/** Seeding moto's IAM and S3 for the integration tests and the demo. */
import { AddUserToGroupCommand, CreateGroupCommand, CreateRoleCommand, CreateUserCommand, type IAMClient, type Tag } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';

export const ACCOUNT = '123456789012'; // moto's default account
export const TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
});

/** Run `fn` over items with bounded concurrency. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export async function createGroup(iam: IAMClient, name: string): Promise<void> {
  await iam.send(new CreateGroupCommand({ GroupName: name }));
}

export async function createUser(
  iam: IAMClient,
  name: string,
  opts: { path?: string; groups?: string[]; tags?: Record<string, string> } = {},
): Promise<string> {
  const tags: Tag[] = Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const r = await iam.send(new CreateUserCommand({ UserName: name, Path: opts.path, Tags: tags.length ? tags : undefined }));
  for (const g of opts.groups ?? []) await iam.send(new AddUserToGroupCommand({ GroupName: g, UserName: name }));
  return r.User!.Arn!;
}

export async function createRole(iam: IAMClient, name: string, opts: { path?: string; tags?: Record<string, string> } = {}): Promise<string> {
  const tags: Tag[] = Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const r = await iam.send(
    new CreateRoleCommand({ RoleName: name, Path: opts.path, AssumeRolePolicyDocument: TRUST_POLICY, Tags: tags.length ? tags : undefined }),
  );
  return r.Role!.Arn!;
}

export async function createVersionedBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}
