import { z } from 'zod';
import type { Config } from '../config';
import { createHostAllowlist, hostLabel, type HostAllowlist } from '../host-allowlist';
import { httpUrl } from '../schemas/http-url';
import type { JobTypeDefinition } from './definition';

/** RFC 9110's token, what a header name is made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What would end the header line early, or split the request. */
const HEADER_VALUE = /^[^\r\n\0]*$/;

/**
 * Headers the HTTP client writes itself, from the URL and the body: given by hand, they
 * made every attempt fail (content-length that disagrees with the body left the request
 * hanging until its timeout; the others are refused by the client) or were dropped (host).
 */
const CLIENT_HEADERS = new Set(['content-length', 'transfer-encoding', 'host', 'keep-alive', 'upgrade', 'expect']);

/** Each configuration's allowlist, parsed once: a batch checks every item against it. */
const allowlists = new WeakMap<readonly string[], HostAllowlist>();
function allowlistOf(config: Config): HostAllowlist {
  let list = allowlists.get(config.HTTP_ALLOWED_HOSTS);
  if (!list) {
    list = createHostAllowlist(config.HTTP_ALLOWED_HOSTS);
    allowlists.set(config.HTTP_ALLOWED_HOSTS, list);
  }
  return list;
}

export const httpRequest = {
  name: 'http.request',
  description: 'Calls another server over HTTP(S); only hosts in HTTP_ALLOWED_HOSTS may be called.',
  // Refused here rather than by the HTTP client at run time: such a request fails every attempt.
  input: z
    .strictObject({
      url: httpUrl('send them in a header (authorization)'),
      method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
      headers: z
        .record(
          z.string().regex(HEADER_NAME, "a header name must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"),
          z.string().regex(HEADER_VALUE, 'a header value cannot hold CR, LF or NUL'),
        )
        .default({}),
      /** A string is sent as is; anything else is sent as JSON. */
      body: z.unknown().optional(),
    })
    .superRefine(
      (req, ctx) => {
        if ((req.method === 'GET' || req.method === 'HEAD') && req.body !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${req.method} request has no body` });
        }
        for (const name of Object.keys(req.headers ?? {})) {
          if (CLIENT_HEADERS.has(name.toLowerCase())) {
            ctx.addIssue({ code: 'custom', path: ['headers', name], message: `${name} is written by the HTTP client from the URL and the body; leave it out` });
          }
        }
      },
      // Also when the rest has problems (the object as far as it parsed): a 400 lists every problem at once.
      { when: ({ value }) => typeof value === 'object' && value !== null },
    ),
  result: z.strictObject({
    status: z.number().int().min(100).max(499).meta({ description: "The answer's status; a 5xx fails the attempt instead." }),
    headers: z.record(z.string(), z.string()).meta({ description: "The answer's headers, names in lower case." }),
    body: z.unknown().meta({ description: 'The parsed JSON when the answer says it is JSON and it parses; otherwise the text (empty for no body).' }),
  }),
  // The first hop only: where a redirect leads is known when the worker follows it.
  refusal(input, config) {
    const url = new URL((input as { url: string }).url);
    if (allowlistOf(config).allows(url)) return null;
    return { path: ['url'], message: `host ${hostLabel(url)} is not in HTTP_ALLOWED_HOSTS` };
  },
} as const satisfies JobTypeDefinition;
