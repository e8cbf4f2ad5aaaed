package dev.verge.domainmgr;

import static dev.verge.domainmgr.Apps.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.domainmgr.DomainItems.HotNic;
import dev.verge.domainmgr.DomainItems.Tap;
import dev.verge.domainmgr.DomainItems.Vm;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.ItemEntry;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The intended graph from the plans and what the VMs were booted with: restart versus hot-plug. */
class IntendedStateTest {
  static final String TAP1 = "nbu1x1";
  static final String TAP2 = "nbu2x1";

  static Map<String, DomainPlanner.DomainPlan> plans(int memoryMb, String... nis) {
    var vifs = new dev.verge.topics.v1.PlannedVif[nis.length];
    for (int i = 0; i < nis.length; i++) {
      vifs[i] = vif("nbu" + (i + 1) + "x1", nis[i], "02:00:00:00:01:0" + (i + 1));
    }
    return DomainPlanner.plan(new TreeMap<>(Map.of(APP1, app(APP1, memoryMb, nis))), Map.of(APP1, plan(APP1, vifs)),
        DomainPlannerTest.SETTINGS);
  }

  static Vm vm(Map<String, DomainPlanner.DomainPlan> plans) {
    return new Vm(plans.get(APP1).vm().orElseThrow(), 0,
        plans.get(APP1).nics().stream().map(nic -> nic.vif().getIpAddress()).toList());
  }

  @Test
  void theVmDependsOnItsTaps() {
    GraphR graph = DomainmgrAgent.intendedState(plans(256, NI1, NI2), Map.of());

    assertThat(graph.items(true)).extracting(ItemEntry::item).extracting(i -> i.ref().toString())
        .containsExactlyInAnyOrder("Tap/" + TAP1, "Tap/" + TAP2, "Vm/" + APP1);
    assertThat(graph.outgoingEdges(ItemRef.of(Vm.TYPE, APP1))).extracting(e -> e.to().toString())
        .containsExactly("Tap/" + TAP1, "Tap/" + TAP2);
  }

  @Test
  void aRenumberedNetworkInstanceRestartsTheVmSoTheGuestLeasesItsNewAddress() {
    Vm booted = vm(plans(256, NI1));
    var renumbered = DomainPlanner.plan(new TreeMap<>(Map.of(APP1, app(APP1, 256, NI1))),
        Map.of(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01").toBuilder().setIpAddress("10.5.0.10").build())),
        DomainPlannerTest.SETTINGS);

    Vm wanted = (Vm) DomainmgrAgent.intendedState(renumbered, Map.of(APP1, booted))
        .item(ItemRef.of(Vm.TYPE, APP1)).orElseThrow().item();

    assertThat(wanted.definition()).as("QEMU's arguments do not change").isEqualTo(booted.definition());
    assertThat(wanted.guestAddresses()).containsExactly("10.5.0.10");
    assertThat(wanted.isEqual(booted)).as("so the reconciler recreates the VM").isFalse();
  }

  @Test
  void anAdapterAppendedToARunningVmIsAHotNicOnTheBootedVm() {
    Vm booted = vm(plans(256, NI1));

    GraphR graph = DomainmgrAgent.intendedState(plans(256, NI1, NI2), Map.of(APP1, booted));

    assertThat(graph.item(ItemRef.of(Vm.TYPE, APP1)).orElseThrow().item()).isEqualTo(booted);
    assertThat(graph.item(ItemRef.of(HotNic.TYPE, TAP2)).orElseThrow().item())
        .isEqualTo(new HotNic(APP1, 1, plans(256, NI1, NI2).get(APP1).vm().orElseThrow().nics().get(1)));
    assertThat(graph.item(ItemRef.of(Tap.TYPE, TAP2))).isPresent();
  }

  @Test
  void aHotNicIsPlannedAgainForARestartedQemuSoTheReconcilerPlugsItBackWithoutRestartingTheVm() {
    Vm booted = vm(plans(256, NI1));
    Item before = DomainmgrAgent.intendedState(plans(256, NI1, NI2), Map.of(APP1, booted), java.util.List.of(), Map.of(APP1, 0))
        .item(ItemRef.of(HotNic.TYPE, TAP2)).orElseThrow().item();

    GraphR graph = DomainmgrAgent.intendedState(plans(256, NI1, NI2), Map.of(APP1, booted), java.util.List.of(), Map.of(APP1, 1));

    Item after = graph.item(ItemRef.of(HotNic.TYPE, TAP2)).orElseThrow().item();
    assertThat(((HotNic) after).qemuStart()).isEqualTo(1);
    assertThat(after.isEqual(before)).as("the NIC of the crashed QEMU differs from the one to plug now").isFalse();
    assertThat(graph.item(ItemRef.of(Vm.TYPE, APP1)).orElseThrow().item()).isEqualTo(booted);
  }

  @Test
  void anyOtherChangeRestartsTheVmWithTheNewDefinition() {
    Vm booted = vm(plans(256, NI1));
    var bigger = plans(512, NI1, NI2);

    GraphR graph = DomainmgrAgent.intendedState(bigger, Map.of(APP1, booted));

    assertThat(graph.item(ItemRef.of(Vm.TYPE, APP1)).orElseThrow().item()).isEqualTo(vm(bigger));
    assertThat(graph.item(ItemRef.of(HotNic.TYPE, TAP2))).isEmpty();
  }

  @Test
  void aRefusedChangeKeepsTheRunningVm() {
    Vm booted = vm(plans(256, NI1));
    var refused = plans(64 * 1024, NI1); // more memory than the host has

    GraphR graph = DomainmgrAgent.intendedState(refused, Map.of(APP1, booted));

    assertThat(refused.get(APP1).errors()).isNotEmpty();
    assertThat(graph.item(ItemRef.of(Vm.TYPE, APP1)).orElseThrow().item()).isEqualTo(booted);
    assertThat(graph.item(ItemRef.of(Tap.TYPE, TAP1))).isPresent();
  }
}
