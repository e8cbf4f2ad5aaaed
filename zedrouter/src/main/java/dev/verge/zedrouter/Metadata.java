package dev.verge.zedrouter;

import java.util.Map;
import java.util.Optional;

/**
 * What the metadata servers tell the apps, as of the last build: per NI bridge, the device's
 * external IPv4 (its uplink's address, for port maps) and the apps by their VIF addresses.
 * Immutable: the build replaces it whole, the servers' threads read it without locks.
 */
public record Metadata(Map<String, Ni> byBridge) {
  public static final Metadata EMPTY = new Metadata(Map.of());

  /** One NI: its uplink's IPv4 (empty when air-gapped or without an address) and its apps by IP. */
  public record Ni(Optional<String> externalIpv4, Map<String, App> appsByIp) {}

  /**
   * An app as its metadata names it: EVE gives its UUID as the host name.
   *
   * @param userData its cloud-init user data as configured (plain text; empty = none)
   */
  public record App(String uuid, String name, String userData) {
    public App(String uuid, String name) {
      this(uuid, name, "");
    }
  }

  public Optional<App> app(String bridge, String callerIp) {
    return Optional.ofNullable(byBridge.get(bridge)).map(ni -> ni.appsByIp().get(callerIp));
  }

  public Optional<String> externalIpv4(String bridge) {
    return Optional.ofNullable(byBridge.get(bridge)).flatMap(Ni::externalIpv4);
  }
}
