package dev.verge.hostos;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A lease as the server gave it. Nothing of it is applied by the client: the agent installs the
 * address, routes and DNS servers it wants.
 *
 * @param address the leased address with the subnet's prefix length
 * @param routers option 3, in the server's order of preference
 * @param dnsServers option 6
 * @param domain option 15
 * @param leaseTime option 51
 * @param server the server that granted it (option 54)
 * @param ntpServers option 42, in the server's order
 */
public record DhcpLease(
    IpPrefix address,
    List<InetAddress> routers,
    List<InetAddress> dnsServers,
    Optional<String> domain,
    Duration leaseTime,
    Optional<InetAddress> server,
    List<InetAddress> ntpServers) {
  public DhcpLease {
    routers = List.copyOf(routers);
    dnsServers = List.copyOf(dnsServers);
    ntpServers = List.copyOf(ntpServers);
  }

  /** A lease without NTP servers. */
  public DhcpLease(IpPrefix address, List<InetAddress> routers, List<InetAddress> dnsServers, Optional<String> domain,
      Duration leaseTime, Optional<InetAddress> server) {
    this(address, routers, dnsServers, domain, leaseTime, server, List.of());
  }

  public DhcpLease withNtpServers(List<InetAddress> servers) {
    return new DhcpLease(address, routers, dnsServers, domain, leaseTime, server, servers);
  }
}
