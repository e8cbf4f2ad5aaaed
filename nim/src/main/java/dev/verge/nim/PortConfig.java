package dev.verge.nim;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One device port config (EVE's DPC): the links nim builds and the ports on them, from one source.
 *
 * @param key where it comes from: {@link #CONTROLLER}, {@link #MANUAL}, {@link #OVERRIDE},
 *     {@link #LAST_RESORT}
 * @param timePriorityMs newer wins (see {@link PortConfigList}); the last resort has 0
 * @param ports every link of the config, parents before children (sorted by interface name
 *     otherwise)
 * @param errors per-port errors found while reading the config (label → error); a port with an
 *     error is left out of {@code ports}, the rest of the config still works
 */
public record PortConfig(String key, long timePriorityMs, List<Port> ports, SortedMap<String, String> errors) {
  public static final String CONTROLLER = "zedagent";
  public static final String OVERRIDE = "override";
  /** A console operator's config (EVE's TUI config): outranks what came before it, fallback stops at it. */
  public static final String MANUAL = "manual";
  public static final String LAST_RESORT = "lastresort";

  public PortConfig {
    ports = List.copyOf(ports);
    errors = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(errors));
  }

  /** The management ports, in the order controller traffic tries them: cost, then label. */
  public List<Port> managementPorts() {
    return ports.stream()
        .filter(Port::isManagement)
        .sorted(Comparator.comparingInt(Port::cost).thenComparing(Port::label))
        .toList();
  }

  public Optional<Port> port(String label) {
    return ports.stream().filter(p -> p.label().equals(label)).findFirst();
  }

  public Optional<Port> byIfName(String ifName) {
    return ports.stream().filter(p -> p.ifName().equals(ifName)).findFirst();
  }

  /**
   * Same links and ports, whatever the time priority (a re-stamped config is not a new one) and
   * the errors (a newly refused port changes what is reported, not what runs).
   */
  public boolean sameContent(PortConfig other) {
    return ports.equals(other.ports);
  }

  /** A short hash of what {@link #sameContent} compares: equal content, equal fingerprint. */
  public String fingerprint() {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(ports.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  public PortConfig withPorts(List<Port> newPorts, SortedMap<String, String> newErrors) {
    return new PortConfig(key, timePriorityMs, newPorts, newErrors);
  }
}
