import { createKeyspace } from '@async-jobs/shared';
import type { Bench, Figure } from '../lib/bench';
import { keepAlive, request } from '../lib/http';
import { NAMESPACE, type RunningApi } from '../lib/ours';
import { median, round } from '../lib/stats';

/** RSS figures gathered by the other phases; reported with the memory figure. */
export interface RssNotes {
  apiRssIdleMB?: number;
  apiRssSubmitMB?: number[];
  workerRssIdleMB?: number[];
  workerRssDrainMB?: number[];
}

/**
 * Bytes Redis holds for one finished echo job, counting every key and index entry it
 * leaves: BullMQ's job hash and its entry in the completed set, our tombstone and our
 * entry in its type's list index. Keys by MEMORY USAGE (SAMPLES 0:
 * every element); a set entry as its set's MEMORY USAGE over its size, the sets holding
 * hundreds of jobs or more, as in use. The worker writes nothing of its own.
 */
export async function measureMemory(b: Bench, api: RunningApi, rss: RssNotes): Promise<Figure> {
  const keys = createKeyspace(NAMESPACE);
  const redis = b.redis.client;
  const agent = keepAlive(1);
  const usage = async (key: string) => Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const perEntry = async (key: string) => round((await usage(key)) / Math.max(1, await redis.zcard(key)), 1);
  const ids: string[] = [];
  try {
    for (let i = 0; i < (b.args.quick ? 200 : 1000); i++) {
      const r = await request(agent, `${api.url}/jobs?wait=10`, 'POST', { type: 'echo', data: { hello: 'world', n: i } });
      if (r.status !== 200) throw new Error(`memory: job did not complete: ${r.status} ${r.body}`);
      ids.push((JSON.parse(r.body) as { id: string }).id);
    }
  } finally {
    agent.destroy();
  }
  // The bench runs with the default layout: one group, echo unsharded.
  const group = keys.groups[0];
  const sets = {
    completedEntryBytes: await perEntry(`${keys.prefixOf('echo')}:echo:completed`),
    typeIndexEntryBytes: await perEntry(keys.typeIndex(group, 'echo')),
    setSizes: { completed: await redis.zcard(`${keys.prefixOf('echo')}:echo:completed`), index: await redis.zcard(keys.typeIndex(group, 'echo')) },
  };
  const runs = [];
  for (let i = 0; i < Math.max(3, b.args.runs); i++) {
    const id = ids[ids.length - 1 - i * 7];
    const jobHashBytes = await usage(keys.job('echo', id));
    const tombstoneBytes = await usage(keys.tombstone('echo', id));
    const at = (xs: number[] | undefined) => xs?.[i] ?? null;
    runs.push({
      value: round(jobHashBytes + tombstoneBytes + sets.completedEntryBytes + sets.typeIndexEntryBytes, 0),
      jobHashBytes,
      tombstoneBytes,
      ...sets,
      apiRssIdleMB: i === 0 ? (rss.apiRssIdleMB ?? null) : null,
      apiRssSubmitPeakMB: at(rss.apiRssSubmitMB),
      workerRssIdleMB: at(rss.workerRssIdleMB),
      workerRssDrainPeakMB: at(rss.workerRssDrainMB),
    });
  }
  const r = runs[0];
  b.log(
    `  memory: BullMQ hash ${r.jobHashBytes} + completed-set entry ${r.completedEntryBytes} + tombstone ${r.tombstoneBytes} + index entry ${r.typeIndexEntryBytes} = ${r.value} bytes (sets of ${sets.setSizes.completed} / ${sets.setSizes.index})`,
  );
  return { value: median(runs.map((x) => x.value)), unit: 'bytes', baseline: null, baselineName: '—', runs };
}
