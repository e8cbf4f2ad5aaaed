package dev.verge.netlab;

/**
 * A remote site, for VPN tunnels to end at: a gateway namespace with a LAN ({@value #LAN}) behind
 * it, and one host on that LAN ({@value #HOST}) whose way back is the gateway. How the gateway
 * itself is reached (a veth to the device, or to an upstream) is the caller's.
 *
 * @param gateway the gateway's namespace: {@code lan0} is {@value #LAN_GATEWAY}, forwarding on
 * @param lanHost the LAN host: {@code eth0} of its namespace is {@value #HOST}; it can serve HTTP
 */
public record RemoteSite(Netns gateway, UpstreamHost lanHost) {
  public static final String LAN = "10.2.0.0/24";
  public static final String LAN_GATEWAY = "10.2.0.1";
  public static final String HOST = "10.2.0.5";

  /** Creates both namespaces in {@code topology} and the LAN between them. */
  public static RemoteSite create(NetTopology topology, String gatewayName, String hostName) {
    Netns gateway = topology.namespace(gatewayName);
    Netns host = topology.namespace(hostName);
    topology.veth(gateway, "lan0", host, "eth0");
    gateway.address("lan0", LAN_GATEWAY + "/24").forwarding();
    UpstreamHost lanHost = new UpstreamHost(host, "eth0", HOST + "/24");
    host.defaultRoute(LAN_GATEWAY);
    return new RemoteSite(gateway, lanHost);
  }
}
