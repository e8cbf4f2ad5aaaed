package dev.verge.zedrouter;

import java.util.Map;
import java.util.TreeMap;

/**
 * Tunnels on the sim host, which has no IKE: loads are recorded and stay CONNECTING. Enough for
 * the graph, the validator and status paths in unit tests; tunnels themselves are tested for real
 * in the ITs.
 */
final class SimVpnTunnels implements VpnTunnels {
  private final Map<String, Items.VpnTunnel> loaded = new TreeMap<>();
  private final Map<String, VpnState> states = new TreeMap<>();

  @Override
  public void load(Items.VpnTunnel tunnel) {
    loaded.put(tunnel.niUuid(), tunnel);
    states.put(tunnel.niUuid(), VpnState.connecting(tunnel.connection().remoteAddress(),
        tunnel.connection().localAddress(), tunnel.backend()));
  }

  @Override
  public void unload(Items.VpnTunnel tunnel) {
    loaded.remove(tunnel.niUuid());
    states.remove(tunnel.niUuid());
  }

  @Override
  public Map<String, VpnState> states() {
    return Map.copyOf(states);
  }

  /** What is loaded, by NI UUID (for tests). */
  Map<String, Items.VpnTunnel> loaded() {
    return Map.copyOf(loaded);
  }

  @Override
  public void refresh() {}

  @Override
  public void close() {
    loaded.clear();
    states.clear();
  }
}
