package dev.verge.hostos.linux;

import dev.verge.hostos.Firewall;
import dev.verge.hostos.FirewallContract;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * The firewall contract on the kernel: the router namespace's nftables, with real pings from a
 * client namespace to a server namespace through its forward hook.
 */
class NftablesFirewallContractIT extends FirewallContract {
  private static NetTopology topology;
  private static Netns client;
  private static Netns router;
  private static NftablesFirewall firewall;

  @BeforeAll
  static void buildTopology() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("hostos-fwc");
    client = topology.namespace("client");
    router = topology.namespace("router");
    Netns server = topology.namespace("server");
    topology.veth(client, "eth0", router, "lan0");
    topology.veth(router, "wan0", server, "eth0");
    client.address("eth0", "10.1.0.2/24").defaultRoute("10.1.0.1");
    router.address("lan0", "10.1.0.1/24").address("wan0", "10.2.0.1/24").forwarding();
    server.address("eth0", "10.2.0.2/24").defaultRoute("10.2.0.1");
    firewall = NftablesFirewall.inNamespace(router.name());
  }

  @AfterAll
  static void removeTopology() {
    if (firewall != null) {
      firewall.close();
    }
    if (topology != null) {
      topology.close();
    }
  }

  @AfterEach
  void flushRuleset() {
    router.execOk("nft", "flush", "ruleset");
  }

  @Override
  protected Firewall firewall() {
    return firewall;
  }

  @Override
  protected int pingThroughRouter(String destination, int count) {
    int answered = 0;
    for (int i = 0; i < count; i++) {
      if (client.ping(destination, Duration.ofSeconds(1))) {
        answered++;
      }
    }
    return answered;
  }

  @Override
  protected boolean pingFromRouter() {
    return router.ping("10.2.0.2", Duration.ofSeconds(1));
  }
}
