package dev.verge.zedrouter;

import dev.verge.topics.v1.Port;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The port a network instance sends its traffic out of, and why.
 *
 * @param label what the NI config asked for: a port label, a shared label ({@code uplink},
 *     {@code freeuplink}, {@code all}) or empty (air-gapped)
 * @param candidates the ports the label names, in preference order
 * @param port the one in use now; empty when none is usable (or the NI is air-gapped)
 * @param reason why this port, or why none, in words for the status
 */
public record UplinkChoice(String label, List<Port> candidates, Optional<Port> port, String reason) {
  public UplinkChoice {
    Objects.requireNonNull(label);
    candidates = List.copyOf(candidates);
    Objects.requireNonNull(port);
    Objects.requireNonNull(reason);
  }

  public static UplinkChoice airGapped() {
    return new UplinkChoice("", List.of(), Optional.empty(), "air-gapped: the NI has no port");
  }

  public boolean isAirGapped() {
    return label.isEmpty();
  }

  /** The kernel name of the port in use, if any. */
  public Optional<String> ifName() {
    return port.map(Port::getIfName);
  }
}
