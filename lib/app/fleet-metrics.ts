/**
 * The metrics of a deployment with a list of clusters, besides the per-cluster ones every run
 * records (lib/app/observe.ts). Kept apart from lib/app/fleet.ts so that the functions that only
 * need these (restore, backups) do not bundle the fan-out.
 */
import { METRIC, RESTORE_OUTCOME_METRICS, SYNC_OUTCOME_METRICS } from './observe.js';
import type { Dimensions, Metrics } from './ports.js';

/** Metrics of the fleet as a whole (dimension `service` only), besides the per-cluster ones. */
export const FLEET_METRIC = {
  /** Messages handed to the cluster queue by one fan-out (one per cluster). */
  clustersQueued: 'ClustersQueued',
  /** Clusters whose message could not be sent (the fan-out then fails, and is retried). */
  clusterQueueFailed: 'ClusterQueueFailed',
  /** The run's one IAM discovery (also per cluster when a cluster reads the stored snapshot). */
  discoveryDuration: METRIC.discoveryDuration,
} as const;

/** The dimension set of fleet-wide points: none beyond `service`. */
export const FLEET: Dimensions[] = [{}];

/** Outcome counts that a fleet also publishes without the cluster: one alarm watches every cluster. */
const TOTALLED = new Set<string>([...Object.values(SYNC_OUTCOME_METRICS), ...Object.values(RESTORE_OUTCOME_METRICS), METRIC.syncSucceeded]);

/**
 * The metrics of a fleet: every point as the use case records it (per cluster), and the outcome
 * counts once more without the `cluster` dimension (`{}`, `{trigger}`), so that the alarms of a
 * deployment with any number of clusters are a fixed set (an alarm cannot SEARCH metrics).
 */
export function withFleetTotals(metrics: Metrics): Metrics {
  return {
    add(name, unit, value, sets) {
      if (!TOTALLED.has(name)) return metrics.add(name, unit, value, sets);
      const totals = sets.map((s) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'cluster')));
      const all = [...sets, ...totals].filter((s, i, list) => list.findIndex((o) => JSON.stringify(o) === JSON.stringify(s)) === i);
      metrics.add(name, unit, value, all);
    },
  };
}
