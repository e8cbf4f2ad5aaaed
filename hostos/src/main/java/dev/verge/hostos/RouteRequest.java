package dev.verge.hostos;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A route to add, replace or delete, naming its output link by name.
 *
 * @param preferredSource the source address for traffic it carries (must be an address of this
 *     host, else EINVAL)
 * @param scope empty: the kernel's usual choice ({@link #effectiveScope()})
 * @param protocol recorded with the route (rtm_protocol), e.g. to recognise one's own routes;
 *     deletion matches any protocol
 */
public record RouteRequest(
    IpPrefix destination,
    Optional<InetAddress> gateway,
    Optional<String> device,
    int table,
    int metric,
    RouteType type,
    Optional<InetAddress> preferredSource,
    Optional<RouteScope> scope,
    int protocol) {
  public static final int MAIN_TABLE = 254;

  public RouteRequest {
    destination = destination.network();
    if (table < 1) {
      throw new IllegalArgumentException("routing table " + table + " must be positive");
    }
    if (protocol < 0 || protocol > 255) {
      throw new IllegalArgumentException("route protocol " + protocol + " out of 0..255");
    }
  }

  /** A route with the kernel's usual scope, no preferred source, protocol boot. */
  public RouteRequest(
      IpPrefix destination,
      Optional<InetAddress> gateway,
      Optional<String> device,
      int table,
      int metric,
      RouteType type) {
    this(destination, gateway, device, table, metric, type, Optional.empty(), Optional.empty(),
        Route.PROTOCOL_BOOT);
  }

  /** A unicast route through a link, without gateway. */
  public static RouteRequest onLink(String destination, String device) {
    return new RouteRequest(
        IpPrefix.parse(destination), Optional.empty(), Optional.of(device), MAIN_TABLE, 0,
        RouteType.UNICAST);
  }

  /** A unicast route via a gateway. */
  public static RouteRequest via(String destination, String gateway) {
    return new RouteRequest(
        IpPrefix.parse(destination), Optional.of(IpPrefix.literal(gateway)), Optional.empty(),
        MAIN_TABLE, 0, RouteType.UNICAST);
  }

  public RouteRequest inTable(int newTable) {
    return new RouteRequest(destination, gateway, device, newTable, metric, type, preferredSource, scope, protocol);
  }

  public RouteRequest withMetric(int newMetric) {
    return new RouteRequest(destination, gateway, device, table, newMetric, type, preferredSource, scope, protocol);
  }

  public RouteRequest withDevice(String newDevice) {
    return new RouteRequest(destination, gateway, Optional.of(newDevice), table, metric, type, preferredSource,
        scope, protocol);
  }

  public RouteRequest withPreferredSource(String address) {
    return new RouteRequest(destination, gateway, device, table, metric, type,
        Optional.of(IpPrefix.literal(address)), scope, protocol);
  }

  public RouteRequest withScope(RouteScope newScope) {
    return new RouteRequest(destination, gateway, device, table, metric, type, preferredSource,
        Optional.of(newScope), protocol);
  }

  public RouteRequest withProtocol(int newProtocol) {
    return new RouteRequest(destination, gateway, device, table, metric, type, preferredSource, scope, newProtocol);
  }

  /**
   * The scope the route gets: the one asked for, else what {@code ip route} picks (host for local
   * and NAT routes; link for broadcast, multicast, anycast and for unicast without gateway;
   * universe otherwise). IPv6 routes are always universe.
   */
  public RouteScope effectiveScope() {
    if (!destination.isIpv4()) {
      return RouteScope.UNIVERSE;
    }
    if (scope.isPresent()) {
      return scope.get();
    }
    return switch (type) {
      case LOCAL, NAT -> RouteScope.HOST;
      case BROADCAST, MULTICAST, ANYCAST -> RouteScope.LINK;
      case UNICAST, UNSPEC -> gateway.isEmpty() ? RouteScope.LINK : RouteScope.UNIVERSE;
      default -> RouteScope.UNIVERSE;
    };
  }

  @Override
  public String toString() {
    return (type != RouteType.UNICAST ? type.name().toLowerCase(java.util.Locale.ROOT) + " " : "")
        + destination
        + gateway.map(g -> " via " + g.getHostAddress()).orElse("")
        + device.map(d -> " dev " + d).orElse("")
        + " table " + table
        + (metric != 0 ? " metric " + metric : "")
        + preferredSource.map(s -> " src " + s.getHostAddress()).orElse("")
        + scope.map(s -> " scope " + s.name().toLowerCase(java.util.Locale.ROOT)).orElse("");
  }
}
