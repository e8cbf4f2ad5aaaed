package dev.verge.hostos;

import java.util.Optional;

/**
 * Which tracked flows an operation applies to; every present field must match.
 *
 * @param protocol IP protocol number (1 ICMP, 6 TCP, 17 UDP)
 * @param source the original direction's source is inside this prefix
 * @param destination the original direction's destination is inside this prefix
 * @param mark the flow's mark, compared under {@code markMask}
 */
public record FlowFilter(
    Optional<Integer> protocol,
    Optional<IpPrefix> source,
    Optional<IpPrefix> destination,
    Optional<Integer> mark,
    int markMask) {

  public static final FlowFilter ALL =
      new FlowFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), 0);

  public static FlowFilter fromSource(IpPrefix prefix) {
    return new FlowFilter(Optional.empty(), Optional.of(prefix), Optional.empty(), Optional.empty(), 0);
  }

  public static FlowFilter withMark(int mark, int mask) {
    return new FlowFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(mark), mask);
  }

  public boolean matches(FlowEvent.Flow flow) {
    return protocol.map(p -> p == flow.protocol()).orElse(true)
        && source.map(p -> p.contains(flow.source())).orElse(true)
        && destination.map(p -> p.contains(flow.destination())).orElse(true)
        && mark.map(m -> (flow.mark() & markMask) == (m & markMask)).orElse(true);
  }
}
