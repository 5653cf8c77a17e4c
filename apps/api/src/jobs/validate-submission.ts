import { callbackRefusal, HttpError, jobTypeNames, type Config, jobTypes, plainErrors, submitBodySchema, type SubmitOptions } from '@async-jobs/shared';
import { issuesToDetails, validationFailed, type ProblemDetail } from '../middleware/validate';

export interface Submission {
  type: string;
  /** The data as submitted: what the BullMQ job carries (a worker validates it again). */
  data: unknown;
  /** The data after validation, defaults applied: what idempotency compares. */
  input: unknown;
  options: SubmitOptions;
}

type Checked = { ok: true; value: Submission } | { ok: false; error: HttpError; details: ProblemDetail[] };

/** Validates one `{ type, data, options }` with the shared schemas, the same ones the worker uses. */
export function checkSubmission(body: unknown, prefix: (string | number)[], config: Config): Checked {
  const envelope = submitBodySchema.safeParse(body, { error: plainErrors(prefix) });
  if (!envelope.success) {
    const details = issuesToDetails(envelope.error, prefix);
    return { ok: false, error: validationFailed(details), details };
  }
  const { type, data, options } = envelope.data;
  const def = jobTypes.get(type);
  if (!def) {
    const details = [{ path: [...prefix, 'type'].join('.'), message: `unknown job type "${type}"`, knownTypes: jobTypeNames }];
    return { ok: false, error: new HttpError(400, 'unknown_type', `unknown job type "${type}"`, details), details };
  }
  const input = def.input.safeParse(data, { error: plainErrors([...prefix, 'data']) });
  if (!input.success) {
    const details = issuesToDetails(input.error, [...prefix, 'data']);
    return { ok: false, error: validationFailed(details), details };
  }
  const refusal = options.callbackUrl ? callbackRefusal(config, options.callbackUrl) : null;
  if (refusal) {
    const details = [{ path: [...prefix, 'options', 'callbackUrl'].join('.'), message: refusal }];
    return { ok: false, error: validationFailed(details), details };
  }
  return { ok: true, value: { type, data, input: input.data, options } };
}
