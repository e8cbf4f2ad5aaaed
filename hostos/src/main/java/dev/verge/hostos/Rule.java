package dev.verge.hostos;

import java.util.Optional;

/**
 * A policy routing rule: traffic that matches goes to {@code table}.
 *
 * @param priority the order of evaluation, lower first; must be given (no kernel-chosen values)
 * @param fwmark the firewall mark to match, 0 for any
 */
public record Rule(
    boolean ipv6,
    int priority,
    Optional<IpPrefix> from,
    Optional<IpPrefix> to,
    Optional<String> inputInterface,
    int fwmark,
    int table) {
  public Rule {
    from = from.map(IpPrefix::network);
    to = to.map(IpPrefix::network);
  }

  /** Traffic from a source prefix looks up a table. */
  public static Rule from(String source, int table, int priority) {
    IpPrefix prefix = IpPrefix.parse(source);
    return new Rule(!prefix.isIpv4(), priority, Optional.of(prefix), Optional.empty(), Optional.empty(), 0,
        table);
  }

  @Override
  public String toString() {
    return priority + ": from " + from.map(IpPrefix::toString).orElse("all")
        + to.map(p -> " to " + p).orElse("")
        + (fwmark != 0 ? " fwmark 0x" + Integer.toHexString(fwmark) : "")
        + inputInterface.map(i -> " iif " + i).orElse("")
        + " lookup " + table;
  }
}
