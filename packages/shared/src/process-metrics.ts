import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's gauges whose names end in `_total`, a suffix Prometheus keeps for counters
 * (`promtool check metrics` fails on them). Each has a twin by `type` without the suffix
 * (`nodejs_active_handles{type}` …), whose sum is the same figure.
 */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** prom-client's default process and Node.js metrics in `registry`, minus the misnamed ones. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}
