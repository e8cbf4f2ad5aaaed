package dev.verge.domainmgr.io;

import static dev.verge.domainmgr.io.IoFixture.APP_A;
import static dev.verge.domainmgr.io.IoFixture.APP_B;
import static dev.verge.domainmgr.io.IoFixture.app;
import static dev.verge.domainmgr.io.IoFixture.passthrough;
import static dev.verge.domainmgr.io.IoFixture.vf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.VfSettings;
import dev.verge.hostos.sim.SimHost;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.reconciler.DefaultRegistry;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.Reconciler;
import dev.verge.reconciler.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The I/O items through the real reconciler onto the fake sysfs tree and the sim kernel's VFs. */
class IoConfiguratorsTest {
  private static final PciAddress PF = PciAddress.of("0000:03:00.0");
  private static final PciAddress GPU = PciAddress.of("0000:04:00.0");
  private static final PciAddress GPU_AUDIO = PciAddress.of("0000:04:00.1");
  private static final MacAddress MAC_A = MacAddress.of("02:00:00:00:0a:01");
  private static final MacAddress MAC_B = MacAddress.of("02:00:00:00:0b:01");

  @TempDir Path scratch;
  private SimHost host;
  private Reconciler reconciler;
  private Graph current;

  private void machine(List<String> drivers) {
    host = SimHost.create(scratch, drivers, IoFixture.DEVICES);
    host.kernel().plugNic("eth1", 8);
    DefaultRegistry registry = new DefaultRegistry();
    IoConfigurators.register(registry::register, host, Duration.ofSeconds(1));
    reconciler = Reconciler.create(registry);
  }

  @AfterEach
  void close() {
    if (host != null) {
      host.close();
    }
  }

  /** Plans over what sysfs shows now, reconciles, and returns the run's status. */
  private Status apply(PhysicalIo pf, List<String> running, AppInstanceConfig... apps) {
    IoInventory inventory = IoInventory.of(IoFixture.physicalIo(pf), IoFixture.NETWORK, host.sysfs().pciDevices());
    List<Item> items = IoItems.of(AdapterAssignments.plan(inventory, List.of(apps), Map.of()), running);
    Status status = reconciler.reconcile(current,
        Graphs.newGraph(GraphSpec.named("domainmgr").withItems(items.toArray(Item[]::new))));
    current = status.newCurrentState();
    return status;
  }

  private PciDevice device(PciAddress address) {
    return host.sysfs().pciDevice(address).orElseThrow();
  }

  private PciAddress vfAddress(int index) {
    return device(PF).virtualFunctions().get(index);
  }

  private VfSettings vfOnPf(int index) {
    return host.network().vfs("eth1").get(index);
  }

  @Test
  void vfsGetTheirAppsMacAndVlanAndGoToVfio() {
    machine(IoFixture.DRIVERS);
    Status status = apply(IoFixture.pf(4), List.of(APP_A, APP_B),
        app(APP_A, vf("eth1", 0, MAC_A.value(), 10)), app(APP_B, vf("eth1", 3, MAC_B.value(), 20)));
    assertThat(status.error()).isEmpty();
    assertThat(device(PF).numVfs()).isEqualTo(4);
    assertThat(host.network().link("eth1").map(l -> l.up())).as("the PF is up for its VFs").contains(true);
    assertThat(vfOnPf(0).mac()).contains(MAC_A);
    assertThat(vfOnPf(0).vlan()).contains(10);
    assertThat(vfOnPf(3).mac()).contains(MAC_B);
    assertThat(vfOnPf(3).vlan()).contains(20);
    assertThat(vfOnPf(3).spoofCheck()).contains(true);
    assertThat(device(vfAddress(0)).driver()).contains("vfio-pci");
    assertThat(device(vfAddress(3)).driver()).contains("vfio-pci");
    assertThat(device(vfAddress(1)).driver()).as("a VF no app asked for stays with the host").contains("iavf");
  }

  @Test
  void aVfCountChangeRemakesTheVfsAndBindsTheAppsVfAgain() {
    machine(IoFixture.DRIVERS);
    apply(IoFixture.pf(4), List.of(APP_A), app(APP_A, vf("eth1", 1, MAC_A.value(), 10)));
    PciAddress before = vfAddress(3);

    Status status = apply(IoFixture.pf(2), List.of(APP_A), app(APP_A, vf("eth1", 1, MAC_A.value(), 10)));
    assertThat(status.error()).isEmpty();
    assertThat(device(PF).numVfs()).isEqualTo(2);
    assertThat(host.sysfs().pciDevice(before)).as("VF 3 went with the count").isEmpty();
    assertThat(device(vfAddress(1)).driver()).as("the kernel remade VF 1 on iavf; it is bound again")
        .contains("vfio-pci");
    assertThat(vfOnPf(1).mac()).contains(MAC_A);
  }

  @Test
  void stoppingAnAppGivesItsDevicesAndIommuSiblingsBackToTheirDriversAndClearsItsVf() {
    machine(IoFixture.DRIVERS);
    AppInstanceConfig a = app(APP_A, passthrough("gpu"), vf("eth1", 0, MAC_A.value(), 10));
    apply(IoFixture.pf(4), List.of(APP_A), a);
    assertThat(device(GPU).driver()).contains("vfio-pci");
    assertThat(device(GPU_AUDIO).driver()).as("the IOMMU sibling goes too").contains("vfio-pci");

    Status status = apply(IoFixture.pf(4), List.of(), a);
    assertThat(status.error()).isEmpty();
    assertThat(device(GPU).driver()).contains("nouveau");
    assertThat(device(GPU_AUDIO).driver()).contains("snd_hda_intel");
    assertThat(device(vfAddress(0)).driver()).contains("iavf");
    assertThat(vfOnPf(0).mac()).contains(MacAddress.of("00:00:00:00:00:00"));
    assertThat(vfOnPf(0).vlan()).contains(0);
    assertThat(device(PF).numVfs()).as("the PF keeps its VFs for the next app").isEqualTo(4);
  }

  @Test
  void anIommuConflictLeavesTheHostsDevicesAloneWhileTheOtherAppGetsItsOwn() {
    machine(IoFixture.DRIVERS);
    Status status = apply(IoFixture.pf(4), List.of(APP_A, APP_B),
        app(APP_A, passthrough("eth2")), app(APP_B, passthrough("eth4")));
    assertThat(status.error()).isEmpty();
    assertThat(device(PciAddress.of("0000:05:00.0")).driver()).contains("igb");
    assertThat(device(PciAddress.of("0000:05:00.1")).driver()).contains("igb");
    assertThat(host.sysfs().pciAddressOf("eth3")).as("the host's uplink is still there").isPresent();
    assertThat(device(PciAddress.of("0000:06:00.0")).driver()).contains("vfio-pci");
  }

  @Test
  void withoutVfioPciTheBindFailsNamingTheModuleAndTheDeviceGoesBackToItsDriver() {
    machine(List.of("e1000e", "i40e", "iavf", "igb", "nouveau", "snd_hda_intel"));
    Status status = apply(IoFixture.pf(0), List.of(APP_A), app(APP_A, passthrough("eth4")));
    assertThat(status.error()).isPresent();
    assertThat(status.error().get().getMessage()).contains(
        "cannot bind 0000:06:00.0 to vfio-pci: device is bound to no driver after drivers_probe"
            + " (is the vfio-pci module loaded?)");
    assertThat(current.item(new IoItems.VfioBinding(new IoItems.PciFunction(PciAddress.of("0000:06:00.0")), APP_A)
        .ref()).orElseThrow().stateOrCreated().state()).isEqualTo(dev.verge.reconciler.ItemState.FAILURE);
    assertThat(device(PciAddress.of("0000:06:00.0")).driver()).contains("igb");
    assertThat(host.sysfs().pciAddressOf("eth4")).isPresent();
  }

  @Test
  void aVfSharingItsIommuGroupIsRefusedAtBindTimeAndStaysWithTheHost() {
    machine(IoFixture.DRIVERS);
    host.fakeSysfs().vfsInTheirPfsIommuGroup();
    Status status = apply(IoFixture.pf(2), List.of(APP_A), app(APP_A, vf("eth1", 0, MAC_A.value(), 10)));
    assertThat(status.error()).isPresent();
    assertThat(status.error().get().getMessage()).contains("cannot bind " + PF + "/vf0: IOMMU group 12 of "
        + vfAddress(0) + " also holds [" + PF + ", " + vfAddress(1) + "]: a VF is passed through alone (EBUSY)");
    assertThat(device(vfAddress(0)).driver()).contains("iavf");
    assertThat(vfOnPf(0).mac()).as("the VF itself was set up; only the handover is refused").contains(MAC_A);
  }
}
