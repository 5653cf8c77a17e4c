import { batchBodyOf, toJobResource } from '@async-jobs/shared';
import { z } from 'zod';
import type { AppContext } from '../deps';
import { submitBatch } from '../jobs/submit-batch';
import { checkSubmission, type Submission } from '../jobs/validate-submission';
import { jobsRefused, parseOr400, type ProblemDetail } from '../middleware/validate';
import type { RouteHandler } from '../route-handler';

/** The envelope only; each item is then checked as a POST /jobs body, so its problems carry its index. */
const envelope = batchBodyOf(z.unknown());

/**
 * POST /jobs/batch: every item is validated before anything is written; one bad item
 * rejects the batch with every problem of every item in `details`.
 *
 * Idempotency keys are refused here, in items and as the `Idempotency-Key` header
 * (400): a per-item key would make one request partly a replay and partly new, and
 * a key for the whole batch is not implemented. Retry a batch safely by sending its
 * jobs one by one with keys, or by reading `GET /jobs` before resending.
 */
export const batchRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const { jobs } = parseOr400(envelope, req.body);
    const problems: ProblemDetail[] = [];
    if (req.header('Idempotency-Key') !== undefined) {
      problems.push({ path: 'Idempotency-Key', message: 'idempotency keys are not supported on POST /jobs/batch' });
    }
    const subs: Submission[] = [];
    for (const [index, item] of jobs.entries()) {
      const checked = checkSubmission(item, ['jobs', index], ctx.config);
      if (!checked.ok) {
        problems.push(...checked.details.map((d) => ({ ...d, index })));
      } else if (checked.value.options.idempotencyKey !== undefined) {
        const path = `jobs.${index}.options.idempotencyKey`;
        problems.push({ index, path, message: 'idempotency keys are not supported inside a batch' });
      } else {
        subs.push(checked.value);
      }
    }
    if (problems.length > 0) throw jobsRefused(problems, 'the batch');
    const records = await submitBatch(ctx, subs);
    return { status: 202, body: { jobs: records.map(toJobResource) } };
  };
