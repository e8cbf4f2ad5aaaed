package dev.verge.hostos;

import java.net.InetAddress;
import java.util.Optional;

/** A route to add or delete, naming its output link by name. */
public record RouteRequest(
    IpPrefix destination,
    Optional<InetAddress> gateway,
    Optional<String> device,
    int table,
    int metric,
    RouteType type) {
  public static final int MAIN_TABLE = 254;

  public RouteRequest {
    destination = destination.network();
    if (table < 1) {
      throw new IllegalArgumentException("routing table " + table + " must be positive");
    }
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
    return new RouteRequest(destination, gateway, device, newTable, metric, type);
  }

  public RouteRequest withMetric(int newMetric) {
    return new RouteRequest(destination, gateway, device, table, newMetric, type);
  }

  public RouteRequest withDevice(String newDevice) {
    return new RouteRequest(destination, gateway, Optional.of(newDevice), table, metric, type);
  }

  @Override
  public String toString() {
    return destination
        + gateway.map(g -> " via " + g.getHostAddress()).orElse("")
        + device.map(d -> " dev " + d).orElse("")
        + " table " + table
        + (metric != 0 ? " metric " + metric : "");
  }
}
