import { z } from 'zod';

/** Whether a URL names a user or a password (`https://user:pw@host/`). */
export const hasCredentials = (url: URL) => url.username !== '' || url.password !== '';

/**
 * An http(s) URL without credentials in it. fetch refuses to call one, so every attempt
 * would fail, and its error, logged and kept as the job's error, would carry the password.
 * `instead` says where credentials go.
 */
export function httpUrl(instead: string) {
  return z.url({ protocol: /^https?$/ }).refine(
    (u) => {
      try {
        return !hasCredentials(new URL(u));
      } catch {
        return true; // not a URL: z.url() has said so
      }
    },
    { message: `a URL with credentials (user:password@) is refused; ${instead}` },
  );
}
