package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import org.junit.jupiter.api.Test;

class OverrideCheckTest {
  static final String DHCP_NET = "11111111-1111-4111-8111-111111111111";
  static final String STATIC_NET = "22222222-2222-4222-8222-222222222222";

  /** eth0 may be changed locally, eth1 may not; each on its own network. */
  static final DeviceConfig CONTROLLER =
      DeviceConfig.newBuilder()
          .addDeviceIo(PhysicalIo.newBuilder().setType(PhysicalIo.Type.TYPE_ETHERNET).setPhyLabel("eth0")
              .setLogicalLabel("eth0").setUsage(PhysicalIo.Usage.USAGE_MGMT_AND_APPS))
          .addDeviceIo(PhysicalIo.newBuilder().setType(PhysicalIo.Type.TYPE_ETHERNET).setPhyLabel("eth1")
              .setLogicalLabel("eth1").setUsage(PhysicalIo.Usage.USAGE_MGMT_AND_APPS))
          .addNetworks(network(DHCP_NET, IpSpec.DhcpType.DHCP_TYPE_CLIENT, ""))
          .addNetworks(network(STATIC_NET, IpSpec.DhcpType.DHCP_TYPE_CLIENT, ""))
          .addSystemAdapters(SystemAdapter.newBuilder().setName("eth0").setLowerLayerName("eth0")
              .setNetworkUuid(DHCP_NET).setUplink(true).setAllowLocalModifications(true))
          .addSystemAdapters(SystemAdapter.newBuilder().setName("eth1").setLowerLayerName("eth1")
              .setNetworkUuid(STATIC_NET).setUplink(true).setCost(10))
          .build();

  static NetworkConfig network(String uuid, IpSpec.DhcpType dhcp, String subnet) {
    IpSpec.Builder ip = IpSpec.newBuilder().setDhcp(dhcp);
    if (!subnet.isEmpty()) {
      ip.setSubnet(subnet);
    }
    return NetworkConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setType(NetworkConfig.IpType.IP_TYPE_V4)
        .setIp(ip)
        .build();
  }

  static SystemAdapter eth0() {
    return CONTROLLER.getSystemAdapters(0);
  }

  @Test
  void aValidChangeOfAnAllowedPortPasses() {
    String newNet = "33333333-3333-4333-8333-333333333333";
    DeviceConfig override = DeviceConfig.newBuilder()
        .addNetworks(network(newNet, IpSpec.DhcpType.DHCP_TYPE_STATIC, "192.0.2.0/24").toBuilder()
            .setIp(IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_STATIC).setSubnet("192.0.2.0/24")
                .setGateway("192.0.2.1")))
        .addSystemAdapters(eth0().toBuilder().setNetworkUuid(newNet).setAddr("192.0.2.10").setCost(5))
        .build();
    assertThat(OverrideCheck.problems(override, CONTROLLER)).isEmpty();
  }

  @Test
  void theProbesBadOverrideIsRefusedFieldByField() {
    // The probe: a nonexistent lower layer, an address of 999.1.1.1, a cost of 100000 and
    // a VLAN of 5000 with a 23-character name were all answered {"applied":true}.
    DeviceConfig override = DeviceConfig.newBuilder()
        .addVlans(VlanAdapter.newBuilder().setLogicalLabel("vlan-5000")
            .setInterfaceName("eth0.vlan5000-too-long-x").setLowerLayerName("eth0").setVlanId(5000))
        .addSystemAdapters(eth0().toBuilder().setLowerLayerName("no-such-nic").setAddr("999.1.1.1").setCost(100_000))
        .build();
    var problems = OverrideCheck.problems(override, CONTROLLER);
    assertThat(problems).as(String.join("\n", problems))
        .anySatisfy(p -> assertThat(p).startsWith("system_adapters[0].lower_layer_name").contains("no-such-nic"))
        .anySatisfy(p -> assertThat(p).startsWith("system_adapters[0].cost"))
        .anySatisfy(p -> assertThat(p).startsWith("vlans[0].vlan_id"))
        .anySatisfy(p -> assertThat(p).startsWith("vlans[0].interface_name"));
  }

  @Test
  void aLockedPortAnUnknownPortAndNonPortObjectsAreRefused() {
    DeviceConfig override = DeviceConfig.newBuilder()
        .addSystemAdapters(CONTROLLER.getSystemAdapters(1).toBuilder().setCost(0))
        .addSystemAdapters(SystemAdapter.newBuilder().setName("wlan0").setAllowLocalModifications(true))
        .addDeviceIo(CONTROLLER.getDeviceIo(0))
        .build();
    assertThat(OverrideCheck.problems(override, CONTROLLER)).containsExactly(
        "an override may only carry ports: system_adapters, networks, vlans and bonds "
            + "(not device_io, network_instances, apps or config_items)",
        "system_adapters[0]: port 'eth1' does not allow local modifications",
        "system_adapters[1].name: 'wlan0' is not a port of the controller's config");
  }

  @Test
  void whatALockedPortStandsOnCannotBeChangedUnderIt() {
    DeviceConfig override = DeviceConfig.newBuilder()
        .addNetworks(network(STATIC_NET, IpSpec.DhcpType.DHCP_TYPE_NONE, ""))
        .addSystemAdapters(eth0().toBuilder().setNetworkUuid(STATIC_NET))
        .build();
    assertThat(OverrideCheck.problems(override, CONTROLLER)).containsExactly(
        "networks[0]: network " + STATIC_NET + " is also used by port(s) [eth1] that do not allow local modifications");
  }

  @Test
  void anOverrideNeedNotRepeatThePermissionAndCannotTakeItAway() {
    DeviceConfig override = DeviceConfig.newBuilder()
        .addSystemAdapters(eth0().toBuilder().setAllowLocalModifications(false).setCost(3))
        .build();
    assertThat(OverrideCheck.problems(override, CONTROLLER)).isEmpty();
    assertThat(OverrideCheck.merge(CONTROLLER, override).getSystemAdapters(0).getAllowLocalModifications()).isTrue();
  }
}
