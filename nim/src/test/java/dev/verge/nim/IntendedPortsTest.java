package dev.verge.nim;

import static dev.verge.nim.Configs.dhcp;
import static dev.verge.nim.Configs.eth;
import static dev.verge.nim.Configs.staticNet;
import static dev.verge.nim.Configs.staticUplink;
import static dev.verge.nim.Configs.uplink;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.IpPrefix;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class IntendedPortsTest {
  static final String NET = "00000000-0000-4000-8000-0000000000a1";

  static PortConfig twoUplinks() {
    return PortConfigReaderTest.read(List.of(eth("eth0"), eth("eth1")), List.of(), List.of(),
        List.of(staticUplink("wan0", "eth0", 0, NET, "192.0.2.10"), uplink("wan1", "eth1", 10, Configs.DHCP_NET)),
        dhcp(), staticNet(NET, "192.0.2.0/24", "192.0.2.1", 1400));
  }

  static DhcpLease lease(String address, String router) {
    return new DhcpLease(IpPrefix.parse(address), List.of(IpPrefix.literal(router)), List.of(IpPrefix.literal(router)),
        Optional.empty(), Duration.ofHours(1), Optional.empty());
  }

  static List<String> names(GraphR graph, String type) {
    return graph.items(true).stream().map(e -> e.item()).filter(i -> i.type().equals(type)).map(Item::name).sorted().toList();
  }

  @Test
  void noConfigNoItems() {
    assertThat(IntendedPorts.build(Optional.empty(), Map.of(), Map.of(), Optional.empty()).items(true)).isEmpty();
  }

  @Test
  void staticAndDhcpPortsWithTablesRulesAndMetricsByCost() {
    GraphR g = IntendedPorts.build(Optional.of(twoUplinks()), Map.of("eth1", lease("198.51.100.20/24", "198.51.100.1")),
        Map.of("eth0", 2, "eth1", 3), Optional.of("wan0"));
    assertThat(names(g, PortItems.EthernetLink.TYPE)).containsExactly("eth0", "eth1");
    assertThat(g.item(ItemRef.of(PortItems.EthernetLink.TYPE, "eth0")).orElseThrow().item()).isEqualTo(new PortItems.EthernetLink("eth0", 1400));
    assertThat(names(g, PortItems.DhcpClient.TYPE)).containsExactly("eth1");
    assertThat(names(g, PortItems.PortAddress.TYPE)).containsExactly("eth0/192.0.2.10/24", "eth1/198.51.100.20/24");
    assertThat(names(g, PortItems.PortRoute.TYPE)).containsExactly(
        "table 254 0.0.0.0/0 via 192.0.2.1 dev eth0 metric 5000",
        "table 254 0.0.0.0/0 via 198.51.100.1 dev eth1 metric 5001",
        "table 502 0.0.0.0/0 via 192.0.2.1 dev eth0",
        "table 502 192.0.2.0/24 dev eth0",
        "table 503 0.0.0.0/0 via 198.51.100.1 dev eth1",
        "table 503 198.51.100.0/24 dev eth1");
    assertThat(names(g, PortItems.SourceRule.TYPE)).containsExactly(
        "15000: from 192.0.2.10/32 lookup 502", "15000: from 198.51.100.20/32 lookup 503");
    assertThat(names(g, PortItems.SysctlSetting.TYPE)).containsExactly(IntendedPorts.IGNORE_LINKDOWN);
  }

  @Test
  void theDevicesOwnTrafficFollowsTheControllerPortByOneRuleWhileRoutesStay() {
    var leases = Map.of("eth1", lease("198.51.100.20/24", "198.51.100.1"));
    GraphR onWan0 = IntendedPorts.build(Optional.of(twoUplinks()), leases, Map.of("eth0", 2, "eth1", 3), Optional.of("wan0"));
    GraphR onWan1 = IntendedPorts.build(Optional.of(twoUplinks()), leases, Map.of("eth0", 2, "eth1", 3), Optional.of("wan1"));
    assertThat(names(onWan1, PortItems.PortRoute.TYPE)).isEqualTo(names(onWan0, PortItems.PortRoute.TYPE));
    assertThat(names(onWan0, PortItems.ControllerRule.TYPE)).containsExactly("15100: from all iif lo lookup 502");
    assertThat(names(onWan1, PortItems.ControllerRule.TYPE)).containsExactly("15100: from all iif lo lookup 503");
    assertThat(names(IntendedPorts.build(Optional.of(twoUplinks()), leases, Map.of("eth0", 2, "eth1", 3),
        Optional.empty()), PortItems.ControllerRule.TYPE)).isEmpty();
  }

  @Test
  void aDhcpPortWithoutLeaseHasOnlyItsClient() {
    GraphR g = IntendedPorts.build(Optional.of(twoUplinks()), Map.of(), Map.of("eth0", 2, "eth1", 3), Optional.empty());
    assertThat(names(g, PortItems.PortAddress.TYPE)).containsExactly("eth0/192.0.2.10/24");
    assertThat(names(g, PortItems.DhcpClient.TYPE)).containsExactly("eth1");
    assertThat(names(g, PortItems.PortRoute.TYPE)).noneMatch(n -> n.contains("eth1"));
  }

  @Test
  void vlanOverBondBuildsBondMembersAndVlanOnTheBond() {
    PortConfig c = PortConfigReaderTest.read(List.of(eth("eth1"), eth("eth2")),
        List.of(Configs.vlan("v200", "bond0.200", "bond0", 200)),
        List.of(Configs.bond("bond0", "bond0", dev.verge.proto.config.v1.BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth1", "eth2")),
        List.of(uplink("mgmt", "v200", 0, Configs.DHCP_NET)), dhcp());
    GraphR g = IntendedPorts.build(Optional.of(c), Map.of(), Map.of(), Optional.empty());
    assertThat(names(g, PortItems.BondLink.TYPE)).containsExactly("bond0");
    assertThat(names(g, PortItems.BondMember.TYPE)).containsExactly("eth1", "eth2");
    assertThat(names(g, PortItems.EthernetLink.TYPE)).isEmpty(); // members are not brought up on their own
    PortItems.VlanLink vlan = (PortItems.VlanLink) g.item(ItemRef.of(PortItems.VlanLink.TYPE, "bond0.200")).orElseThrow().item();
    assertThat(vlan.parentItem()).isEqualTo(ItemRef.of(PortItems.BondLink.TYPE, "bond0"));
    assertThat(names(g, PortItems.DhcpClient.TYPE)).containsExactly("bond0.200");
  }
}
