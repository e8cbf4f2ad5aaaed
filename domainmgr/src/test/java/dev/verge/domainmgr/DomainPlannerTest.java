package dev.verge.domainmgr;

import static dev.verge.domainmgr.Apps.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.domainmgr.DomainPlanner.DomainError;
import dev.verge.domainmgr.DomainPlanner.DomainPlan;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.topics.v1.AppVifPlan;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class DomainPlannerTest {
  static final DomainPlanner.Settings SETTINGS =
      new DomainPlanner.Settings(Path.of("/state/domains"), Path.of("/state/images"), 2048, 256);

  static Map<String, DomainPlan> planAll(Map<String, AppInstanceConfig> apps, Map<String, AppVifPlan> plans) {
    return DomainPlanner.plan(new TreeMap<>(apps), plans, SETTINGS);
  }

  @Test
  void vmFollowsTheAdapterOrderWithZedroutersNames() {
    var plans = planAll(Map.of(APP1, app(APP1, 256, NI2, NI1)),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI2, "02:00:00:00:01:01"), vif("nbu2x1", NI1, "02:00:00:00:01:02"))));

    VmDefinition vm = plans.get(APP1).vm().orElseThrow();
    assertThat(vm.nics()).extracting(VmDefinition.Nic::ifName).containsExactly("nbu1x1", "nbu2x1");
    assertThat(vm.serialLog()).isEqualTo(Path.of("/state/domains", APP1, "console.log"));
    assertThat(plans.get(APP1).errors()).isEmpty();
  }

  @Test
  void theLaterAppOfADuplicateMacIsRefusedTheEarlierKeepsRunning() {
    var plans = planAll(Map.of(APP1, app(APP1, 256, NI1), APP2, app(APP2, 256, NI1)),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01")),
            APP2, plan(APP2, vif("nbu1x2", NI1, "02:00:00:00:01:01"))));

    assertThat(plans.get(APP1).vm()).isPresent();
    assertThat(plans.get(APP2).vm()).isEmpty();
    assertThat(plans.get(APP2).errors()).containsExactly(new DomainError("DUPLICATE_MAC",
        "adapter eth0: MAC 02:00:00:00:01:01 is already used by app " + APP1));
  }

  @Test
  void memoryTheHostCannotGiveIsRefusedOthersUnaffected() {
    var plans = planAll(Map.of(APP1, app(APP1, 1024, NI1), APP2, app(APP2, 1024, NI1)),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01")),
            APP2, plan(APP2, vif("nbu1x2", NI1, "02:00:00:00:01:02"))));

    assertThat(plans.get(APP1).vm()).isPresent();
    assertThat(plans.get(APP2).errors()).containsExactly(new DomainError("INSUFFICIENT_MEMORY",
        "memory 1024 MiB is more than the host can give: 768 MiB left of 2048 MiB (256 MiB kept for the host)"));
  }

  @Test
  void aVifWithoutPlanNamesTheNetworkInstance() {
    var plans = planAll(Map.of(APP1, app(APP1, 256, NI1, NI2)),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01"))));

    assertThat(plans.get(APP1).errors()).containsExactly(new DomainError("UNKNOWN_NETWORK_INSTANCE",
        "adapter eth1: zedrouter planned no VIF on network instance " + NI2 + " (unknown or not ready)"));
    assertThat(plans.get(APP1).vm()).isEmpty();
  }

  @Test
  void noPlanAtAllAndNoBootSourceAreReported() {
    var plans = planAll(Map.of(APP1, app(APP1, 256, NI1).toBuilder().clearBoot().build()), Map.of());

    assertThat(plans.get(APP1).errors()).extracting(DomainError::reason).containsExactly("NO_VIF_PLAN", "NO_BOOT_SOURCE");
  }

  @Test
  void relativeImagePathsAreInTheImageStoreAbsoluteOnesStay() {
    AppInstanceConfig relative = app(APP1, 256, NI1).toBuilder().setBoot(dev.verge.proto.config.v1.BootSource.newBuilder()
        .setKernel(dev.verge.proto.config.v1.KernelBoot.newBuilder().setKernel("guest/vmlinuz").setInitrd("guest/initrd.img"))).build();
    AppInstanceConfig absolute = app(APP2, 256, NI1).toBuilder().setBoot(dev.verge.proto.config.v1.BootSource.newBuilder()
        .setDisk(dev.verge.proto.config.v1.DiskBoot.newBuilder().setPath("/persist/img/base.qcow2"))).build();
    var plans = planAll(Map.of(APP1, relative, APP2, absolute),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01")), APP2, plan(APP2, vif("nbu1x2", NI1, "02:00:00:00:01:02"))));

    var kernel = (VmDefinition.KernelBoot) plans.get(APP1).vm().orElseThrow().boot();
    assertThat(kernel.kernel()).isEqualTo(Path.of("/state/images/guest/vmlinuz"));
    assertThat(kernel.initrd()).contains(Path.of("/state/images/guest/initrd.img"));
    var disk = (VmDefinition.DiskBoot) plans.get(APP2).vm().orElseThrow().boot();
    assertThat(disk.baseImage()).isEqualTo(Path.of("/persist/img/base.qcow2"));
  }
}
