package dev.verge.domainmgr;

import static dev.verge.domainmgr.Apps.APP1;
import static dev.verge.domainmgr.Apps.APP2;
import static dev.verge.domainmgr.Apps.NI1;
import static dev.verge.domainmgr.Apps.app;
import static dev.verge.domainmgr.Apps.plan;
import static dev.verge.domainmgr.Apps.vif;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.SimWorld;
import dev.verge.domainmgr.io.AdapterIo;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.sim.FakeSysfs;
import dev.verge.hostos.sim.SimHost;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.VfList;
import dev.verge.proto.info.v1.AdapterBundle;
import dev.verge.proto.info.v1.AssignableAdapters;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** domainmgr on the runtime with PCI devices in the sim's sysfs: adapters reach the VM and come back. */
class DomainmgrAdaptersTest {
  private static final PciAddress PF = PciAddress.of("0000:03:00.0");
  private static final PciAddress GPU = PciAddress.of("0000:04:00.0");
  private static final PciAddress GPU_AUDIO = PciAddress.of("0000:04:00.1");
  private static final MacAddress VF_MAC = MacAddress.of("02:00:00:00:0a:01");

  @TempDir Path dir;
  SimWorld world;
  Publication<AppInstanceConfig> apps;
  Publication<AppVifPlan> plans;
  Publication<PhysicalIo> physicalIo;
  Publication<DeviceNetwork> network;
  Subscription<DomainStatus> status;
  Subscription<AssignableAdapters> adapters;

  @BeforeEach
  void world(org.junit.jupiter.api.TestInfo test) {
    List<String> drivers = new java.util.ArrayList<>(List.of("e1000e", "i40e", "iavf", "nouveau", "snd_hda_intel"));
    if (!test.getTags().contains("no-vfio")) {
      drivers.add("vfio-pci");
    }
    SimHost host = SimHost.create(dir.resolve("sim"), drivers, List.of(
        FakeSysfs.Device.nic("0000:01:00.0", 0x8086, 0x10d3, "e1000e", "eth0", 1),
        FakeSysfs.Device.nic(PF.value(), 0x8086, 0x1572, "i40e", "eth1", 12).withSriov(8, 0x154c, "iavf"),
        new FakeSysfs.Device(GPU.value(), 0x10de, 0x1eb8, "nouveau", Optional.empty(), 13, 0, 0, ""),
        new FakeSysfs.Device(GPU_AUDIO.value(), 0x10de, 0x10f8, "snd_hda_intel", Optional.empty(), 13, 0, 0, "")));
    host.kernel().plugNic("eth1", 8);
    world = new SimWorld(host);
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    plans = world.bus.publish(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE);
    physicalIo = world.bus.publish(ZedagentTopics.PHYSICAL_IO, Durability.VOLATILE);
    network = world.bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    status = world.watch(DomainmgrTopics.DOMAIN_STATUS);
    adapters = world.watch(DomainmgrTopics.ASSIGNABLE_ADAPTERS);
    physicalIo.publish("eth0", PhysicalIo.newBuilder().setPhyLabel("eth0").setType(PhysicalIo.Type.TYPE_ETHERNET)
        .setUsage(PhysicalIo.Usage.USAGE_MGMT_AND_APPS).setAssignGroup("eth0").putPhyAddrs("ifname", "eth0").build());
    physicalIo.publish("eth1", PhysicalIo.newBuilder().setPhyLabel("eth1").setType(PhysicalIo.Type.TYPE_ETH_PF)
        .putPhyAddrs("pcilong", PF.value()).setVfList(VfList.newBuilder().setVfCount(2)).build());
    physicalIo.publish("gpu", PhysicalIo.newBuilder().setPhyLabel("gpu").setUsage(PhysicalIo.Usage.USAGE_DEDICATED)
        .setAssignGroup("gpu").putPhyAddrs("pcilong", GPU.value()).build());
    world.start(new DomainmgrAgent(
        new DomainPlanner.Settings(dir.resolve("domains"), dir.resolve("images"), 2048, 256),
        () -> QemuCommand.Accel.TCG));
  }

  @AfterEach
  void close() {
    world.close();
  }

  private void settle() {
    for (int i = 0; i < 4; i++) {
      world.settle();
    }
  }

  private void publishPorts() {
    network.publish("global", DeviceNetwork.newBuilder()
        .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT)).build());
  }

  private void runApp(String uuid, String vifName, Adapter... requested) {
    apps.publish(uuid, app(uuid, 256, NI1).toBuilder().addAllAdapters(List.of(requested)).build());
    plans.publish(uuid, plan(uuid, vif(vifName, NI1, "02:00:00:00:01:" + vifName.substring(3, 5))));
    settle();
  }

  private Optional<String> driver(PciAddress address) {
    return world.host.sysfs().pciDevice(address).flatMap(PciDevice::driver);
  }

  private static AdapterBundle bundle(AssignableAdapters all, String name) {
    return all.getAdaptersList().stream().filter(b -> b.getName().equals(name)).findFirst().orElseThrow();
  }

  private static final Adapter GPU_ADAPTER = Adapter.newBuilder().setName("gpu").build();
  private static final Adapter VF0 = Adapter.newBuilder().setName("eth1").setIsVf(true).setEthVfIndex(0)
      .setVfMac(VF_MAC.value()).setVfVlanId(42).build();

  @Test
  void anAppGetsItsGpuWithItsSiblingAndItsVfThenGivesThemBackWhenRemoved() throws Exception {
    publishPorts();
    runApp(APP1, "nbu11x1", GPU_ADAPTER, VF0);

    PciAddress vf0 = world.host.sysfs().pciDevice(PF).orElseThrow().virtualFunctions().get(0);
    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getErrorsList()).extracting(ErrorInfo::getDescription).isEmpty();
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(domain.getPassthroughAdaptersList()).containsExactly(
        vf0 + " (" + PF + "/vf0)", GPU.value(), GPU_AUDIO.value());
    assertThat(driver(GPU)).contains("vfio-pci");
    assertThat(driver(GPU_AUDIO)).contains("vfio-pci");
    assertThat(driver(vf0)).contains("vfio-pci");
    assertThat(world.host.network().vfs("eth1").get(0).mac()).contains(VF_MAC);
    assertThat(world.host.network().vfs("eth1").get(0).vlan()).contains(42);
    assertThat(bundle(adapters.snapshot().get("global"), "gpu").getUsedByAppUuid()).isEqualTo(APP1);
    assertThat(bundle(adapters.snapshot().get("global"), "eth1vf0").getUsedByAppUuid()).isEqualTo(APP1);
    String xml = java.nio.file.Files.readString(dir.resolve("domains").resolve(APP1).resolve("domain.xml"));
    assertThat(xml).as("the running VM exported for libvirt").contains("<source bridge=\"bn1\"/>",
        "<target dev=\"nbu11x1\"/>", "<address bus=\"0x04\" domain=\"0x0000\" function=\"0x1\" slot=\"0x00\"/>");

    apps.unpublish(APP1);
    plans.unpublish(APP1);
    settle();
    assertThat(driver(GPU)).contains("nouveau");
    assertThat(driver(GPU_AUDIO)).contains("snd_hda_intel");
    assertThat(driver(vf0)).contains("iavf");
    assertThat(bundle(adapters.snapshot().get("global"), "gpu").getUsedByAppUuid()).isEmpty();
  }

  @Test
  void aVifWithTheMacOfAnAssignedVfIsRefusedWhileTheVfsAppRuns() {
    publishPorts();
    runApp(APP1, "nbu11x1", VF0);
    apps.publish(APP2, app(APP2, 256, NI1));
    plans.publish(APP2, plan(APP2, vif("nbu12x1", NI1, VF_MAC.value())));
    settle();

    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    DomainStatus refused = status.snapshot().get(APP2);
    assertThat(refused.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(refused.getErrorsList()).extracting(ErrorInfo::getReason, ErrorInfo::getDescription).containsExactly(
        org.assertj.core.groups.Tuple.tuple("DUPLICATE_MAC", "adapter eth0: MAC " + VF_MAC + " is already the MAC of VF 0 of eth1 (app " + APP1 + ")"));
    assertThat(world.host.simDaemons().status(VmConfigurator.daemonName(APP2))).isEmpty();
  }

  @Test
  void aSecondAppAskingForTheHeldGpuGetsNoVmAndAPreciseErrorWhileTheFirstRuns() {
    publishPorts();
    runApp(APP1, "nbu11x1", GPU_ADAPTER);
    runApp(APP2, "nbu12x1", GPU_ADAPTER);

    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    DomainStatus refused = status.snapshot().get(APP2);
    assertThat(refused.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(refused.getErrorsList()).extracting(ErrorInfo::getReason, ErrorInfo::getDescription)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(AdapterIo.ADAPTERS_REFUSED,
            "adapter gpu (assignment group gpu) is already assigned to app " + APP1));
    assertThat(world.host.simDaemons().status(VmConfigurator.daemonName(APP2))).isEmpty();
    assertThat(driver(GPU)).contains("vfio-pci");
  }

  @Test
  void adaptersWaitForNimsPortsAndTheManagementPortIsNeverGiven() {
    runApp(APP1, "nbu11x1", GPU_ADAPTER);
    assertThat(status.snapshot().get(APP1).getErrorsList()).extracting(ErrorInfo::getDescription)
        .containsExactly("the host's ports are not known yet (nim's DeviceNetwork): adapters wait");
    assertThat(driver(GPU)).contains("nouveau");

    publishPorts();
    settle();
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(driver(GPU)).contains("vfio-pci");

    runApp(APP2, "nbu12x1", Adapter.newBuilder().setName("eth0").build());
    assertThat(status.snapshot().get(APP2).getErrorsList()).extracting(ErrorInfo::getDescription)
        .containsExactly("eth0 is a management port: it stays with the host");
    assertThat(world.host.sysfs().pciAddressOf("eth0")).isPresent();
  }

  @Test
  @org.junit.jupiter.api.Tag("no-vfio")
  void aDeviceTheHostCannotHandOverKeepsTheVmWaitingWithTheHostsReasonAndGoesBack() {
    publishPorts();
    runApp(APP1, "nbu11x1", GPU_ADAPTER);

    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(domain.getErrorsList()).extracting(ErrorInfo::getReason).contains(AdapterIo.ADAPTER_FAILED);
    assertThat(domain.getErrorsList()).extracting(ErrorInfo::getDescription).anySatisfy(text -> assertThat(text)
        .contains("VfioBinding/0000:04:00.0", "cannot bind 0000:04:00.0 to vfio-pci",
            "(is the vfio-pci module loaded?)"));
    assertThat(world.host.simDaemons().status(VmConfigurator.daemonName(APP1))).as("no VM without its GPU").isEmpty();
    assertThat(driver(GPU)).contains("nouveau");
  }
}
