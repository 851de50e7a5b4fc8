/**
 * EksAccessEntryStore over aws-sdk-client-mock: pagination (ministack, the emulator the
 * integration tests use, returns at most maxResults entries and no nextToken, so pages are
 * covered here), reading, the call order, and the propagation retries after a create.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { EksAccessEntryStore } from '../../../lib/adapters/access-entries.js';
import { OWNED_TAG, type AccessEntryCall } from '../../../lib/core/access-entries.js';
import { ClusterAccessError } from '../../../lib/errors.js';

const eksMock = mockClient(EKSClient);
const eks = new EKSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
beforeEach(() => {
  eksMock.reset();
});

const arn = (i: number) => `arn:aws:iam::111122223333:user/u${String(i).padStart(3, '0')}`;
const awsError = (name: string) => Object.assign(new Error(`${name} from EKS`), { name, $metadata: {} });
const slept: number[] = [];
const store = (opts = {}) => new EksAccessEntryStore(eks, 'demo', { sleep: async (ms) => void slept.push(ms), ...opts });

describe('read', () => {
  test('follows nextToken across pages of 100, describes each entry and lists its policies (paginated too)', async () => {
    const all = Array.from({ length: 205 }, (_, i) => arn(i));
    eksMock
      .on(ListAccessEntriesCommand, { nextToken: undefined })
      .resolves({ accessEntries: all.slice(0, 100), nextToken: 't1' })
      .on(ListAccessEntriesCommand, { nextToken: 't1' })
      .resolves({ accessEntries: all.slice(100, 200), nextToken: 't2' })
      .on(ListAccessEntriesCommand, { nextToken: 't2' })
      .resolves({ accessEntries: all.slice(200) });
    eksMock.on(DescribeAccessEntryCommand).callsFake((input) => ({
      accessEntry: {
        clusterName: 'demo',
        principalArn: input.principalArn,
        kubernetesGroups: ['g'],
        username: 'u',
        type: input.principalArn === arn(7) ? 'EC2_LINUX' : 'STANDARD',
        tags: {},
        createdAt: new Date(1000),
      },
    }));
    eksMock
      .on(ListAssociatedAccessPoliciesCommand)
      .resolves({ associatedAccessPolicies: [] })
      .on(ListAssociatedAccessPoliciesCommand, { principalArn: arn(3), nextToken: undefined })
      .resolves({ associatedAccessPolicies: [{ policyArn: 'p1', accessScope: { type: 'cluster', namespaces: [] } }], nextToken: 'n' })
      .on(ListAssociatedAccessPoliciesCommand, { principalArn: arn(3), nextToken: 'n' })
      .resolves({ associatedAccessPolicies: [{ policyArn: 'p2', accessScope: { type: 'namespace', namespaces: ['b', 'a'] } }] });
    const s = store();
    const r = await s.read();
    expect(r.entries).toHaveLength(205);
    expect(r.entries[0]).toEqual({ principalArn: arn(0), kubernetesGroups: ['g'], username: 'u', type: 'STANDARD', tags: {}, createdAt: 1000 });
    expect(r.policies[arn(3)]).toEqual([
      { policyArn: 'p1', scope: { type: 'cluster' } },
      { policyArn: 'p2', scope: { type: 'namespace', namespaces: ['a', 'b'] } },
    ]);
    const lists = eksMock.commandCalls(ListAccessEntriesCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { clusterName: 'demo', maxResults: 100, nextToken: undefined },
      { clusterName: 'demo', maxResults: 100, nextToken: 't1' },
      { clusterName: 'demo', maxResults: 100, nextToken: 't2' },
    ]);
    // Node entries (EC2_LINUX) have no policies to list.
    expect(eksMock.commandCalls(ListAssociatedAccessPoliciesCommand).some((c) => c.args[0].input.principalArn === arn(7))).toBe(false);
    expect(eksMock.commandCalls(ListAssociatedAccessPoliciesCommand)).toHaveLength(205);
    expect(s.lastReadCalls).toBe(3 + 205 + 204 + 1);
  });

  test('an entry deleted between the list and the describe is left out; other failures name the call', async () => {
    eksMock.on(ListAccessEntriesCommand).resolves({ accessEntries: [arn(1), arn(2)] });
    eksMock.on(DescribeAccessEntryCommand, { principalArn: arn(1) }).rejects(awsError('ResourceNotFoundException'));
    eksMock.on(DescribeAccessEntryCommand, { principalArn: arn(2) }).resolves({ accessEntry: { principalArn: arn(2), type: 'STANDARD' } });
    eksMock.on(ListAssociatedAccessPoliciesCommand).resolves({});
    expect((await store().read()).entries.map((e) => e.principalArn)).toEqual([arn(2)]);
    eksMock.on(ListAccessEntriesCommand).rejects(awsError('AccessDeniedException'));
    await expect(store().read()).rejects.toThrow(/EKS ListAccessEntries\s+on cluster demo failed: AccessDeniedException/);
  });

  test('a token seen twice is an error, never a short list', async () => {
    eksMock.on(ListAccessEntriesCommand).resolves({ accessEntries: [arn(1)], nextToken: 'same' });
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: arn(1), type: 'STANDARD' } });
    await expect(store().read()).rejects.toThrow(/returned the same nextToken twice/);
  });
});

describe('apply', () => {
  beforeEach(() => {
    slept.length = 0;
  });
  const created: AccessEntryCall = { op: 'CreateAccessEntry', principalArn: arn(1), kubernetesGroups: ['devs'], username: 'u1', tags: { [OWNED_TAG]: 'demo' } };
  const associate: AccessEntryCall = {
    op: 'AssociateAccessPolicy',
    principalArn: arn(1),
    policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
    accessScope: { type: 'namespace', namespaces: ['a'] },
  };

  test('makes every call in order, STANDARD with the ownership tags', async () => {
    eksMock.onAnyCommand().resolves({});
    const calls: AccessEntryCall[] = [
      created,
      associate,
      { op: 'UpdateAccessEntry', principalArn: arn(2), kubernetesGroups: [], username: 'u2' },
      { op: 'DisassociateAccessPolicy', principalArn: arn(2), policyArn: 'p' },
      { op: 'DeleteAccessEntry', principalArn: arn(3) },
    ];
    const done: string[] = [];
    await store().apply(calls, (c) => done.push(c.op));
    expect(eksMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'CreateAccessEntryCommand',
      'AssociateAccessPolicyCommand',
      'UpdateAccessEntryCommand',
      'DisassociateAccessPolicyCommand',
      'DeleteAccessEntryCommand',
    ]);
    expect(eksMock.commandCalls(CreateAccessEntryCommand)[0]!.args[0].input).toEqual({
      clusterName: 'demo',
      principalArn: arn(1),
      kubernetesGroups: ['devs'],
      username: 'u1',
      type: 'STANDARD',
      tags: { [OWNED_TAG]: 'demo' },
    });
    expect(eksMock.commandCalls(AssociateAccessPolicyCommand)[0]!.args[0].input.accessScope).toEqual({ type: 'namespace', namespaces: ['a'] });
    expect(done).toHaveLength(5);
  });

  test('right after a create, ResourceNotFound and InvalidRequest are propagation: retried, bounded', async () => {
    eksMock.on(CreateAccessEntryCommand).resolves({});
    eksMock.on(AssociateAccessPolicyCommand).rejectsOnce(awsError('ResourceNotFoundException')).rejectsOnce(awsError('InvalidRequestException')).resolves({});
    await store().apply([created, associate]);
    expect(eksMock.commandCalls(AssociateAccessPolicyCommand)).toHaveLength(3);
    expect(slept).toEqual([500, 1000]);

    eksMock.reset();
    slept.length = 0;
    eksMock.on(CreateAccessEntryCommand).resolves({});
    eksMock.on(AssociateAccessPolicyCommand).rejects(awsError('ResourceNotFoundException'));
    const err = await store()
      .apply([created, associate])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterAccessError);
    expect((err as Error).message).toMatch(
      /AssociateAccessPolicy .*u001 on cluster demo failed: ResourceNotFoundException.*; 1 of 2 calls were made before it/,
    );
    expect((err as ClusterAccessError).context).toMatchObject({ applied: 1, total: 2, op: 'AssociateAccessPolicy' });
    expect(slept).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  test('for an entry not created in this run, ResourceNotFound is real: no retry', async () => {
    eksMock.on(AssociateAccessPolicyCommand).rejects(awsError('ResourceNotFoundException'));
    await expect(store().apply([associate])).rejects.toThrow(/0 of 1 calls/);
    expect(slept).toEqual([]);
  });

  test('a create that finds the entry there: ours (an earlier attempt landed) is fine, anyone else’s is a failure', async () => {
    eksMock.on(CreateAccessEntryCommand).rejects(awsError('ResourceInUseException'));
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: arn(1), type: 'STANDARD', tags: { [OWNED_TAG]: 'demo' } } });
    await store().apply([created]);
    eksMock.on(DescribeAccessEntryCommand).resolves({ accessEntry: { principalArn: arn(1), type: 'STANDARD', tags: {} } });
    await expect(store().apply([created])).rejects.toThrow(/CreateAccessEntry .* ResourceInUseException/);
  });

  test('deleting or disassociating what is already gone is done', async () => {
    eksMock.on(DeleteAccessEntryCommand).rejects(awsError('ResourceNotFoundException'));
    eksMock.on(DisassociateAccessPolicyCommand).rejects(awsError('ResourceNotFoundException'));
    await store().apply([
      { op: 'DisassociateAccessPolicy', principalArn: arn(1), policyArn: 'p' },
      { op: 'DeleteAccessEntry', principalArn: arn(1) },
    ]);
    eksMock.on(UpdateAccessEntryCommand).rejects(awsError('AccessDeniedException'));
    await expect(store().apply([{ op: 'UpdateAccessEntry', principalArn: arn(1), kubernetesGroups: [], username: 'x' }])).rejects.toThrow(
      /UpdateAccessEntry .* AccessDeniedException/,
    );
  });
});
