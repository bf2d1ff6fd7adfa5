import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * Special-purpose IPv6 ranges ipaddr.js 2.2 does not name, matched the same way: the local-use
 * NAT64 prefix (RFC 8215) and the deprecated IPv4-compatible form, which some stacks still route
 * to the IPv4 address in its last 32 bits.
 */
const UNNAMED_IPV6_RANGES: Record<string, [ipaddr.IPv6, number]> = {
  rfc8215: [ipaddr.IPv6.parse('64:ff9b:1::'), 48],
  ipv4Compatible: [ipaddr.IPv6.parse('::'), 96],
};

/** The IPv6 global unicast space (RFC 4291): ipaddr.js calls `unicast` whatever it does not name. */
const GLOBAL_UNICAST_IPV6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Why a webhook may not reach an address: the range it lies in, and the IPv4 it carries, if any. */
export interface Refusal {
  range: string;
  embeds?: { address: string; range: string };
}

/** The IPv4 address an IPv6 transition form delivers to, where its position is fixed. */
function embeddedIPv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  const [, p1, p2, , , , p6, p7] = address.parts;
  const fromGroups = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  switch (range) {
    case 'ipv4Mapped':
    case 'ipv4Compatible':
    case 'rfc6145': // SIIT
    case 'rfc6052': // NAT64, 64:ff9b::/96
      return fromGroups(p6, p7);
    case '6to4':
      return fromGroups(p1, p2);
    default:
      // Teredo obfuscates its client address, and a local-use NAT64 prefix may be of any
      // RFC 6052 length: refused for their prefix alone.
      return undefined;
  }
}

/**
 * Undefined when `address` is global unicast (a webhook may reach it), else why not. Judged by
 * range, never by spelling: every range ipaddr.js names is refused (loopback, private, link-local,
 * CGNAT, multicast, documentation, benchmarking, the IPv6 transition prefixes...), and so is IPv6
 * outside 2000::/3. A transition form (NAT64, 6to4, SIIT, IPv4-mapped) is refused for its prefix
 * whatever IPv4 it carries, since on a NAT64 or IPv6-only network it leads to that IPv4 address;
 * the IPv4 inside is judged and named too, so the refusal says where the address would lead.
 */
export function refusalOf(address: string): Refusal | undefined {
  if (!isIP(address)) return { range: 'not an IP address' };
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return range === 'unicast' ? undefined : { range };
  }
  const ipv6 = parsed as ipaddr.IPv6;
  let range: string = ipv6.range();
  if (range === 'unicast') range = ipaddr.subnetMatch(ipv6, UNNAMED_IPV6_RANGES, 'unicast');
  if (range === 'unicast' && !ipv6.match(GLOBAL_UNICAST_IPV6)) range = 'outside 2000::/3';
  if (range === 'unicast') return undefined;
  const carried = embeddedIPv4(ipv6, range);
  return carried
    ? { range, embeds: { address: carried.toString(), range: carried.range() } }
    : { range };
}

const describeRefusal = ({ range, embeds }: Refusal) =>
  embeds ? `${range}, carrying ${embeds.address}: ${embeds.range}` : range;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Why a URL may not be delivered to; the message is shown to the admin and in the attempts. */
export class UnsafeDestinationError extends Error {}

const LOOKUP_TIMEOUT_MS = 3000;

/**
 * Every address `host` resolves to, refused if any of them is blocked (unless private
 * destinations are allowed): checking only the first would let a name with one public and one
 * private record through, and the connection might use the private one. The caller connects to
 * an address returned here, never resolving the name again, so a record that changes in between
 * (DNS rebinding) cannot redirect it.
 */
export async function resolveDestination(
  host: string,
  allowPrivate: boolean,
): Promise<ResolvedAddress[]> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  let addresses: ResolvedAddress[];
  const literal = isIP(bare);
  if (literal) {
    addresses = [{ address: bare, family: literal as 4 | 6 }];
  } else {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answers = await Promise.race([
        lookup(bare, { all: true, verbatim: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), LOOKUP_TIMEOUT_MS);
        }),
      ]);
      addresses = answers.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (error) {
      throw new UnsafeDestinationError(
        `host ${bare} could not be resolved (${(error as Error & { code?: string }).code ?? (error as Error).message})`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (addresses.length === 0) {
      throw new UnsafeDestinationError(`host ${bare} could not be resolved`);
    }
  }
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const refusal = refusalOf(address);
      if (refusal) {
        throw new UnsafeDestinationError(
          `host ${bare} resolves to ${address}, which is not a global unicast address (${describeRefusal(refusal)}); set WEBHOOK_ALLOW_PRIVATE=true to allow`,
        );
      }
    }
  }
  return addresses;
}
