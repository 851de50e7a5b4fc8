/**
 * respond(): what a handler body's outcome becomes. A guard's refusal is final for any trigger
 * (a reply, not a retry: the same IAM against the same cluster would be refused again and, in a
 * FIFO lane, hold newer runs back); other failures of an automatic run are thrown.
 */
import { describe, expect, test } from '@jest/globals';
import { respond } from '../../../lib/adapters/lambda.js';
import { ClusterAccessError, GuardRefusedError } from '../../../lib/errors.js';
import { captureStdout, logsOf } from '../../support/emf.js';

const refusal = () => new GuardRefusedError([{ code: 'too-many-removals', message: '3 entries would go' }], { cluster: 'prod', diff: ['- mapUsers x'] });

describe('respond', () => {
  test.each([
    ['an automatic run', true],
    ["a person's run", false],
  ])('%s that a guard refuses is the refused reply, logged as a warning without a stack', async (_what, automatic) => {
    const { result, error, lines } = await captureStdout(() =>
      respond(
        'sync',
        async () => {
          throw refusal();
        },
        { automatic: () => automatic, event: {} },
      ),
    );
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'refused', refusals: [{ code: 'too-many-removals' }] });
    const logged = logsOf(lines);
    expect(logged.map((l) => l.level)).toEqual(['WARN']);
    expect(JSON.stringify(logged[0])).not.toContain('"stack"');
  });

  test('any other failure of an automatic run is thrown (retries, dead-letter queue, alarms)', async () => {
    const { error } = await captureStdout(() =>
      respond(
        'sync',
        async () => {
          throw new ClusterAccessError('unreachable');
        },
        { automatic: () => true, event: {} },
      ),
    );
    expect(error).toBeInstanceOf(ClusterAccessError);
  });
});
