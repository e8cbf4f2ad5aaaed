package dev.verge.domainmgr.io;

import static dev.verge.domainmgr.io.IoFixture.APP_A;
import static dev.verge.domainmgr.io.IoFixture.APP_B;
import static dev.verge.domainmgr.io.IoFixture.APP_C;
import static dev.verge.domainmgr.io.IoFixture.app;
import static dev.verge.domainmgr.io.IoFixture.passthrough;
import static dev.verge.domainmgr.io.IoFixture.vf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.domainmgr.io.AdapterAssignments.AppDevices;
import dev.verge.domainmgr.io.AdapterAssignments.AssignedVf;
import dev.verge.domainmgr.io.AdapterAssignments.VfCount;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.sim.FakeSysfs;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.EthVf;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.info.v1.AdapterBundle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assignment rules over the fixture machine's sysfs tree, with no kernel. */
class AdapterAssignmentsTest {
  @TempDir Path root;
  private FakeSysfs sysfs;

  @BeforeEach
  void machine() {
    sysfs = FakeSysfs.create(root, IoFixture.DRIVERS, IoFixture.DEVICES);
  }

  private AdapterAssignments plan(PhysicalIo pf, Map<String, String> previous, AppInstanceConfig... apps) {
    IoInventory inventory = IoInventory.of(IoFixture.physicalIo(pf), IoFixture.NETWORK, sysfs.sysfs().pciDevices());
    return AdapterAssignments.plan(inventory, List.of(apps), previous);
  }

  private AdapterAssignments plan(AppInstanceConfig... apps) {
    return plan(IoFixture.pf(4), Map.of(), apps);
  }

  private static AdapterBundle bundle(AdapterAssignments plan, String name) {
    return plan.status().getAdaptersList().stream().filter(b -> b.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aGroupGoesWithItsIommuSiblings() {
    AdapterAssignments plan = plan(app(APP_A, passthrough("gpu")));
    AppDevices a = plan.apps().get(APP_A);
    assertThat(a.errors()).isEmpty();
    assertThat(a.passthrough()).containsExactly(PciAddress.of("0000:04:00.0"), PciAddress.of("0000:04:00.1"));
    assertThat(bundle(plan, "gpu").getUsedByAppUuid()).isEqualTo(APP_A);
    assertThat(bundle(plan, "gpu").getMembersList()).containsExactly("0000:04:00.0", "0000:04:00.1");
    assertThat(bundle(plan, "eth4").getUsedByAppUuid()).isEmpty();
  }

  @Test
  void anAssignedAdapterIsRefusedToTheSecondAppOnlyAndItsHolderKeepsIt() {
    AdapterAssignments plan = plan(app(APP_B, passthrough("eth4")), app(APP_A, passthrough("eth4")));
    assertThat(plan.apps().get(APP_A).passthrough()).containsExactly(PciAddress.of("0000:06:00.0"));
    assertThat(plan.apps().get(APP_B).errors())
        .containsExactly("adapter eth4 (assignment group eth4) is already assigned to app " + APP_A);
    assertThat(plan.apps().get(APP_B).passthrough()).isEmpty();

    AdapterAssignments held = plan(IoFixture.pf(4), Map.of("eth4", APP_B),
        app(APP_A, passthrough("eth4")), app(APP_B, passthrough("eth4")));
    assertThat(held.apps().get(APP_B).passthrough()).containsExactly(PciAddress.of("0000:06:00.0"));
    assertThat(held.apps().get(APP_A).refused()).isTrue();
    assertThat(held.owners()).containsEntry("eth4", APP_B);
  }

  @Test
  void managementPortsAndInUseUplinksStayWithTheHost() {
    AdapterAssignments plan = plan(app(APP_A, passthrough("eth0")), app(APP_B, passthrough("eth3")),
        app(APP_C, passthrough("eth4")));
    assertThat(plan.apps().get(APP_A).errors()).containsExactly("eth0 is a management port: it stays with the host");
    assertThat(plan.apps().get(APP_B).errors())
        .containsExactly("eth3 (eth3) is an uplink the host uses: it stays with the host");
    assertThat(plan.apps().get(APP_C).passthrough()).containsExactly(PciAddress.of("0000:06:00.0"));
  }

  @Test
  void aGroupSharingItsIommuGroupWithAHostPortIsRefused() {
    AdapterAssignments plan = plan(app(APP_A, passthrough("eth2"), passthrough("gpu")));
    assertThat(plan.apps().get(APP_A).errors()).containsExactly(
        "IOMMU group 14 of eth2 (0000:05:00.0) also holds 0000:05:00.1 (eth3), a port the host uses");
    assertThat(plan.apps().get(APP_A).passthrough()).as("all or nothing").isEmpty();
    assertThat(bundle(plan, "gpu").getUsedByAppUuid()).as("a refused app holds nothing").isEmpty();
  }

  @Test
  void aSiblingAnotherAppHoldsIsRefused() {
    // eth2's group holds eth3: once nim no longer runs eth3, an app holding eth3 blocks eth2's group
    IoInventory inventory = IoInventory.of(IoFixture.physicalIo(IoFixture.pf(4)),
        dev.verge.topics.v1.DeviceNetwork.getDefaultInstance(), sysfs.sysfs().pciDevices());
    AdapterAssignments plan = AdapterAssignments.plan(inventory,
        List.of(app(APP_A, passthrough("eth3")), app(APP_B, passthrough("eth2"))), Map.of());
    assertThat(plan.apps().get(APP_A).passthrough())
        .containsExactly(PciAddress.of("0000:05:00.0"), PciAddress.of("0000:05:00.1"));
    assertThat(plan.apps().get(APP_B).errors()).containsExactly(
        "eth2 (0000:05:00.0) is already passed through to app " + APP_A + " with IOMMU group 14");
    assertThat(bundle(plan, "eth2").getUsedByAppUuid()).as("held as eth3's sibling").isEqualTo(APP_A);
  }

  @Test
  void vfsGetTheAppsMacAndVlanAndBadVfRequestsFailOnlyTheirApp() {
    AdapterAssignments plan = plan(
        app(APP_A, vf("eth1", 1, "02:00:00:00:0a:01", 100)),
        app(APP_B, vf("eth1", 4, "", 0)),
        app(APP_C, vf("eth1", 2, "02:00:00:00:0a:01", 0)));
    PciAddress pf = PciAddress.of("0000:03:00.0");
    assertThat(plan.vfCounts()).containsExactly(new VfCount(pf, "eth1", 4));
    assertThat(plan.apps().get(APP_A).vfs())
        .containsExactly(new AssignedVf(pf, "eth1", 1, Optional.of(MacAddress.of("02:00:00:00:0a:01")), 100));
    assertThat(plan.apps().get(APP_B).errors()).containsExactly("VF 4 of eth1 is out of range: eth1 has 4 VFs (0..3)");
    assertThat(plan.apps().get(APP_C).errors()).containsExactly(
        "MAC 02:00:00:00:0a:01 of VF 2 of eth1 is already used by VF 1 of eth1 (app " + APP_A + ")");
    assertThat(bundle(plan, "eth1vf1").getUsedByAppUuid()).isEqualTo(APP_A);
    assertThat(bundle(plan, "eth1vf2").getUsedByAppUuid()).isEmpty();
  }

  @Test
  void aVfWithoutAppSettingsTakesThePfsListEntry() {
    AdapterAssignments plan = plan(
        IoFixture.pf(2, EthVf.newBuilder().setIndex(0).setMac("02:00:00:00:0b:00").setVlanId(7).build()), Map.of(),
        app(APP_A, vf("eth1", 0, "", 0)));
    assertThat(plan.apps().get(APP_A).vfs()).extracting(AssignedVf::mac, AssignedVf::vlan)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Optional.of(MacAddress.of("02:00:00:00:0b:00")), 7));
  }

  @Test
  void moreVfsThanThePfSupportsFailTheVfUsersAndThePfNotOthers() {
    AdapterAssignments plan = plan(IoFixture.pf(16), Map.of(),
        app(APP_A, vf("eth1", 0, "", 0)), app(APP_B, passthrough("gpu")));
    String reason = "eth1 asks for 16 VFs but 0000:03:00.0 supports at most 8 (sriov_totalvfs)";
    assertThat(plan.vfCounts()).isEmpty();
    assertThat(plan.apps().get(APP_A).errors()).containsExactly("VF 0 of eth1: " + reason);
    assertThat(bundle(plan, "eth1").getError().getDescription()).isEqualTo(reason);
    assertThat(plan.apps().get(APP_B).refused()).isFalse();
  }

  @Test
  void unknownAdaptersAndAdaptersWithoutAGroupAreNamed() {
    AdapterAssignments plan = plan(app(APP_A, passthrough("nosuch")), app(APP_B, passthrough("eth1")));
    assertThat(plan.apps().get(APP_A).errors()).containsExactly("unknown adapter nosuch");
    assertThat(plan.apps().get(APP_B).errors())
        .containsExactly("adapter eth1 has no assignment group: it cannot be passed through");
  }
}
