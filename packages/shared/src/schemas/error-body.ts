import { z } from 'zod';

/** One problem in `details`: the JSON path of the offending value (e.g. `data.ms`), and for a batch the item's index. */
export const problemDetailSchema = z.looseObject({
  path: z.string(),
  message: z.string(),
  index: z.number().int().min(0).optional(),
});

/**
 * The body of every 4xx/5xx answer (docs/http-api.md "Errors"). `code` is a string rather than
 * an enum so that a client generated from the document keeps working when a code is added.
 */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({
      description:
        'Stable machine-readable code: invalid_json, validation_failed, unknown_type, unauthorized, not_found, ' +
        'expired, conflict, payload_too_large, unsupported_media_type, rate_limited, unavailable, internal; ' +
        'method_not_allowed (405, with an `Allow` header, for a path served with other methods); ' +
        'forbidden (a CORS preflight from an origin not in CORS_ORIGINS), and bad_request, headers_too_large (431), ' +
        'request_timeout (408), expectation_failed (417) for requests that are not valid HTTP or ask what the server does not do.',
      examples: ['validation_failed'],
    }),
    message: z.string().meta({ description: 'A human sentence; not for parsing.' }),
    details: z.array(problemDetailSchema).optional(),
  }),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;
