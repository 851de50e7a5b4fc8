/**
 * The handlers' observability, read from what they print: log lines carry the Lambda context
 * (request id, cold start, function), errors are logged with their stack and cause, and a
 * configuration that cannot be loaded is counted (ConfigInvalid, EMF) — for a person's invoke as
 * a reply naming the problem, for an automatic run as a thrown error. SSM is an SDK mock here;
 * test/integration/config-parameter.test.ts runs the same against moto.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { METRIC } from '../../../lib/app/observe.js';
import { captureStdout, emfOf, logsOf, points } from '../../support/emf.js';

const ssmMock = mockClient(SSMClient);
const saved = { ...process.env };

const context = (requestId: string): Context =>
  ({
    functionName: 'aws-auth-syncer-dev-sync',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:aws-auth-syncer-dev-sync',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/aws-auth-syncer-dev-sync',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60000,
    done() {},
    fail() {},
    succeed() {},
  }) as Context;

const sqsBatch = () => ({
  Records: [
    {
      messageId: 'm',
      body: JSON.stringify({
        id: 'e',
        source: 'aws.iam',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventName: 'AddUserToGroup', eventID: 'ct-1' },
      }),
    },
  ],
});

type Handler = (event: unknown, context?: Context) => Promise<unknown>;
let sync: Handler;

beforeAll(async () => {
  process.env.AWS_REGION = 'us-east-1';
  // Lambda sets this before the module loads; Powertools reads it at construction for cold_start.
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  sync = (await import('../../../handlers/sync.js')).handler as Handler;
});
beforeEach(() => {
  ssmMock.reset();
});
afterAll(() => {
  process.env = saved;
});

describe('log lines carry the Lambda context', () => {
  test('request id, cold start and function name on every line of the invocation', async () => {
    const event = {
      id: 'x',
      source: 'aws.iam',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventName: 'AddUserToGroup', errorCode: 'AccessDenied' },
    };
    const first = await captureStdout(() => sync(event, context('req-1')));
    const second = await captureStdout(() => sync(event, context('req-2')));
    const [a] = logsOf(first.lines);
    const [b] = logsOf(second.lines);
    expect(a).toMatchObject({
      message: 'event ignored',
      function_request_id: 'req-1',
      cold_start: true,
      function_name: 'aws-auth-syncer-dev-sync',
      service: 'aws-auth-syncer',
    });
    expect(b).toMatchObject({ message: 'event ignored', function_request_id: 'req-2', cold_start: false });
  });
});

describe('a configuration that cannot be used: counted, nothing written', () => {
  test('an invalid parameter on a manual invoke: a reply naming the field, ConfigInvalid for the function', async () => {
    process.env.SYNCER_CONFIG_PARAMETER = '/aas/manual';
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'cluster: prod\nguards:\n  maxRemovals: -1\n', Version: 7 } });
    const { lines, result } = await captureStdout(() => sync({ dryRun: true }, context('req-3')));
    expect(result).toEqual({
      outcome: 'error',
      error: { name: 'ConfigError', message: 'invalid SSM parameter /aas/manual:\n  guards.maxRemovals: Too small: expected number to be >=0' },
    });
    expect(points(emfOf(lines), METRIC.configInvalid)).toEqual([
      {
        value: 1,
        unit: 'Count',
        namespace: 'AwsAuthSyncer',
        dimensionSets: [['service', 'function_name']],
        dims: { service: 'aws-auth-syncer', function_name: 'aws-auth-syncer-dev-sync' },
      },
    ]);
    // A person's mistake: logged as a warning, without a stack trace.
    const warn = logsOf(lines).find((l) => l.level === 'WARN')!;
    expect(warn).toMatchObject({ function_request_id: 'req-3', error: { name: 'ConfigError' } });
    expect(JSON.stringify(warn)).not.toContain('"stack"');
  });

  test('the same on an automatic run: thrown (retries, DLQ, alarms), logged as an error with its stack', async () => {
    process.env.SYNCER_CONFIG_PARAMETER = '/aas/automatic';
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'cluster: prod\nunknownField: 1\n', Version: 8 } });
    const { lines, error } = await captureStdout(() => sync(sqsBatch(), context('req-4')));
    expect((error as Error).name).toBe('ConfigError');
    expect((error as Error).message).toBe('invalid SSM parameter /aas/automatic:\n  unknown field(s) "unknownField"');
    expect(points(emfOf(lines), METRIC.configInvalid).map((p) => p.value)).toEqual([1]);
    const logged = logsOf(lines).find((l) => l.level === 'ERROR') as { function_request_id: string; error: { name: string; stack: string } };
    expect(logged.function_request_id).toBe('req-4');
    expect(logged.error.name).toBe('ConfigError');
    expect(logged.error.stack).toMatch(/^ConfigError: invalid SSM parameter \/aas\/automatic:[\s\S]*\n\s+at /);
  });

  test('an unreadable parameter: the error is logged with its cause (the SDK error underneath)', async () => {
    process.env.SYNCER_CONFIG_PARAMETER = '/aas/denied';
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException' }));
    const { lines, error } = await captureStdout(() => sync(sqsBatch(), context('req-5')));
    expect((error as Error).name).toBe('ConfigSourceError');
    const logged = logsOf(lines).find((l) => l.level === 'ERROR') as {
      error: { name: string; stack: string; context: unknown; cause: { name: string; message: string; stack: string } };
    };
    expect(logged.error).toMatchObject({ name: 'ConfigSourceError', context: { parameter: '/aas/denied' } });
    expect(logged.error.cause).toMatchObject({ name: 'AccessDeniedException', message: 'User is not authorized to perform: ssm:GetParameter' });
    expect(logged.error.cause.stack).toMatch(/AccessDeniedException/);
    expect(points(emfOf(lines), METRIC.configInvalid).map((p) => p.value)).toEqual([1]);
  });
});
