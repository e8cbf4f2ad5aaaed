package dev.verge.hostos;

import java.util.Optional;

/**
 * A policy routing rule: traffic that matches looks up {@code table}.
 *
 * @param priority the order of evaluation, lower first; must be given (no kernel-chosen values)
 * @param inputInterface matches traffic that came in on this link (FRA_IIFNAME)
 * @param outputInterface matches traffic bound to this link (FRA_OIFNAME), e.g. from sockets bound
 *     to it
 * @param fwmark the firewall mark to match under {@code fwmask}; 0 with mask 0 matches any
 * @param fwmask which bits of the mark count (FRA_FWMASK); {@link #ALL_BITS} for an exact mark
 * @param suppressPrefixLength a lookup result whose prefix is this long or shorter is ignored
 *     (FRA_SUPPRESS_PREFIXLEN), e.g. 0 to ignore a table's default route; -1 for none
 */
public record Rule(
    boolean ipv6,
    int priority,
    Optional<IpPrefix> from,
    Optional<IpPrefix> to,
    Optional<String> inputInterface,
    Optional<String> outputInterface,
    int fwmark,
    int fwmask,
    int suppressPrefixLength,
    int table) {
  /** The mask of a mark given without one: every bit counts. */
  public static final int ALL_BITS = 0xffffffff;

  public Rule {
    from = from.map(IpPrefix::network);
    to = to.map(IpPrefix::network);
    if (suppressPrefixLength < -1 || suppressPrefixLength > 128) {
      throw new IllegalArgumentException("suppress_prefixlength " + suppressPrefixLength + " out of -1..128");
    }
  }

  /** A rule without output interface or suppression; a non-zero mark is matched exactly. */
  public Rule(
      boolean ipv6,
      int priority,
      Optional<IpPrefix> from,
      Optional<IpPrefix> to,
      Optional<String> inputInterface,
      int fwmark,
      int table) {
    this(ipv6, priority, from, to, inputInterface, Optional.empty(), fwmark, fwmark != 0 ? ALL_BITS : 0, -1,
        table);
  }

  /** Traffic from a source prefix looks up a table. */
  public static Rule from(String source, int table, int priority) {
    IpPrefix prefix = IpPrefix.parse(source);
    return new Rule(!prefix.isIpv4(), priority, Optional.of(prefix), Optional.empty(), Optional.empty(), 0,
        table);
  }

  /** Any traffic of a family looks up a table (narrow it with the withers). */
  public static Rule all(boolean ipv6, int table, int priority) {
    return new Rule(ipv6, priority, Optional.empty(), Optional.empty(), Optional.empty(), 0, table);
  }

  public Rule withOutputInterface(String link) {
    return new Rule(ipv6, priority, from, to, inputInterface, Optional.of(link), fwmark, fwmask,
        suppressPrefixLength, table);
  }

  public Rule withInputInterface(String link) {
    return new Rule(ipv6, priority, from, to, Optional.of(link), outputInterface, fwmark, fwmask,
        suppressPrefixLength, table);
  }

  public Rule withFwmark(int mark, int mask) {
    return new Rule(ipv6, priority, from, to, inputInterface, outputInterface, mark, mask,
        suppressPrefixLength, table);
  }

  public Rule withSuppressPrefixLength(int length) {
    return new Rule(ipv6, priority, from, to, inputInterface, outputInterface, fwmark, fwmask, length, table);
  }

  @Override
  public String toString() {
    return priority + ": from " + from.map(IpPrefix::toString).orElse("all")
        + to.map(p -> " to " + p).orElse("")
        + (fwmark != 0 || fwmask != 0
            ? " fwmark 0x" + Integer.toHexString(fwmark)
                + (fwmask != ALL_BITS ? "/0x" + Integer.toHexString(fwmask) : "")
            : "")
        + inputInterface.map(i -> " iif " + i).orElse("")
        + outputInterface.map(o -> " oif " + o).orElse("")
        + " lookup " + table
        + (suppressPrefixLength >= 0 ? " suppress_prefixlength " + suppressPrefixLength : "");
  }
}
