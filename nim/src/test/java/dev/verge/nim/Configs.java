package dev.verge.nim;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;

/** Config pieces for nim's tests, as the controller writes them. */
final class Configs {
  static final String DHCP_NET = "00000000-0000-4000-8000-0000000000d1";

  private Configs() {}

  static PhysicalIo eth(String label) {
    return eth(label, label);
  }

  static PhysicalIo eth(String label, String ifName) {
    return PhysicalIo.newBuilder().setType(PhysicalIo.Type.TYPE_ETHERNET).setPhyLabel(label).setLogicalLabel(label)
        .putPhyAddrs("ifname", ifName).setUsage(PhysicalIo.Usage.USAGE_MGMT_AND_APPS).build();
  }

  static NetworkConfig dhcp() {
    return NetworkConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(DHCP_NET).setVersion("1"))
        .setIp(IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_CLIENT)).build();
  }

  static NetworkConfig staticNet(String uuid, String subnet, String gateway, int mtu, String... dns) {
    IpSpec.Builder ip = IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_STATIC).setSubnet(subnet).setGateway(gateway);
    for (String d : dns) {
      ip.addDns(d);
    }
    return NetworkConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1")).setIp(ip)
        .setMtu(mtu).build();
  }

  static SystemAdapter uplink(String name, String lower, int cost, String network) {
    return SystemAdapter.newBuilder().setName(name).setLowerLayerName(lower).setUplink(true).setCost(cost)
        .setNetworkUuid(network).build();
  }

  static SystemAdapter staticUplink(String name, String lower, int cost, String network, String addr) {
    return uplink(name, lower, cost, network).toBuilder().setAddr(addr).build();
  }

  static VlanAdapter vlan(String label, String ifName, String parent, int id) {
    return VlanAdapter.newBuilder().setLogicalLabel(label).setInterfaceName(ifName).setLowerLayerName(parent)
        .setVlanId(id).build();
  }

  static BondAdapter bond(String label, String ifName, BondAdapter.Mode mode, String... members) {
    BondAdapter.Builder b = BondAdapter.newBuilder().setLogicalLabel(label).setInterfaceName(ifName).setMode(mode);
    for (String m : members) {
      b.addLowerLayerNames(m);
    }
    return b.build();
  }
}
