package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.SimWorld;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.TableRef;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.NiUplink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A VPN NI on the runtime with a sim host: a local NI's bridge and services plus its charon and tunnel. */
class VpnNiAgentTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
      port("eth1", "eth1", 1, "203.0.113.10/24", "203.0.113.1"));

  @TempDir Path dir;
  SimWorld world;
  Publication<AppInstanceConfig> apps;
  Publication<DeviceNetwork> deviceNetwork;
  Subscription<NetworkInstanceStatus> niStatus;

  @BeforeEach
  void world() {
    world = new SimWorld(dir.resolve("sim"));
    for (String nic : List.of("eth0", "eth1")) {
      world.host.kernel().plugNic(nic, 0);
      world.host.kernel().setUp(nic, true);
    }
    world.host.kernel().addAddress("eth0", IpPrefix.parse("192.0.2.10/24"));
    world.host.kernel().addAddress("eth1", IpPrefix.parse("203.0.113.10/24"));
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    deviceNetwork = world.bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    deviceNetwork.publish("global", PORTS);
    niStatus = world.watch(ZedrouterTopics.NETWORK_INSTANCE_STATUS);
  }

  @AfterEach
  void close() {
    world.close();
  }

  private ZedrouterAgent start() {
    ZedrouterAgent agent = new ZedrouterAgent("node-1", dir.resolve("state"));
    world.start(agent);
    settle();
    return agent;
  }

  private void settle() {
    world.settle();
    world.advance(SimWorld.SETTINGS.debounce());
  }

  private NetworkInstanceStatus status(String ni) {
    return niStatus.snapshot().get(ni);
  }

  @Test
  void aVpnNiRunsItsBridgeItsCharonAndItsTunnelWithoutNatForOtherTraffic() throws Exception {
    world.networkInstances().publish(NI1, vpn(NI1, "10.1.0.0/24", "uplink"));
    start();

    NetworkInstanceStatus status = status(NI1);
    assertThat(status.getErrorsList()).isEmpty();
    assertThat(status.getType()).isEqualTo("vpn");
    assertThat(status.getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status.getBridgeIp()).isEqualTo("10.1.0.1");
    assertThat(status.getVpnState()).isEqualTo("CONNECTING");
    assertThat(status.getVpn().getPeer()).isEqualTo("198.51.100.2");
    assertThat(status.getVpn().getLocalAddress()).isEqualTo("192.0.2.10");
    assertThat(status.getVpn().getIpsecBackend()).isEqualTo("libipsec");
    // its own charon, with its own strongswan.conf: kernel-libipsec, no stroke, no resolve
    assertThat(world.host.daemons().status("charon-bn1")).hasValueSatisfying(d -> assertThat(d.running()).isTrue());
    String conf = Files.readString(world.host.daemons().paths("charon-bn1").config().resolve("strongswan.conf"));
    assertThat(conf).contains("kernel-libipsec kernel-netlink vici").contains("routing_table = 901")
        .doesNotContain("stroke").doesNotContain("resolve");
    // other traffic is neither routed out of the uplink nor NATed: only the tunnel leaves
    assertThat(world.host.kernel().routes(801)).extracting(r -> r.destination() + " " + r.type())
        .containsExactlyInAnyOrder("10.1.0.0/24 UNICAST", "192.0.2.0/24 UNICAST", "0.0.0.0/0 UNREACHABLE");
    var table = world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1")).orElseThrow();
    assertThat(table.chain("postrouting").orElseThrow().rules()).isEmpty();
    assertThat(status.getVpn().toString()).doesNotContain("correct horse");
  }

  @Test
  void natForOtherTrafficIsAnOption() {
    world.networkInstances().publish(NI1, withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.setNatOtherTraffic(true)));
    start();
    assertThat(world.host.kernel().routes(801)).extracting(r -> r.destination() + " " + r.type())
        .contains("0.0.0.0/0 UNICAST");
    var table = world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1")).orElseThrow();
    assertThat(table.chain("postrouting").orElseThrow().rules()).singleElement()
        .satisfies(r -> assertThat(r.comment()).contains("nat out of eth0"));
  }

  @Test
  void aBadVpnNiIsInErrorWhileALocalNiBesideItRuns() {
    world.networkInstances().publish(NI1, withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearPsk()));
    world.networkInstances().publish(NI2, local(NI2, "10.3.0.0/24", "eth0"));
    start();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ERROR);
    assertThat(status(NI1).getErrors(0).getReason()).isEqualTo("MISSING_PSK");
    assertThat(status(NI1).getErrors(0).getDescription()).isEqualTo("a VPN network instance needs a pre-shared key");
    assertThat(world.host.daemons().status("charon-bn1")).isEmpty();
    assertThat(status(NI2).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void aRefusedChangeKeepsTheLastGoodTunnel() {
    world.networkInstances().publish(NI1, vpn(NI1, "10.1.0.0/24", "eth0"));
    start();
    world.networkInstances().publish(NI1, withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.addIkeProposals("3des-md5-modp1024")));
    settle();
    assertThat(status(NI1).getErrorsList()).extracting(e -> e.getReason()).contains("UNKNOWN_PROPOSAL");
    assertThat(status(NI1).getVpnState()).isEqualTo("CONNECTING");
    assertThat(world.host.daemons().status("charon-bn1")).isPresent();
  }

  @Test
  void afterFailoverTheTunnelIsLoadedAgainFromTheNewUplinkAndDeletingTheNiStopsCharon() {
    world.networkInstances().publish(NI1, vpn(NI1, "10.1.0.0/24", "uplink"));
    start();
    assertThat(status(NI1).getVpn().getLocalAddress()).isEqualTo("192.0.2.10");

    // nim fails over: eth0 loses its address, eth1 is the uplink now
    deviceNetwork.publish("global", ports(port("eth0", "eth0", 0, "", ""), port("eth1", "eth1", 1, "203.0.113.10/24", "203.0.113.1")));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth1");
    assertThat(status(NI1).getVpn().getLocalAddress()).isEqualTo("203.0.113.10");
    assertThat(status(NI1).getVpnState()).isEqualTo("CONNECTING");

    world.networkInstances().unpublish(NI1);
    settle();
    assertThat(world.host.daemons().status("charon-bn1")).isEmpty();
    assertThat(world.host.kernel().links()).noneMatch(l -> l.name().equals("bn1"));
  }
}
