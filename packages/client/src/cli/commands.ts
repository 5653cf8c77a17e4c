import type { AsyncJobsClient } from '../client';
import type { Job, JobState } from '../types';
import { parseData, type Invocation } from './args';
import { exitCodeOf, exitCodes } from './exit-codes';
import { printJson, type Output } from './output';
import { watch } from './watch';

export interface Runtime {
  client: AsyncJobsClient;
  o: Output;
  /** Aborts on Ctrl-C, so that a wait or a stream stops cleanly. */
  signal: AbortSignal;
  readStdin(): Promise<string>;
}

/** Runs one command; resolves with the exit code. */
export async function runCommand(inv: Invocation, rt: Runtime): Promise<number> {
  const { client, o, signal } = rt;
  const [first, second] = inv.args;
  switch (inv.command) {
    case 'submit': {
      const data = parseData(second === '-' ? await rt.readStdin() : second);
      const { job, replayed } = await client.submit(first, data, inv.jobOptions, { signal });
      if (replayed) o.err(`async-jobs: idempotent replay: job ${job.id} was submitted before with this key; nothing new was enqueued\n`);
      if (!inv.wait) return printed(o, job);
      const ended = await client.result(job.id, { signal });
      printJson(o, ended);
      return exitCodeOf(ended);
    }
    case 'get':
      return printed(o, await client.get(first, { signal }));
    case 'watch':
      return watch(client, first, o, signal);
    case 'cancel':
      return printed(o, await client.cancel(first, { signal }));
    case 'retry':
      return printed(o, await client.retry(first, { signal }));
    case 'list':
      for await (const job of client.list({ type: inv.type, state: inv.state as JobState | undefined, signal })) {
        if (o.tty) o.out(`${job.id}  ${job.type}  ${job.state}  ${job.submittedAt ?? ''}\n`);
        else printJson(o, job);
      }
      return exitCodes.ok;
    case 'types':
      for (const t of await client.types({ signal })) {
        if (o.tty) o.out(`${t.name}  ${t.description}\n`);
        else printJson(o, t);
      }
      return exitCodes.ok;
    case 'help':
      return exitCodes.ok;
  }
}

function printed(o: Output, job: Job): number {
  printJson(o, job);
  return exitCodes.ok;
}
