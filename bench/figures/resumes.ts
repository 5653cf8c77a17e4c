import http from 'node:http';
import { createKeyspace } from '@async-jobs/shared';
import type { Bench, Figure } from '../lib/bench';
import { keepAlive, request } from '../lib/http';
import { NAMESPACE, type RunningApi } from '../lib/ours';
import { echoData } from '../lib/prefill';
import { cpuSeconds } from '../lib/proc';
import { median, round } from '../lib/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One event stream resumed from `lastEventId`, read to its end: its status, and when it ended. */
function resume(agent: http.Agent, url: string, lastEventId: string): Promise<{ status: number; doneAt: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { accept: 'text/event-stream', 'last-event-id': lastEventId } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, doneAt: performance.now() }));
      res.on('error', reject);
    });
    req.setTimeout(60000, () => req.destroy(new Error(`${url}: no end within 60 s`)));
    req.on('error', reject);
  });
}

/**
 * Event streams of many jobs resumed at once (`Last-Event-ID`), as the clients of a stopped
 * API reconnect to another: each must find its job's entries in its queue's stream, which
 * BullMQ does not index by job. Finished echo jobs fill the stream to about its length
 * (BullMQ keeps ~10,000 entries), then `RESUMES` streams of different jobs are resumed at
 * once from its oldest entry and read to their end. Reports the API's CPU per resume and
 * the time to the last stream's end; each run waits out what the API keeps of earlier reads
 * (stream-resume.ts, KEEP_MS) and resumes other jobs.
 */
export async function measureResumes(b: Bench, api: RunningApi): Promise<Figure> {
  const resumes = b.args.quick ? 20 : 200;
  const runs = Math.max(1, b.args.runs);
  const keys = createKeyspace(NAMESPACE);
  const stream = keys.events('echo');
  const redis = b.redis.client;
  const agent = keepAlive(200);
  const ids: string[] = [];
  try {
    // About four entries per job (added, waiting, active, completed).
    const wanted = b.args.quick ? 1000 : 10_000;
    for (let batch = 0; (await redis.xlen(stream)) < wanted || ids.length < resumes * runs; batch++) {
      const jobs = Array.from({ length: 100 }, (_, i) => ({ type: 'echo', data: echoData(batch * 100 + i) }));
      const r = await request(agent, `${api.url}/jobs/batch`, 'POST', { jobs });
      if (r.status !== 202) throw new Error(`resumes: batch submit answered ${r.status}: ${r.body}`);
      ids.push(...(JSON.parse(r.body) as { jobs: { id: string }[] }).jobs.map((j) => j.id));
      const last = await request(agent, `${api.url}/jobs/${ids[ids.length - 1]}/result?wait=10`);
      if (!last.body.includes('"completed"')) throw new Error(`resumes: a job did not complete: ${last.body}`);
    }
    const entries = await redis.xlen(stream);
    const out = [];
    for (let run = 0; run < runs; run++) {
      await sleep(2500);
      const oldest = ((await redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][])[0][0];
      // The newest jobs: the stream holds all of their entries, so every resume is a full one.
      const picked = ids.slice(ids.length - resumes * (run + 1), ids.length - resumes * run);
      const cpu0 = cpuSeconds(api.pid);
      const started = performance.now();
      const answers = await Promise.all(picked.map((id) => resume(agent, `${api.url}/jobs/${id}/events`, oldest)));
      const cpuMs = (cpuSeconds(api.pid) - cpu0) * 1000;
      const refused = answers.filter((a) => a.status !== 200).length;
      if (refused > 0) throw new Error(`resumes: ${refused} of ${resumes} resumes were not answered 200`);
      const lastMs = Math.max(...answers.map((a) => a.doneAt)) - started;
      out.push({ value: round(cpuMs / resumes, 2), apiCpuMs: round(cpuMs, 0), lastAnswerMs: round(lastMs, 0), resumes, streamEntries: entries });
      b.log(
        `  resumes run ${run + 1}: ${resumes} streams resumed at once from the oldest of ${entries} entries: API CPU ${round(cpuMs, 0)} ms (${round(cpuMs / resumes, 2)} ms each), last stream ended after ${round(lastMs, 0)} ms`,
      );
    }
    return { value: median(out.map((r) => r.value)), unit: 'ms', baseline: null, baselineName: '—', runs: out };
  } finally {
    agent.destroy();
  }
}
