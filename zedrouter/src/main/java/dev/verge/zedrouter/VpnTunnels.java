package dev.verge.zedrouter;

import java.util.Map;
import java.util.Optional;

/**
 * The VPN NIs' tunnels, loaded into their charons: what the {@link Items.VpnTunnel} configurator
 * drives and where their state is read. Used on the agent's loop only.
 */
interface VpnTunnels extends AutoCloseable {
  /** Loads (or replaces) the tunnel in its charon and has it initiated; failures are thrown. */
  void load(Items.VpnTunnel tunnel);

  /** Terminates and unloads it (its charon may already be gone). */
  void unload(Items.VpnTunnel tunnel);

  /** The state of each loaded tunnel, by NI UUID. */
  Map<String, VpnState> states();

  default Optional<VpnState> state(String niUuid) {
    return Optional.ofNullable(states().get(niUuid));
  }

  /** Reads the counters of every tunnel (list-sas) and updates the states. */
  void refresh();

  @Override
  void close();
}
