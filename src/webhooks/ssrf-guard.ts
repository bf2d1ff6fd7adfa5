import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may not point: the server's own loopback, the private networks around it,
 * link-local (169.254.169.254 is the cloud metadata service), unspecified, multicast, CGNAT and
 * reserved ranges. Node's BlockList also matches the IPv4-mapped IPv6 forms (`::ffff:127.0.0.1`)
 * against the IPv4 ranges.
 */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", and 0.0.0.0 itself
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated), which some stacks still route to IPv4
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

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
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked) {
      throw new UnsafeDestinationError(
        `host ${bare} resolves to ${blocked.address}, a loopback, private, link-local or reserved address (set WEBHOOK_ALLOW_PRIVATE=true to allow)`,
      );
    }
  }
  return addresses;
}
