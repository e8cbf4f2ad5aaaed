package dev.verge.hostos.nft;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** nft's symbolic constants that the model uses, with their numbers. */
public final class Symbols {
  private Symbols() {}

  public static final Map<String, Integer> PROTOCOLS =
      Map.of("icmp", 1, "igmp", 2, "tcp", 6, "udp", 17, "gre", 47, "esp", 50, "ah", 51,
          "icmpv6", 58, "sctp", 132);

  public static final Map<String, Integer> ICMP_TYPES =
      Map.ofEntries(
          Map.entry("echo-reply", 0), Map.entry("destination-unreachable", 3),
          Map.entry("source-quench", 4), Map.entry("redirect", 5), Map.entry("echo-request", 8),
          Map.entry("router-advertisement", 9), Map.entry("router-solicitation", 10),
          Map.entry("time-exceeded", 11), Map.entry("parameter-problem", 12),
          Map.entry("timestamp-request", 13), Map.entry("timestamp-reply", 14));

  public static final Map<String, Integer> ICMPV6_TYPES =
      Map.ofEntries(
          Map.entry("destination-unreachable", 1), Map.entry("packet-too-big", 2),
          Map.entry("time-exceeded", 3), Map.entry("parameter-problem", 4),
          Map.entry("echo-request", 128), Map.entry("echo-reply", 129),
          Map.entry("mld-listener-query", 130), Map.entry("nd-router-solicit", 133),
          Map.entry("nd-router-advert", 134), Map.entry("nd-neighbor-solicit", 135),
          Map.entry("nd-neighbor-advert", 136), Map.entry("nd-redirect", 137));

  /** EtherTypes a frame's {@code ether type} names. */
  public static final Map<String, Integer> ETHER_TYPES = Map.of("ip", 0x0800, "arp", 0x0806, "ip6", 0x86dd,
      "vlan", 0x8100);

  public static final Map<String, Integer> NFPROTOS = Map.of("ipv4", 2, "ipv6", 10);

  public static final Set<String> CT_STATES = Set.of("invalid", "established", "related", "new", "untracked");

  public static final Set<String> CT_STATUSES =
      Set.of("expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying");

  public static final Set<String> TCP_FLAGS = Set.of("fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr");

  /** The number of a symbol of a numeric type (protocol, ICMP type, nfproto), if it is one. */
  public static Optional<Integer> number(DataType type, String symbol) {
    Map<String, Integer> table =
        switch (type) {
          case INET_PROTO -> PROTOCOLS;
          case ICMP_TYPE -> ICMP_TYPES;
          case ICMPV6_TYPE -> ICMPV6_TYPES;
          case NFPROTO -> NFPROTOS;
          case ETHER_TYPE -> ETHER_TYPES;
          default -> Map.of();
        };
    return Optional.ofNullable(table.get(symbol));
  }

  /** True when the name is a constant of the type (or any name, for interface names). */
  public static boolean isSymbolOf(DataType type, String symbol) {
    return switch (type) {
      case IFNAME -> !symbol.isEmpty() && symbol.length() < 16;
      case CT_STATE -> CT_STATES.contains(symbol);
      case CT_STATUS -> CT_STATUSES.contains(symbol);
      case TCP_FLAG -> TCP_FLAGS.contains(symbol);
      case INET_PROTO, ICMP_TYPE, ICMPV6_TYPE, NFPROTO, ETHER_TYPE -> number(type, symbol).isPresent();
      default -> false;
    };
  }
}
