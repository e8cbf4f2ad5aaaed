package dev.verge.hostos.sim;

import dev.verge.hostos.Address;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Link;
import dev.verge.hostos.Pinger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sim's ping: no packet leaves, the answer follows the sim kernel's state as the real kernel's
 * would (the link must exist, be up with carrier and own the source address; the destination must
 * be on one of the link's subnets, which a gateway is) and what the test made of the neighbours:
 * a {@link #silence silenced} one never answers, as a router that drops ICMP. It answers at once,
 * so tests on a manual clock do not wait for the timeout.
 */
public final class SimPinger implements Pinger {
  /** What every answered echo takes. */
  public static final Duration ROUND_TRIP = Duration.ofMillis(1);

  private final SimKernel kernel;
  private final Set<InetAddress> silent = ConcurrentHashMap.newKeySet();
  private final Map<InetAddress, Integer> requests = new ConcurrentHashMap<>();

  SimPinger(SimKernel kernel) {
    this.kernel = kernel;
  }

  /** The neighbour stops answering echo requests (its link stays up). */
  public void silence(InetAddress neighbour) {
    silent.add(neighbour);
  }

  /** The neighbour answers again. */
  public void answer(InetAddress neighbour) {
    silent.remove(neighbour);
  }

  /** How many echo requests were sent to the address. */
  public int requests(InetAddress destination) {
    return requests.getOrDefault(destination, 0);
  }

  @Override
  public Duration echo(String link, InetAddress source, InetAddress destination, Duration timeout) {
    String object = destination.getHostAddress() + " from " + source.getHostAddress() + " on " + link;
    if (!(source instanceof Inet4Address) || !(destination instanceof Inet4Address)) {
      throw new HostException("ping", object, Errno.EAFNOSUPPORT, "only IPv4 echo is supported");
    }
    Link l = kernel.link(link).orElseThrow(() -> new HostException("ping", object, Errno.ENODEV, "no link " + link));
    if (!l.up() || !l.carrier()) {
      throw new HostException("ping", object, Errno.ENETDOWN, link + " is " + (l.up() ? "without carrier" : "down"));
    }
    List<Address> addresses = kernel.addresses(link);
    if (addresses.stream().noneMatch(a -> a.prefix().address().equals(source))) {
      throw new HostException("ping", object, Errno.EADDRNOTAVAIL, source.getHostAddress() + " is not an address of " + link);
    }
    if (addresses.stream().noneMatch(a -> a.prefix().contains(destination))) {
      throw new HostException("ping", object, Errno.EHOSTUNREACH,
          "not on a subnet of " + link + " (the sim answers on-link neighbours only)");
    }
    requests.merge(destination, 1, Integer::sum);
    if (silent.contains(destination)) {
      throw new HostException("ping", object, Errno.ETIMEDOUT, "no echo reply within " + timeout.toMillis() + " ms");
    }
    return ROUND_TRIP;
  }
}
