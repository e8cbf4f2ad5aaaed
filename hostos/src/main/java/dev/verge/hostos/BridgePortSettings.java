package dev.verge.hostos;

import java.util.Optional;

/**
 * The flags of a bridge port ({@code bridge link set dev PORT ...}, IFLA_PROTINFO). Empty fields are
 * left as they are when setting; a port as read has every field. A port starts with learning and
 * all flooding on, the rest off, and gets these defaults again whenever it joins a bridge.
 *
 * @param unicastFlood floods unicast to unknown destinations through this port ("flood")
 * @param hairpin sends frames back out of the port they came in on
 * @param isolated does not exchange frames with other isolated ports
 * @param neighbourSuppression answers ARP/ND from the bridge's neighbour table ("neigh_suppress")
 */
public record BridgePortSettings(
    Optional<Boolean> learning,
    Optional<Boolean> unicastFlood,
    Optional<Boolean> multicastFlood,
    Optional<Boolean> broadcastFlood,
    Optional<Boolean> hairpin,
    Optional<Boolean> isolated,
    Optional<Boolean> neighbourSuppression) {

  /** Changes nothing: start here and add what to change. */
  public static final BridgePortSettings NONE = new BridgePortSettings(Optional.empty(), Optional.empty(),
      Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

  /** What a port has when it joins a bridge. */
  public static final BridgePortSettings DEFAULTS = new BridgePortSettings(Optional.of(true), Optional.of(true),
      Optional.of(true), Optional.of(true), Optional.of(false), Optional.of(false), Optional.of(false));

  public BridgePortSettings withLearning(boolean on) {
    return new BridgePortSettings(Optional.of(on), unicastFlood, multicastFlood, broadcastFlood, hairpin,
        isolated, neighbourSuppression);
  }

  public BridgePortSettings withUnicastFlood(boolean on) {
    return new BridgePortSettings(learning, Optional.of(on), multicastFlood, broadcastFlood, hairpin,
        isolated, neighbourSuppression);
  }

  public BridgePortSettings withMulticastFlood(boolean on) {
    return new BridgePortSettings(learning, unicastFlood, Optional.of(on), broadcastFlood, hairpin,
        isolated, neighbourSuppression);
  }

  public BridgePortSettings withBroadcastFlood(boolean on) {
    return new BridgePortSettings(learning, unicastFlood, multicastFlood, Optional.of(on), hairpin,
        isolated, neighbourSuppression);
  }

  public BridgePortSettings withHairpin(boolean on) {
    return new BridgePortSettings(learning, unicastFlood, multicastFlood, broadcastFlood, Optional.of(on),
        isolated, neighbourSuppression);
  }

  public BridgePortSettings withIsolated(boolean on) {
    return new BridgePortSettings(learning, unicastFlood, multicastFlood, broadcastFlood, hairpin,
        Optional.of(on), neighbourSuppression);
  }

  public BridgePortSettings withNeighbourSuppression(boolean on) {
    return new BridgePortSettings(learning, unicastFlood, multicastFlood, broadcastFlood, hairpin,
        isolated, Optional.of(on));
  }

  /** Fields set here replace those of {@code base}. */
  public BridgePortSettings over(BridgePortSettings base) {
    return new BridgePortSettings(learning.or(base::learning), unicastFlood.or(base::unicastFlood),
        multicastFlood.or(base::multicastFlood), broadcastFlood.or(base::broadcastFlood),
        hairpin.or(base::hairpin), isolated.or(base::isolated),
        neighbourSuppression.or(base::neighbourSuppression));
  }
}
