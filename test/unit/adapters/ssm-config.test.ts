/**
 * The configuration parameter adapter over an SDK mock: what it asks SSM, what it caches (a few
 * seconds) and how a missing or unreadable parameter is reported. The same flow runs against
 * moto's SSM in test/integration/config-parameter.test.ts.
 */
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { CONFIG_CACHE_MS, SsmConfigParameter } from '../../../lib/adapters/ssm-config.js';
import { ConfigError, ConfigSourceError } from '../../../lib/errors.js';
import { configSourceFromEnv } from '../../../lib/config.js';

const ssmMock = mockClient(SSMClient);
const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

beforeEach(() => {
  ssmMock.reset();
});

describe('SsmConfigParameter', () => {
  test('asks for the parameter with decryption (SecureString works too) and returns its text and version', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: '/aas/prod', Value: 'cluster: prod\n', Version: 3 } });
    const p = new SsmConfigParameter(client, '/aas/prod');
    expect(await p.read()).toEqual({ text: 'cluster: prod\n', version: 3 });
    expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: '/aas/prod', WithDecryption: true }]);
  });

  test(`caches for ${CONFIG_CACHE_MS} ms at most, then reads again`, async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: 'v1', Version: 1 } })
      .resolves({ Parameter: { Value: 'v2', Version: 2 } });
    let now = 1_000_000;
    const p = new SsmConfigParameter(client, '/aas/prod', { now: () => now });
    expect((await p.read()).text).toBe('v1');
    now += CONFIG_CACHE_MS - 1;
    expect((await p.read()).text).toBe('v1');
    now += 1;
    expect((await p.read()).text).toBe('v2');
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  test('a missing parameter is a ConfigError naming it', async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('Parameter /aas/x not found.'), { name: 'ParameterNotFound' }));
    const err = await new SsmConfigParameter(client, '/aas/x').read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('SSM parameter /aas/x (SYNCER_CONFIG_PARAMETER) does not exist');
  });

  test('any other failure is a ConfigSourceError with the SDK error as its cause, and is not cached', async () => {
    const denied = Object.assign(new Error('not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException' });
    ssmMock
      .on(GetParameterCommand)
      .rejectsOnce(denied)
      .resolves({ Parameter: { Value: 'ok', Version: 1 } });
    const p = new SsmConfigParameter(client, '/aas/prod');
    const err = await p.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigSourceError);
    expect((err as Error).message).toBe('cannot read SSM parameter /aas/prod: AccessDeniedException: not authorized to perform: ssm:GetParameter');
    expect((err as Error).cause).toBe(denied);
    expect((await p.read()).text).toBe('ok');
  });
});

describe('configSourceFromEnv', () => {
  test('the parameter wins over the bundled file; names and ARNs are accepted', () => {
    expect(configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: '/aas/prod', SYNCER_CONFIG_FILE: 'x.yaml' })).toEqual({ kind: 'parameter', name: '/aas/prod' });
    expect(configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: 'aas.prod-1' })).toEqual({ kind: 'parameter', name: 'aas.prod-1' });
    const arn = 'arn:aws:ssm:us-east-1:111122223333:parameter/aas/prod';
    expect(configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: arn })).toEqual({ kind: 'parameter', name: arn });
  });

  test('an empty parameter (the serverless default) falls back to the file', () => {
    expect(configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: '', SYNCER_CONFIG_FILE: 'x.yaml' })).toEqual({ kind: 'file', path: 'x.yaml' });
  });

  test('names SSM reserves ("aws…", "ssm…") are refused with the reason', () => {
    expect(() => configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: '/aws-auth-syncer/prod' })).toThrow(
      new ConfigError(
        'SYNCER_CONFIG_PARAMETER: "/aws-auth-syncer/prod" starts with "aws" or "ssm", which SSM reserves; use a name such as /eks/aws-auth-syncer/prod',
      ),
    );
    expect(() => configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: 'SSM.config' })).toThrow(/which SSM reserves/);
  });

  test.each(['/a//b', 'with space', 'a;b'])('%j is refused with a clear message', (name) => {
    expect(() => configSourceFromEnv({ SYNCER_CONFIG_PARAMETER: name })).toThrow(
      new ConfigError(`SYNCER_CONFIG_PARAMETER: ${JSON.stringify(name)} is not an SSM parameter name (letters, digits, _ . - /) or parameter ARN`),
    );
  });
});
