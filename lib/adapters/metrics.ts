/**
 * The Metrics port over Powertools Metrics: CloudWatch Embedded Metric Format lines on stdout,
 * which Lambda's log delivery turns into metrics (no PutMetricData call, no extra permission,
 * nothing to wait for). Data points are buffered for the run and published by flush(): one EMF
 * line per distinct list of dimension sets, each metric under every set of its line.
 */
import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Dimensions, Metrics, MetricUnit as PortUnit } from '../app/ports.js';

/** The CloudWatch namespace of every metric the syncer publishes (alarms and dashboard name it). */
export const METRICS_NAMESPACE = 'AwsAuthSyncer';
/** The `service` dimension of every metric (serverless.yml's custom.metricsService). */
export const METRICS_SERVICE = 'aws-auth-syncer';

const UNITS: Record<PortUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
};

interface Group {
  sets: Dimensions[];
  points: { name: string; unit: PortUnit; value: number }[];
}

export class EmfMetrics implements Metrics {
  private readonly groups = new Map<string, Group>();

  /** `serviceName` becomes the `service` dimension of every metric (POWERTOOLS_SERVICE_NAME when omitted). */
  constructor(private readonly options: { namespace?: string; serviceName?: string } = {}) {}

  add(name: string, unit: PortUnit, value: number, dimensionSets: readonly Dimensions[]): void {
    // Same sets in any key order are one group: sort the keys for the map key.
    const sets = dimensionSets.map((d) => Object.fromEntries(Object.entries(d).sort(([a], [b]) => a.localeCompare(b))));
    const key = JSON.stringify(sets);
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { sets, points: [] }));
    group.points.push({ name, unit, value });
  }

  /** Publish everything recorded since the last flush, then forget it. */
  flush(): void {
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const g of groups) {
      // Dimensions shared by every set of the line are Powertools' default dimensions, and each
      // set adds only its own keys: Powertools warns about a key given by two sets, and
      // {cluster} + {cluster, trigger} must become [service, cluster] + [service, cluster, trigger].
      const common = Object.fromEntries(Object.entries(g.sets[0] ?? {}).filter(([k, v]) => g.sets.every((s) => s[k] === v)));
      const emf = new PowertoolsMetrics({
        namespace: this.options.namespace ?? METRICS_NAMESPACE,
        serviceName: this.options.serviceName,
        defaultDimensions: common,
      });
      const own = g.sets.map((s) => Object.fromEntries(Object.entries(s).filter(([k]) => !(k in common))));
      if (own.length > 1 || own.some((o) => Object.keys(o).length > 0)) for (const o of own) emf.addDimensions(o);
      // The same name twice in a run (a plan per write attempt) becomes an EMF value array.
      for (const p of g.points) emf.addMetric(p.name, UNITS[p.unit], p.value);
      emf.publishStoredMetrics();
    }
  }
}
