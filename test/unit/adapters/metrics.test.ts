/**
 * EmfMetrics: what the Powertools metrics object really prints, parsed as CloudWatch parses EMF.
 */
import { describe, expect, test } from '@jest/globals';
import { EmfMetrics, METRICS_NAMESPACE } from '../../../lib/adapters/metrics.js';
import { captureStdout, emfOf, points } from '../../support/emf.js';

describe('EmfMetrics', () => {
  test('one EMF line per list of dimension sets; each metric under every set of its line', async () => {
    const m = new EmfMetrics({ serviceName: 'aws-auth-syncer' });
    const { lines } = await captureStdout(async () => {
      m.add('SyncReplaced', 'Count', 1, [{ cluster: 'prod' }, { cluster: 'prod', trigger: 'iam' }]);
      m.add('PlanDuration', 'Milliseconds', 12, [{ cluster: 'prod' }]);
      m.add('PlanDuration', 'Milliseconds', 7, [{ cluster: 'prod' }]);
      m.add('Refusals', 'Count', 1, [{ code: 'last-masters', cluster: 'prod' }]);
      m.add('Refusals', 'Count', 1, [{ cluster: 'prod', code: 'node-mapping' }]);
      m.flush();
    });
    const emf = emfOf(lines);
    expect(emf).toHaveLength(4);
    expect(lines).toHaveLength(4); // nothing else printed (no "no metrics" warning)
    for (const o of emf) expect(o._aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);

    expect(points(emf, 'SyncReplaced')).toEqual([
      {
        value: 1,
        unit: 'Count',
        namespace: 'AwsAuthSyncer',
        dimensionSets: [
          ['service', 'cluster'],
          ['service', 'cluster', 'trigger'],
        ],
        dims: { service: 'aws-auth-syncer', cluster: 'prod', trigger: 'iam' },
      },
    ]);
    // Two points of one name in one run: an EMF value array (two samples).
    expect(points(emf, 'PlanDuration')).toEqual([
      {
        value: [12, 7],
        unit: 'Milliseconds',
        namespace: 'AwsAuthSyncer',
        dimensionSets: [['service', 'cluster']],
        dims: { service: 'aws-auth-syncer', cluster: 'prod' },
      },
    ]);
    // One line per refusal code, whatever the key order it was given in.
    expect(points(emf, 'Refusals').map((p) => [p.dims.code, p.value, p.dimensionSets])).toEqual([
      ['last-masters', 1, [['service', 'cluster', 'code']]],
      ['node-mapping', 1, [['service', 'cluster', 'code']]],
    ]);
  });

  test('flush forgets what it published; an empty flush prints nothing', async () => {
    const m = new EmfMetrics({ serviceName: 'svc' });
    const first = await captureStdout(async () => {
      m.add('SyncUnchanged', 'Count', 1, [{ cluster: 'a' }]);
      m.flush();
    });
    const second = await captureStdout(async () => m.flush());
    expect(points(emfOf(first.lines), 'SyncUnchanged')).toHaveLength(1);
    expect(second.lines).toEqual([]);
  });

  test('the timestamp is the flush time, in milliseconds', async () => {
    const m = new EmfMetrics({ serviceName: 'svc' });
    const before = Date.now();
    const { lines } = await captureStdout(async () => {
      m.add('SyncError', 'Count', 1, [{ cluster: 'a' }]);
      m.flush();
    });
    const ts = emfOf(lines)[0]!._aws.Timestamp;
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });
});
