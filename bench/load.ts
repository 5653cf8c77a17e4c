/**
 * `npm run load -- --concurrency 10 --reps 5`: the article's `siege -c10 -r 5`, against
 * a running API on this machine. Hits /prodcons, /pubsub and POST /jobs (echo), prints a
 * table per route, then checks that every accepted job completed and the list drained.
 * Exit 0: nothing lost and every request answered 2xx/3xx; 1: something was, or the API
 * could not be reached; 2: usage.
 */
import { parseLoadArgs, USAGE, UsageError } from './load/args';
import { unreachable } from './load/reachable';
import { runLoad } from './load/run-load';

try {
  const args = parseLoadArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const problem = await unreachable(args.url);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const outcome = await runLoad(args, (line) => console.log(line));
  process.exit(outcome.exitCode);
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`load run failed: ${(err as Error).message}`);
  process.exit(1);
}
