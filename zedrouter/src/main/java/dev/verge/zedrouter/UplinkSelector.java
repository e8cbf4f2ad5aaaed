package dev.verge.zedrouter;

import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Picks a network instance's uplink from the ports nim runs: the ports its label names (a port label,
 * or EVE's shared labels {@code uplink} = management ports, {@code freeuplink} = management ports of
 * cost 0, {@code all} = every port with IP), of those the usable ones (up, carrier, an address), the
 * lowest cost first, ties broken by label so the choice does not depend on the order nim lists ports.
 */
public final class UplinkSelector {
  public static final String UPLINK = "uplink";
  public static final String FREEUPLINK = "freeuplink";
  public static final String ALL = "all";

  private UplinkSelector() {}

  public static boolean isSharedLabel(String label) {
    return label.equals(UPLINK) || label.equals(FREEUPLINK) || label.equals(ALL);
  }

  /** The ports a label names, lowest cost first; empty for a label that names none. */
  public static List<Port> candidates(String label, DeviceNetwork network) {
    Predicate<Port> named = switch (label) {
      case UPLINK -> p -> p.getUsage() == Port.Usage.USAGE_MANAGEMENT;
      case FREEUPLINK -> p -> p.getUsage() == Port.Usage.USAGE_MANAGEMENT && p.getCost() == 0;
      case ALL -> p -> p.getUsage() != Port.Usage.USAGE_L2_ONLY;
      default -> p -> p.getLabel().equals(label);
    };
    return network.getPortsList().stream()
        .filter(named)
        .sorted(Comparator.comparingInt(Port::getCost).thenComparing(Port::getLabel))
        .toList();
  }

  /** Why a port cannot carry an NI's traffic now; empty when it can. */
  static Optional<String> unusable(Port port, boolean needsAddress) {
    if (!port.getUp()) {
      return Optional.of(port.getLabel() + " is down");
    }
    if (!port.getCarrier()) {
      return Optional.of(port.getLabel() + " has no carrier");
    }
    if (needsAddress && port.getAddressesCount() == 0) {
      return Optional.of(port.getLabel() + " has no address");
    }
    return Optional.empty();
  }

  /**
   * The uplink for a label that names at least one port (the validator refuses the others).
   *
   * @param needsAddress a local NI routes through the port, so it needs an address; a switch NI
   *     only bridges it
   */
  public static UplinkChoice choose(String label, DeviceNetwork network, boolean needsAddress) {
    if (label.isEmpty()) {
      return UplinkChoice.airGapped();
    }
    List<Port> candidates = candidates(label, network);
    if (candidates.isEmpty()) {
      return new UplinkChoice(label, candidates, Optional.empty(), "no port of the device has the shared label " + label);
    }
    List<String> refusals = new java.util.ArrayList<>();
    for (Port port : candidates) {
      Optional<String> why = unusable(port, needsAddress);
      if (why.isEmpty()) {
        String reason = candidates.size() == 1
            ? (isSharedLabel(label) ? "the only port of shared label " : "the only port labelled ") + label
            : "lowest cost (" + port.getCost() + ") usable port of " + label
                + (refusals.isEmpty() ? "" : "; " + String.join(", ", refusals));
        return new UplinkChoice(label, candidates, Optional.of(port), reason);
      }
      refusals.add(why.get());
    }
    return new UplinkChoice(label, candidates, Optional.empty(), "no usable port for " + label + ": "
        + String.join(", ", refusals));
  }
}
