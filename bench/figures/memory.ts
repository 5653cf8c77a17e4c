import type { Bench, Figure } from '../lib/bench';
import { keepAlive, request } from '../lib/http';
import type { RunningApi } from '../lib/ours';
import { NAMESPACE } from '../lib/ours';
import { createKeyspace } from '@async-jobs/shared';
import { median } from '../lib/stats';

/** RSS figures gathered by the other phases; reported with the memory figure. */
export interface RssNotes {
  apiRssIdleMB?: number;
  apiRssSubmitMB?: number[];
  workerRssIdleMB?: number[];
  workerRssDrainMB?: number[];
}

/**
 * Bytes Redis holds for one finished echo job, as MEMORY USAGE (SAMPLES 0: every
 * element) of what the results store keeps: the record hash, the event-log stream and
 * the tombstone. BullMQ's own copy is trimmed by its retention and not counted here.
 */
export async function measureMemory(b: Bench, api: RunningApi, rss: RssNotes): Promise<Figure> {
  const keys = createKeyspace(NAMESPACE);
  const agent = keepAlive(1);
  const usage = async (key: string) => Number((await b.redis.client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const runs = [];
  try {
    for (let i = 0; i < Math.max(3, b.args.runs); i++) {
      const posted = await request(agent, `${api.url}/jobs`, 'POST', { type: 'echo', data: { hello: 'world', n: i } });
      const { id } = JSON.parse(posted.body) as { id: string };
      const got = await request(agent, `${api.url}/jobs/${id}/result?wait=10`);
      if (got.status !== 200) throw new Error(`memory: job ${id} did not complete: ${got.status} ${got.body}`);
      const recordBytes = await usage(keys.record(id));
      const eventLogBytes = await usage(keys.eventLog(id));
      const tombstoneBytes = await usage(keys.tombstone(id));
      const eventLogTtlS = Math.round(Number(await b.redis.client.pttl(keys.eventLog(id))) / 1000);
      const at = (xs: number[] | undefined) => xs?.[i] ?? null;
      runs.push({
        value: recordBytes + eventLogBytes + tombstoneBytes,
        recordBytes,
        eventLogBytes,
        tombstoneBytes,
        // What stays once the event log's TTL (SSE resume after the end) has run out.
        atRestBytes: recordBytes + tombstoneBytes,
        eventLogTtlS,
        apiRssIdleMB: i === 0 ? (rss.apiRssIdleMB ?? null) : null,
        apiRssSubmitPeakMB: at(rss.apiRssSubmitMB),
        workerRssIdleMB: at(rss.workerRssIdleMB),
        workerRssDrainPeakMB: at(rss.workerRssDrainMB),
      });
    }
  } finally {
    agent.destroy();
  }
  const last = runs[runs.length - 1];
  b.log(`  memory: record ${last.recordBytes} + event log ${last.eventLogBytes} + tombstone ${last.tombstoneBytes} = ${last.value} bytes; ${last.atRestBytes} once the event log expires (in ${last.eventLogTtlS} s)`);
  return { value: median(runs.map((r) => r.value)), unit: 'bytes', baseline: null, baselineName: '—', runs };
}
