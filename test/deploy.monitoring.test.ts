import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createLogger } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../apps/api/src/metrics/registry';
import { createWorkerMetrics } from '../apps/worker/src/metrics/job-metrics';
import { hasPromtool } from './prometheus-text';

const root = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(root + path, 'utf8');

interface Target {
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

/** The metric families the API and a worker expose (a histogram's _bucket/_count/_sum are its family). */
async function exposedFamilies(): Promise<Set<string>> {
  const api = createMetrics({ queues: new Map(), typeOfQueue: (q: string) => q, queuesReady: () => true, logger: createLogger('test', 'silent') });
  const worker = createWorkerMetrics();
  const all = [...(await api.registry.getMetricsAsJSON()), ...(await worker.registry.getMetricsAsJSON())];
  return new Set(all.map((m) => m.name));
}

/** Grafana's reference to the dashboard's data source variable (not a template string). */
const PROMETHEUS = { type: 'prometheus', uid: '$' + '{datasource}' };

describe('the Grafana dashboard (deploy/grafana/async-jobs.json)', () => {
  const dashboard = JSON.parse(read('deploy/grafana/async-jobs.json')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown }[] };
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('is a dashboard that asks for its Prometheus data source on import', () => {
    expect(dashboard).toMatchObject({ uid: 'async-jobs', title: 'async-jobs' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual(PROMETHEUS);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual(PROMETHEUS);
    }
  });

  it('queries only metrics that the API and the workers expose', async () => {
    const exposed = await exposedFamilies();
    const named = new Set<string>();
    for (const p of panels)
      for (const t of p.targets ?? []) for (const m of t.expr.matchAll(/\b(?:asyncjobs|http|process|nodejs)_[a-z0-9_]+/g)) named.add(m[0]);
    for (const v of dashboard.templating.list)
      if (typeof v.query === 'object' && v.query) named.add(/label_values\((\w+)/.exec((v.query as { query: string }).query)![1]);
    const unknown = [...named].filter((n) => !exposed.has(n) && !exposed.has(n.replace(/_(bucket|count|sum)$/, '')));
    expect(named.size).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });
});

describe('the docker-compose monitoring profile', () => {
  const compose = read('docker-compose.yml');
  const prometheus = read('deploy/prometheus/prometheus.yml');

  it('mounts files that exist', () => {
    const mounts = [...compose.matchAll(/^\s+- \.\/(\S+?):/gm)].map((m) => m[1]);
    expect(mounts).toEqual(expect.arrayContaining(['deploy/prometheus/prometheus.yml', 'deploy/grafana/provisioning', 'deploy/grafana/async-jobs.json']));
    for (const m of mounts) expect(existsSync(root + m), m).toBe(true);
  });

  it('scrapes the ports the api and the workers serve their metrics on', () => {
    const workerPort = /WORKER_METRICS_PORT: "(\d+)"/.exec(compose)?.[1];
    expect(workerPort).toBeDefined();
    expect(prometheus).toMatch(new RegExp(`names: \\[worker\\]\\n\\s+type: A\\n\\s+port: ${workerPort}\\n`));
    expect(compose).toMatch(/PORT: "3000"/);
    expect(prometheus).toMatch(/names: \[api\]\n\s+type: A\n\s+port: 3000\n/);
  });

  it.skipIf(!hasPromtool)('has a Prometheus configuration that promtool accepts', () => {
    // --syntax-only: the token file exists only inside the container (a compose secret).
    const r = spawnSync('promtool', ['check', 'config', '--syntax-only', `${root}deploy/prometheus/prometheus.yml`], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
