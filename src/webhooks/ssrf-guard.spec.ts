import { UnsafeDestinationError, refusalOf, resolveDestination } from './ssrf-guard';

/**
 * The guard judges an address by the range it lies in, whatever its spelling: one address per
 * range a webhook may not reach, and the IPv6 forms that carry an IPv4 address inside.
 */
describe('SSRF guard: which addresses a webhook may reach', () => {
  it.each([
    // IPv4
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.0.10', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.169.254', 'linkLocal'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'], // documentation
    ['198.18.0.1', 'reserved'], // benchmarking
    ['198.51.100.7', 'reserved'], // documentation
    ['203.0.113.7', 'reserved'], // documentation
    ['240.0.0.1', 'reserved'],
    ['192.175.48.1', 'as112'],
    ['192.52.193.1', 'amt'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['100::1', 'discard'],
    ['2001::1', 'teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['2001:2::1', 'benchmarking'],
    ['2001:3::1', 'amt'],
    ['2001:4:112::1', 'as112v6'],
    ['2001:10::1', 'deprecated'],
    ['2001:20::1', 'orchid2'],
    ['2001:db8::1', 'reserved'], // documentation
    ['2001:100::1', 'reserved'],
    ['64:ff9b:1::a9fe:a9fe', 'rfc8215'], // local-use NAT64
    ['fec0::1', 'outside 2000::/3'], // site-local (deprecated)
    ['4000::1', 'outside 2000::/3'],
  ])('finding 12: refuses %s (%s)', (address, range) => {
    expect(refusalOf(address)).toEqual({ range });
  });

  it.each([
    // NAT64 (RFC 6052) in front of the metadata service, loopback, a private and a public host.
    ['64:ff9b::a9fe:a9fe', 'rfc6052', '169.254.169.254', 'linkLocal'],
    ['64:ff9b::169.254.169.254', 'rfc6052', '169.254.169.254', 'linkLocal'],
    ['64:ff9b::7f00:1', 'rfc6052', '127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'rfc6052', '10.0.0.1', 'private'],
    ['64:ff9b::808:808', 'rfc6052', '8.8.8.8', 'unicast'],
    // 6to4 (RFC 3056): the IPv4 address is in the second and third groups.
    ['2002:a9fe:a9fe::1', '6to4', '169.254.169.254', 'linkLocal'],
    ['2002:7f00:1::', '6to4', '127.0.0.1', 'loopback'],
    ['2002:808:808::1', '6to4', '8.8.8.8', 'unicast'],
    // SIIT (RFC 6145), IPv4-mapped and the deprecated IPv4-compatible form.
    ['::ffff:0:a9fe:a9fe', 'rfc6145', '169.254.169.254', 'linkLocal'],
    ['::ffff:0:7f00:1', 'rfc6145', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'ipv4Mapped', '127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'ipv4Mapped', '169.254.169.254', 'linkLocal'],
    ['::ffff:8.8.8.8', 'ipv4Mapped', '8.8.8.8', 'unicast'],
    ['::7f00:1', 'ipv4Compatible', '127.0.0.1', 'loopback'],
  ])(
    'finding 12: refuses %s (%s), and names the IPv4 it carries',
    (address, range, v4, v4Range) => {
      expect(refusalOf(address)).toEqual({ range, embeds: { address: v4, range: v4Range } });
    },
  );

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001::1'])(
    'accepts the global unicast address %s',
    (address) => {
      expect(refusalOf(address)).toBeUndefined();
    },
  );

  it('finding 12: refuses a literal NAT64 host before any lookup, naming what it embeds', async () => {
    const refused = await resolveDestination('[64:ff9b::a9fe:a9fe]', false).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(UnsafeDestinationError);
    expect((refused as Error).message).toBe(
      'host 64:ff9b::a9fe:a9fe resolves to 64:ff9b::a9fe:a9fe, which is not a global unicast address (rfc6052, carrying 169.254.169.254: linkLocal); set WEBHOOK_ALLOW_PRIVATE=true to allow',
    );
  });

  it('lets every address through when private destinations are allowed', async () => {
    await expect(resolveDestination('[64:ff9b::a9fe:a9fe]', true)).resolves.toEqual([
      { address: '64:ff9b::a9fe:a9fe', family: 6 },
    ]);
    await expect(resolveDestination('127.0.0.1', true)).resolves.toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
  });

  it('refuses a name whose resolved addresses include a loopback one', async () => {
    await expect(resolveDestination('localhost', false)).rejects.toThrow(
      /^host localhost resolves to (127\.0\.0\.1|::1), which is not a global unicast address \(loopback\)/,
    );
  });
});
