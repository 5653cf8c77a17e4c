/**
 * HTTP_ALLOWED_HOSTS: entries are `host` (any port) or `host:port`; IPv6 hosts in
 * brackets (`[::1]:8080`). Host names compare lowercased; a URL without a port
 * means 80 for http and 443 for https.
 */
export interface HostAllowlist {
  allows(url: URL): boolean;
}

interface Entry {
  host: string;
  port: number | null;
}

function parseEntry(raw: string): Entry {
  const s = raw.trim().toLowerCase();
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : null };
  // More than one colon and no brackets: a bare IPv6 address, which cannot carry a port.
  if (s.indexOf(':') !== s.lastIndexOf(':')) return { host: `[${s}]`, port: null };
  const colon = s.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(s.slice(colon + 1))) return { host: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
  return { host: s, port: null };
}

export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** How messages name the place a URL points at: its host and the port it would use. */
export const hostLabel = (url: URL) => `${url.hostname}:${effectivePort(url)}`;

export function createHostAllowlist(entries: readonly string[]): HostAllowlist {
  const parsed = entries.map(parseEntry);
  return {
    allows(url) {
      // URL already lowercases host names; brackets stay on IPv6 literals, as in the entries.
      const host = url.hostname.toLowerCase();
      const port = effectivePort(url);
      return parsed.some((e) => e.host === host && (e.port === null || e.port === port));
    },
  };
}
