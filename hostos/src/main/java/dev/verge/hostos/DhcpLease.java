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
 */
public record DhcpLease(
    IpPrefix address,
    List<InetAddress> routers,
    List<InetAddress> dnsServers,
    Optional<String> domain,
    Duration leaseTime,
    Optional<InetAddress> server) {
  public DhcpLease {
    routers = List.copyOf(routers);
    dnsServers = List.copyOf(dnsServers);
  }
}
