package dev.verge.hostos;

import java.net.InetAddress;
import java.time.Duration;

/**
 * ICMP echo (ping) from one link of the host's namespace: the request leaves through that link
 * only (bound to it, whatever the routing tables say), from one of its addresses. What an uplink
 * probe needs to ask "does the router beyond this port answer?".
 */
public interface Pinger {
  /**
   * Sends one IPv4 echo request and waits for its reply.
   *
   * @param link the link the request must leave through
   * @param source the address it is sent from (one of the link's)
   * @return the round trip
   * @throws HostException {@code ETIMEDOUT} when no reply came within {@code timeout}; the errno of
   *     the kernel (or the sim's model of it) when the request could not be sent at all
   */
  Duration echo(String link, InetAddress source, InetAddress destination, Duration timeout);
}
