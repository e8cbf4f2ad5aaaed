package dev.verge.zedrouter;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AceAction;
import dev.verge.proto.config.v1.AceMatch;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.IpRange;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;

/** Configs and ports as zedagent and nim publish them, for zedrouter's tests. */
final class Fixtures {
  static final String NI1 = "11111111-0000-4000-8000-000000000001";
  static final String NI2 = "11111111-0000-4000-8000-000000000002";
  static final String NI3 = "11111111-0000-4000-8000-000000000003";
  static final String APP1 = "aaaaaaaa-0000-4000-8000-000000000001";
  static final String APP2 = "aaaaaaaa-0000-4000-8000-000000000002";

  private Fixtures() {}

  static NetworkInstanceConfig local(String uuid, String subnet, String port) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName("ni-" + uuid.substring(uuid.length() - 1))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL)
        .setActivate(true)
        .setPort(Adapter.newBuilder().setName(port))
        .setIp(IpSpec.newBuilder().setSubnet(subnet))
        .build();
  }

  /** A VPN NI to peer 198.51.100.2 with remote LAN 10.2.0.0/24 and a PSK. */
  static NetworkInstanceConfig vpn(String uuid, String subnet, String port) {
    return local(uuid, subnet, port).toBuilder().setType(NetworkInstanceConfig.Type.TYPE_VPN)
        .setVpn(dev.verge.proto.config.v1.VpnSettings.newBuilder().setPeer("198.51.100.2")
            .addRemoteSubnets("10.2.0.0/24").setPsk("correct horse battery"))
        .build();
  }

  static NetworkInstanceConfig withVpn(NetworkInstanceConfig ni,
      java.util.function.UnaryOperator<dev.verge.proto.config.v1.VpnSettings.Builder> change) {
    return ni.toBuilder().setVpn(change.apply(ni.getVpn().toBuilder())).build();
  }

  static NetworkInstanceConfig withRange(NetworkInstanceConfig ni, String start, String end) {
    return ni.toBuilder().setIp(ni.getIp().toBuilder().setDhcpRange(IpRange.newBuilder().setStart(start).setEnd(end)))
        .build();
  }

  static NetworkInstanceConfig switchNi(String uuid, String port) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_SWITCH)
        .setActivate(true)
        .setPort(Adapter.newBuilder().setName(port))
        .build();
  }

  static Port port(String label, String ifName, int cost, String address, String gateway) {
    Port.Builder port = Port.newBuilder().setLabel(label).setIfName(ifName).setCost(cost)
        .setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true).setCarrier(true).setMtu(1500);
    if (!address.isEmpty()) {
      port.addAddresses(address).addGateways(gateway).addDnsServers(gateway);
    }
    return port.build();
  }

  static Port l2Port(String label, String ifName) {
    return Port.newBuilder().setLabel(label).setIfName(ifName).setUsage(Port.Usage.USAGE_L2_ONLY).setUp(true)
        .setCarrier(true).setMtu(1500).build();
  }

  static DeviceNetwork ports(Port... ports) {
    return DeviceNetwork.newBuilder().setPortConfig("controller").addAllPorts(java.util.List.of(ports)).build();
  }

  static AppInstanceConfig app(String uuid, String name, NetworkAdapter... adapters) {
    return AppInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName(name)
        .setActivate(true)
        .addAllInterfaces(java.util.List.of(adapters))
        .build();
  }

  static NetworkAdapter vif(String ni, Ace... acls) {
    return NetworkAdapter.newBuilder().setName("eth0").setNetworkId(ni).addAllAcls(java.util.List.of(acls)).build();
  }

  static Ace ace(int id, String... typeValue) {
    Ace.Builder ace = Ace.newBuilder().setId(id).setName("ace" + id);
    for (int i = 0; i < typeValue.length; i += 2) {
      ace.addMatches(AceMatch.newBuilder().setType(typeValue[i]).setValue(typeValue[i + 1]));
    }
    return ace.build();
  }

  static Ace drop(Ace ace) {
    return ace.toBuilder().addActions(AceAction.newBuilder().setDrop(true)).build();
  }

  static Ace limit(Ace ace, int rate, String unit, int burst) {
    return ace.toBuilder().addActions(AceAction.newBuilder().setLimit(true).setLimitRate(rate).setLimitUnit(unit)
        .setLimitBurst(burst)).build();
  }

  static Ace portmap(Ace ace, int appPort) {
    return ace.toBuilder().addActions(AceAction.newBuilder().setPortmap(true).setAppPort(appPort)).build();
  }
}
