import { callbackRefusal, type HttpError, type Config, jobTypes, plainErrors, submitBodySchema, type SubmitOptions } from '@async-jobs/shared';
import { issuesToDetails, unknownTypeRefused, unknownTypeDetail, validationFailed, type ProblemDetail } from '../middleware/validate';

export interface Submission {
  type: string;
  /** The data as submitted: what the BullMQ job carries (a worker validates it again). */
  data: unknown;
  /** The data after validation, defaults applied: what idempotency compares. */
  input: unknown;
  options: SubmitOptions;
}

type Checked = { ok: true; value: Submission } | { ok: false; error: HttpError; details: ProblemDetail[] };

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates one `{ type, data, options }` with the shared schemas, the same ones the worker uses.
 *
 * Every problem is reported at once (docs/http-api.md: "400 lists every problem of the
 * body"): the envelope (type, options, unknown fields), the data against its type's
 * schema whenever the type is a registered one, what the settings refuse of that data
 * (an http.request host outside HTTP_ALLOWED_HOSTS), and a refused callbackUrl. An unknown
 * type is its own problem, and data is not checked against it: alone it is
 * `unknown_type`, with other problems it is one of the `validation_failed` details.
 */
export function checkSubmission(body: unknown, prefix: (string | number)[], config: Config): Checked {
  return acceptedAsIs(body, config) ?? explainRefusal(body, prefix, config);
}

/**
 * The submission when nothing is wrong with it, else null; what a batch of valid jobs takes.
 * Accepts exactly what explainRefusal accepts, without the paths and messages a refusal needs:
 * building those for every item was a tenth of what a POST /jobs/batch allocated.
 */
function acceptedAsIs(body: unknown, config: Config): Checked | null {
  const envelope = submitBodySchema.safeParse(body);
  if (!envelope.success) return null;
  const { type, data, options } = envelope.data;
  const def = jobTypes.get(type);
  const input = def?.input.safeParse(data);
  if (!input?.success || def?.refusal?.(input.data, config)) return null;
  if (options.callbackUrl !== undefined && callbackRefusal(config, options.callbackUrl) !== null) return null;
  return { ok: true, value: { type, data, input: input.data, options } };
}

function explainRefusal(body: unknown, prefix: (string | number)[], config: Config): Checked {
  const details: ProblemDetail[] = [];
  const envelope = submitBodySchema.safeParse(body, { error: plainErrors(prefix) });
  if (!envelope.success) details.push(...issuesToDetails(envelope.error, prefix));
  const raw = isPlainObject(body) ? body : undefined;
  const typePath = [...prefix, 'type'].join('.');
  const type = typeof raw?.type === 'string' && !details.some((d) => d.path === typePath) ? raw.type : undefined;
  const def = type === undefined ? undefined : jobTypes.get(type);
  const unknownType = type !== undefined && !def ? unknownTypeDetail(typePath, type) : undefined;
  // The envelope's one word on data is that it is missing: then there is nothing more to say about it.
  const dataPath = [...prefix, 'data'].join('.');
  const checkData = def && !details.some((d) => d.path === dataPath);
  const input = checkData ? def.input.safeParse(raw?.data, { error: plainErrors([...prefix, 'data']) }) : undefined;
  const dataDetails = input && !input.success ? issuesToDetails(input.error, [...prefix, 'data']) : [];
  const settingRefusal = input?.success ? def?.refusal?.(input.data, config) : null;
  if (settingRefusal) dataDetails.push({ path: [...prefix, 'data', ...settingRefusal.path].join('.'), message: settingRefusal.message });
  const options = raw?.options;
  const callbackPath = [...prefix, 'options', 'callbackUrl'].join('.');
  const callbackUrl = isPlainObject(options) && typeof options.callbackUrl === 'string' ? options.callbackUrl : undefined;
  const refusal = callbackUrl !== undefined && !details.some((d) => d.path === callbackPath) ? callbackRefusal(config, callbackUrl) : null;
  // In the body's order: type, data, options; then fields the body should not have.
  const problems = [
    ...details.filter((d) => d.path === typePath),
    ...(unknownType ? [unknownType] : []),
    ...dataDetails,
    ...details.filter((d) => d.path !== typePath),
    ...(refusal ? [{ path: callbackPath, message: refusal }] : []),
  ];
  if (unknownType && problems.length === 1) {
    return { ok: false, error: unknownTypeRefused(unknownType), details: problems };
  }
  if (problems.length > 0 || !envelope.success || !input?.success) {
    const all = problems.length > 0 ? problems : [{ path: prefix.join('.') || '(root)', message: 'the body must be an object' }];
    return { ok: false, error: validationFailed(all), details: all };
  }
  const { data, options: checked } = envelope.data;
  return { ok: true, value: { type: envelope.data.type, data, input: input.data, options: checked } };
}
