import type { HostAllowlist } from '@async-jobs/shared';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';

/*
 * The allowlist names hosts; this checks the addresses actually connected to.
 *
 * The rule: a URL's host must be in the allowlist (send.ts checks that, on every
 * redirect too). When the host is a name, each address it resolves to may be
 * connected to only if it is a public internet address, or is itself listed
 * (an IP entry, port permitting), or the listed name is `localhost` and the
 * address is loopback. So a listed name cannot be turned, by DNS rebinding or a
 * bad record, into a way to reach loopback, the private network or the cloud
 * metadata address (169.254.169.254); to call an internal service by name, list
 * its address as well. A host given as an IP literal must be listed as such.
 *
 * The check runs in the connector's DNS lookup, so it sees exactly the addresses
 * the socket then uses: there is no second resolution to race against.
 */

/** Special-purpose ranges (IANA registries): loopback, private, link-local, CGNAT, documentation, multicast, ... */
const SPECIAL_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
/**
 * IPv6 ones, including the forms that embed an IPv4 address (NAT64, 6to4, Teredo). IPv4-mapped
 * addresses (::ffff:a.b.c.d) need no entry: BlockList checks them against the IPv4 ranges.
 */
const SPECIAL_V6: Array<[string, number]> = [
  // IPv4-compatible (::a.b.c.d, deprecated; takes in :: and ::1) and IPv4-translated
  // (::ffff:0:a.b.c.d) addresses: a host that still routes them reaches the IPv4 inside.
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  // Site-local, deprecated but still private where it is used.
  ['fec0::', 10],
  ['ff00::', 8],
];
const special = new BlockList();
for (const [net, prefix] of SPECIAL_V4) special.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of SPECIAL_V6) special.addSubnet(net, prefix, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for an address on the public internet; false for special-purpose ranges and for what is not an address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !special.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why a connection was refused; send.ts turns it into a HostNotAllowedError. */
export class AddressNotAllowedError extends Error {
  override name = 'AddressNotAllowedError';
  readonly code = 'EADDRNOTALLOWED';
}

export type LookupFn = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const defaultLookup: LookupFn = (hostname, options, callback) => dnsLookup(hostname, options, callback);

/** May the connection to `hostname` (a name) on `port` use `address`? See the rule above. */
export function addressAllowed(allowlist: HostAllowlist, protocol: string, hostname: string, port: number, address: string): boolean {
  if (isPublicAddress(address)) return true;
  const family = isIP(address);
  if (family === 0) return false;
  if (hostname.toLowerCase() === 'localhost' && loopback.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
  const literal = family === 6 ? `[${address}]` : address;
  return allowlist.allows(new URL(`${protocol}//${literal}:${port}/`));
}

/** A DNS lookup for net/tls.connect that only returns addresses the rule allows, or fails with AddressNotAllowedError. */
function guardedLookup(allowlist: HostAllowlist, protocol: string, port: number, resolve: LookupFn, listName: string) {
  return (hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const ok = addresses.filter((a) => addressAllowed(allowlist, protocol, hostname, port, a.address));
      if (ok.length === 0) {
        const seen = addresses.map((a) => a.address).join(', ');
        return callback(new AddressNotAllowedError(`${hostname} resolves to ${seen}: not a public address, and not in ${listName}`));
      }
      if (options.all) callback(null, ok);
      else callback(null, ok[0].address, ok[0].family);
    });
  };
}

/**
 * An undici dispatcher whose every new connection resolves its host through the
 * guarded lookup. `resolve` is for tests (a fake DNS); the default is the system resolver.
 */
export function guardedAgent(allowlist: HostAllowlist, resolve: LookupFn = defaultLookup, listName = 'HTTP_ALLOWED_HOSTS'): Agent {
  return new Agent({
    connect(opts, callback) {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      const lookup = guardedLookup(allowlist, opts.protocol, port, resolve, listName) as never;
      buildConnector({ lookup })(opts, callback);
    },
  });
}
