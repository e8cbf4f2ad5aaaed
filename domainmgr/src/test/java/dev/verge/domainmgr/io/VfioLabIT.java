package dev.verge.domainmgr.io;

import static dev.verge.domainmgr.io.IoFixture.APP_A;
import static dev.verge.domainmgr.io.IoFixture.app;
import static dev.verge.domainmgr.io.IoFixture.io;
import static dev.verge.domainmgr.io.IoFixture.passthrough;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.NetTopology;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.reconciler.DefaultRegistry;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.Reconciler;
import dev.verge.reconciler.Status;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * domainmgr's vfio binding on real devices: the lab VM's emulated vmxnet3 NICs behind QEMU's Intel
 * IOMMU (netlab's LabVm: one alone on the root bus, two behind a PCI bridge sharing one group),
 * planned and bound as domainmgr does (AdapterAssignments, IoItems, IoConfigurators through the
 * reconciler) on the VM's /sys. Named *LabIT: the build's failsafe leaves it out, scripts/lab runs
 * it in the VM; anywhere else it refuses to start rather than rebind a machine's devices.
 */
class VfioLabIT {
  private static final int VMWARE = 0x15ad;
  private static final int VMXNET3 = 0x07b0;
  private static final String OWN_DRIVER = "vmxnet3";

  @TempDir Path dir;
  private NetTopology topology;
  private LinuxHost host;
  private Reconciler reconciler;
  private Graph current;

  @BeforeEach
  void labVm() {
    assertThat(Boolean.getBoolean("verge.lab"))
        .as("VfioLabIT rebinds PCI devices: it runs only inside the lab VM (scripts/lab test)").isTrue();
    topology = NetTopology.create("vfio");
    host = LinuxHost.inNamespace(topology.namespace("dm").name(),
        new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys")));
    DefaultRegistry registry = new DefaultRegistry();
    IoConfigurators.register(registry::register, host, Duration.ofSeconds(5));
    reconciler = Reconciler.create(registry);
    System.out.println("VfioLabIT: PCI devices " + host.sysfs().pciDevices().stream()
        .map(d -> d.address() + "=" + d.driver().orElse("-") + "/g" + d.iommuGroup().map(String::valueOf).orElse("-"))
        .collect(Collectors.joining(" ")));
  }

  @AfterEach
  void giveEverythingBack() {
    try {
      if (current != null) {
        reconciler.reconcile(current, Graphs.newGraph(GraphSpec.named("domainmgr")));
      }
    } finally {
      if (host != null) {
        host.close();
      }
      if (topology != null) {
        topology.close();
      }
    }
  }

  private List<PciDevice> vmxnet3s() {
    return host.sysfs().pciDevices().stream().filter(d -> d.vendor() == VMWARE && d.device() == VMXNET3).toList();
  }

  private PciDevice device(PciAddress address) {
    return host.sysfs().pciDevice(address).orElseThrow();
  }

  private List<PciAddress> groupOf(PciDevice device) {
    return host.sysfs().iommuGroupMembers(device.iommuGroup().orElseThrow());
  }

  private static PhysicalIo nic(String label, PciDevice device) {
    return io(label, PhysicalIo.Type.TYPE_ETHERNET, PhysicalIo.Usage.USAGE_DEDICATED, label, "pcilong",
        device.address().value());
  }

  private AdapterAssignments plan(List<PhysicalIo> physicalIo, DeviceNetwork network, AppInstanceConfig app) {
    IoInventory inventory = IoInventory.of(physicalIo, network, host.sysfs().pciDevices());
    return AdapterAssignments.plan(inventory, List.of(app), Map.of());
  }

  /** Reconciles the plan's items (its apps running, or none), as domainmgr does. */
  private Status apply(AdapterAssignments plan, List<String> running) {
    List<Item> items = IoItems.of(plan, running);
    Status status = reconciler.reconcile(current,
        Graphs.newGraph(GraphSpec.named("domainmgr").withItems(items.toArray(Item[]::new))));
    current = status.newCurrentState();
    return status;
  }

  private static boolean vfioHolds(PciAddress address) {
    return Files.exists(Path.of("/sys/bus/pci/drivers/vfio-pci").resolve(address.value()));
  }

  @Test
  void aNicAloneInItsIommuGroupGoesToVfioPciAndBackToItsOwnDriverWhenTheAppStops() {
    PciDevice lone = vmxnet3s().stream().filter(d -> groupOf(d).size() == 1).findFirst()
        .orElseThrow(() -> new AssertionError("no vmxnet3 alone in its IOMMU group: " + vmxnet3s()));
    assertThat(lone.driver()).contains(OWN_DRIVER);
    assertThat(lone.netInterfaces()).hasSize(1);
    AdapterAssignments plan = plan(List.of(nic("nic", lone)), DeviceNetwork.getDefaultInstance(),
        app(APP_A, passthrough("nic")));
    assertThat(plan.apps().get(APP_A).errors()).isEmpty();
    assertThat(plan.apps().get(APP_A).passthrough()).containsExactly(lone.address());

    Status started = apply(plan, List.of(APP_A));
    assertThat(started.error()).isEmpty();
    assertThat(device(lone.address()).driver()).contains(IoConfigurators.VFIO);
    assertThat(vfioHolds(lone.address())).as("/sys/bus/pci/drivers/vfio-pci holds it").isTrue();
    assertThat(device(lone.address()).netInterfaces()).as("the host's interface went with the driver").isEmpty();

    Status stopped = apply(plan, List.of());
    assertThat(stopped.error()).isEmpty();
    assertThat(device(lone.address()).driver()).contains(OWN_DRIVER);
    assertThat(vfioHolds(lone.address())).isFalse();
    // the kernel names it anew (the lowest free ethN): that it has one again is what matters
    assertThat(device(lone.address()).netInterfaces()).as("vmxnet3 made its interface again").hasSize(1);
  }

  /**
   * The two NICs behind the PCI bridge share a group: one cannot go while the host uses the other
   * (refused, precisely, and nothing is unbound); once the host uses neither, the whole group goes
   * to vfio-pci together and comes back together.
   */
  @Test
  void aGroupSharedWithAPortTheHostUsesIsRefusedAndGoesWholeOnceTheHostLetsGo() {
    Map<Integer, List<PciDevice>> byGroup = vmxnet3s().stream()
        .collect(Collectors.groupingBy(d -> d.iommuGroup().orElseThrow()));
    List<PciDevice> shared = byGroup.values().stream().filter(g -> g.size() == 2).findFirst()
        .orElseThrow(() -> new AssertionError("no two vmxnet3 in one IOMMU group: " + byGroup));
    PciDevice asked = shared.get(0);
    PciDevice other = shared.get(1);
    String otherIf = other.netInterfaces().get(0);
    List<PhysicalIo> physicalIo = List.of(nic("nic1", asked), nic("nic2", other));
    DeviceNetwork hostUsesOther = DeviceNetwork.newBuilder()
        .addPorts(Port.newBuilder().setLabel("nic2").setIfName(otherIf).setUsage(Port.Usage.USAGE_MANAGEMENT))
        .build();

    AdapterAssignments refused = plan(physicalIo, hostUsesOther, app(APP_A, passthrough("nic1")));
    int group = asked.iommuGroup().orElseThrow();
    assertThat(refused.apps().get(APP_A).errors()).containsExactly("IOMMU group " + group + " of nic1 ("
        + asked.address() + ") also holds " + other.address() + " (" + otherIf + "), a port the host uses");
    assertThat(apply(refused, List.of(APP_A)).error()).isEmpty();
    assertThat(device(asked.address()).driver()).contains(OWN_DRIVER);
    assertThat(device(other.address()).driver()).contains(OWN_DRIVER);
    assertThat(device(other.address()).netInterfaces()).as("the host's port is untouched").containsExactly(otherIf);

    AdapterAssignments whole = plan(physicalIo, DeviceNetwork.getDefaultInstance(), app(APP_A, passthrough("nic1")));
    assertThat(whole.apps().get(APP_A).errors()).isEmpty();
    assertThat(whole.apps().get(APP_A).passthrough()).as("the group's PCI bridge stays with the host")
        .containsExactlyInAnyOrder(asked.address(), other.address());
    assertThat(apply(whole, List.of(APP_A)).error()).isEmpty();
    assertThat(device(asked.address()).driver()).contains(IoConfigurators.VFIO);
    assertThat(device(other.address()).driver()).as("its IOMMU sibling goes too").contains(IoConfigurators.VFIO);
    assertThat(vfioHolds(other.address())).isTrue();

    assertThat(apply(whole, List.of()).error()).isEmpty();
    assertThat(device(asked.address()).driver()).contains(OWN_DRIVER);
    assertThat(device(other.address()).driver()).contains(OWN_DRIVER);
    assertThat(device(other.address()).netInterfaces()).hasSize(1);
  }
}
