/**
 * createLiveDeps: what a warm container keeps between runs. DescribeCluster (endpoint, CA, ARN,
 * authentication mode) is asked again after DESCRIBE_TTL_MS, so a switch of the authentication
 * mode is seen within minutes; a failed answer is never kept.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { DescribeClusterCommand, EKSClient, type AuthenticationMode } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { createLiveDeps, DESCRIBE_TTL_MS } from '../../../lib/adapters/wire.js';
import { MemoryLog } from '../../support/memory.js';

const eks = mockClient(EKSClient);
afterEach(() => {
  eks.reset();
});

const cluster = (mode: AuthenticationMode) => ({
  cluster: {
    name: 'prod',
    arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
    endpoint: 'https://eks.invalid',
    certificateAuthority: { data: Buffer.from('ca').toString('base64') },
    accessConfig: { authenticationMode: mode },
  },
});

describe('DescribeCluster in a warm container', () => {
  test('asked once within the time limit, again after it (a mode switch is seen); a failure is not kept', async () => {
    let t = Date.parse('2026-12-01T12:00:00Z');
    const deps = createLiveDeps({
      cluster: 'prod',
      region: 'eu-west-1',
      bucket: 'b',
      prefix: 'p',
      macKey: { id: 'alias/k', region: 'eu-west-1' },
      timeoutMs: 1000,
      clock: { now: () => new Date(t) },
      log: new MemoryLog(),
    });
    eks.on(DescribeClusterCommand).resolves(cluster('CONFIG_MAP'));
    expect(await deps.cluster.authenticationMode()).toBe('CONFIG_MAP');
    t += DESCRIBE_TTL_MS - 1000;
    expect(await deps.cluster.authenticationMode()).toBe('CONFIG_MAP');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);

    eks.on(DescribeClusterCommand).resolves(cluster('API'));
    t += 2000;
    expect(await deps.cluster.authenticationMode()).toBe('API');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);

    eks.on(DescribeClusterCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    t += DESCRIBE_TTL_MS + 1;
    await expect(deps.cluster.authenticationMode()).rejects.toThrow();
    eks.on(DescribeClusterCommand).resolves(cluster('API_AND_CONFIG_MAP'));
    expect(await deps.cluster.authenticationMode()).toBe('API_AND_CONFIG_MAP');
  });
});
