package dev.verge.hostos;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A route as the kernel reports it.
 *
 * @param linkIndex the output link, 0 for routes without one (blackhole, unreachable)
 * @param metric the priority; lower wins (IPv6 routes added with 0 get the kernel's 1024)
 * @param preferredSource the source address for traffic it carries (RTA_PREFSRC); connected and
 *     local routes have the address they come from
 * @param protocol who made it (rtm_protocol): {@link #PROTOCOL_KERNEL} for connected and local
 *     routes, {@link #PROTOCOL_BOOT} for routes added without naming one
 */
public record Route(
    IpPrefix destination,
    Optional<InetAddress> gateway,
    int linkIndex,
    int table,
    int metric,
    RouteType type,
    Optional<InetAddress> preferredSource,
    RouteScope scope,
    int protocol) {
  /** Routes the kernel derives itself (from addresses). */
  public static final int PROTOCOL_KERNEL = 2;
  /** The kernel's name for "added by someone, no more said": what routes get by default. */
  public static final int PROTOCOL_BOOT = 3;
  /** Added by an administrator on purpose. */
  public static final int PROTOCOL_STATIC = 4;

  /** Whether a NEW route announcement for {@code other} replaces this one (same table, destination, metric). */
  public boolean sameSlotAs(Route other) {
    return table == other.table && metric == other.metric && destination.equals(other.destination);
  }
}
