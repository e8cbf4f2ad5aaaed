package dev.verge.domainmgr.io;

import dev.verge.hostos.sim.FakeSysfs;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.EthVf;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.VfList;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.util.List;
import java.util.Optional;

/**
 * One machine for the I/O tests: a management port, an SR-IOV PF, a GPU sharing its IOMMU group
 * with its audio function, a NIC sharing its group with the host's uplink, and a free NIC.
 */
final class IoFixture {
  private IoFixture() {}

  static final String APP_A = "aaaaaaaa-0000-4000-8000-000000000001";
  static final String APP_B = "bbbbbbbb-0000-4000-8000-000000000002";
  static final String APP_C = "cccccccc-0000-4000-8000-000000000003";

  static final List<String> DRIVERS = List.of("e1000e", "i40e", "iavf", "igb", "nouveau", "snd_hda_intel", "vfio-pci");

  static final List<FakeSysfs.Device> DEVICES = List.of(
      FakeSysfs.Device.nic("0000:01:00.0", 0x8086, 0x10d3, "e1000e", "eth0", 1),
      FakeSysfs.Device.nic("0000:03:00.0", 0x8086, 0x1572, "i40e", "eth1", 12).withSriov(8, 0x154c, "iavf"),
      new FakeSysfs.Device("0000:04:00.0", 0x10de, 0x1eb8, "nouveau", Optional.empty(), 13, 0, 0, ""),
      new FakeSysfs.Device("0000:04:00.1", 0x10de, 0x10f8, "snd_hda_intel", Optional.empty(), 13, 0, 0, ""),
      FakeSysfs.Device.nic("0000:05:00.0", 0x8086, 0x1521, "igb", "eth2", 14),
      FakeSysfs.Device.nic("0000:05:00.1", 0x8086, 0x1521, "igb", "eth3", 14),
      FakeSysfs.Device.nic("0000:06:00.0", 0x8086, 0x1521, "igb", "eth4", 15));

  static PhysicalIo io(String label, PhysicalIo.Type type, PhysicalIo.Usage usage, String group, String key,
      String address) {
    return PhysicalIo.newBuilder().setPhyLabel(label).setLogicalLabel(label).setType(type).setUsage(usage)
        .setAssignGroup(group).putPhyAddrs(key, address).build();
  }

  static PhysicalIo pf(int vfCount, EthVf... defaults) {
    return io("eth1", PhysicalIo.Type.TYPE_ETH_PF, PhysicalIo.Usage.USAGE_SHARED, "", "pcilong", "0000:03:00.0")
        .toBuilder().setVfList(VfList.newBuilder().setVfCount(vfCount).addAllVfs(List.of(defaults))).build();
  }

  static List<PhysicalIo> physicalIo(PhysicalIo pf) {
    return List.of(
        io("eth0", PhysicalIo.Type.TYPE_ETHERNET, PhysicalIo.Usage.USAGE_MGMT_AND_APPS, "eth0", "ifname", "eth0"),
        pf,
        io("gpu", PhysicalIo.Type.TYPE_UNSPECIFIED, PhysicalIo.Usage.USAGE_DEDICATED, "gpu", "pcilong", "0000:04:00.0"),
        io("eth2", PhysicalIo.Type.TYPE_ETHERNET, PhysicalIo.Usage.USAGE_DEDICATED, "eth2", "ifname", "eth2"),
        io("eth3", PhysicalIo.Type.TYPE_ETHERNET, PhysicalIo.Usage.USAGE_SHARED, "eth3", "ifname", "eth3"),
        io("eth4", PhysicalIo.Type.TYPE_ETHERNET, PhysicalIo.Usage.USAGE_DEDICATED, "eth4", "ifname", "eth4"));
  }

  /** nim runs eth0 (management) and eth3 (an app-shared uplink). */
  static final DeviceNetwork NETWORK = DeviceNetwork.newBuilder()
      .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT))
      .addPorts(Port.newBuilder().setLabel("eth3").setIfName("eth3").setUsage(Port.Usage.USAGE_APP_SHARED))
      .build();

  static AppInstanceConfig app(String uuid, Adapter... adapters) {
    return AppInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName(uuid.substring(0, 4)).addAllAdapters(List.of(adapters)).build();
  }

  static Adapter passthrough(String name) {
    return Adapter.newBuilder().setName(name).build();
  }

  static Adapter vf(String pf, int index, String mac, int vlan) {
    return Adapter.newBuilder().setName(pf).setIsVf(true).setEthVfIndex(index).setVfMac(mac).setVfVlanId(vlan)
        .build();
  }
}
