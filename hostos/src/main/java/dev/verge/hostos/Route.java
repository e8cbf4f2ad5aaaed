package dev.verge.hostos;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A route as the kernel reports it.
 *
 * @param linkIndex the output link, 0 for routes without one (blackhole, unreachable)
 * @param metric the priority; lower wins
 */
public record Route(
    IpPrefix destination,
    Optional<InetAddress> gateway,
    int linkIndex,
    int table,
    int metric,
    RouteType type) {}
