package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.SimWorld;
import dev.verge.hostos.BridgeVlan;
import dev.verge.hostos.sim.SimKernel;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VLAN access and trunk VIFs on a switch NI (EVE's model) through bridge VLAN filtering on the sim,
 * whose bridge forwards frames by the ports' VLANs as the kernel does: apps of one access VLAN talk,
 * apps of two do not, a trunk VIF and the uplink carry the VLANs tagged. This machine's kernel has no
 * VLAN filtering: {@code SwitchNiVlanIT} checks the precise error there, and the VLANs in the lab VM.
 */
class SwitchNiVlanTest {
  static final String APP3 = "aaaaaaaa-0000-4000-8000-000000000003";
  static final String APP4 = "aaaaaaaa-0000-4000-8000-000000000004";

  @TempDir Path dir;
  SimWorld world;
  SimKernel kernel;
  Publication<AppInstanceConfig> apps;
  Subscription<NetworkInstanceStatus> niStatus;
  Subscription<AppNetworkStatus> appStatus;
  Subscription<AppVifPlan> vifPlans;

  static NetworkAdapter access(int vid) {
    return vif(NI1).toBuilder().setAccessVlanId(vid).build();
  }

  static NetworkAdapter trunk(Integer... vids) {
    return vif(NI1).toBuilder().addAllTrunkVlanIds(List.of(vids)).build();
  }

  @BeforeEach
  void world() {
    world = new SimWorld(dir.resolve("sim"));
    kernel = world.host.kernel();
    kernel.plugNic("eth1", 0);
    for (int app = 1; app <= 4; app++) {
      kernel.plugNic("nbu1x" + app, 0); // domainmgr's taps
    }
    world.bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", ports(l2Port("lan", "eth1")));
    world.networkInstances().publish(NI1, switchNi(NI1, "lan"));
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    apps.publish(APP1, app(APP1, "a10", access(10)));
    apps.publish(APP2, app(APP2, "b10", access(10)));
    apps.publish(APP3, app(APP3, "c20", access(20)));
    apps.publish(APP4, app(APP4, "router", trunk(10, 20)));
    niStatus = world.watch(ZedrouterTopics.NETWORK_INSTANCE_STATUS);
    appStatus = world.watch(ZedrouterTopics.APP_NETWORK_STATUS);
    vifPlans = world.watch(ZedrouterTopics.APP_VIF_PLAN);
    world.start(new ZedrouterAgent("node-1", dir.resolve("state")));
    settle();
  }

  @AfterEach
  void close() {
    world.close();
  }

  private void settle() {
    world.settle();
    world.advance(SimWorld.SETTINGS.debounce());
  }

  /** An untagged frame from one port to another: empty when not delivered, else the tag it leaves with. */
  private Optional<OptionalInt> untagged(String from, String to) {
    return kernel.bridgeFrame(from, OptionalInt.empty(), to);
  }

  private Optional<OptionalInt> tagged(String from, int vid, String to) {
    return kernel.bridgeFrame(from, OptionalInt.of(vid), to);
  }

  @Test
  void accessPortsOfOneVlanTalkAndOfTwoDoNotWhileTrunksCarryTheirVlansTagged() {
    assertThat(niStatus.snapshot().get(NI1).getErrorsList()).isEmpty();
    assertThat(niStatus.snapshot().get(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(vifPlans.snapshot().values()).extracting(p -> p.getVifs(0).getVifName())
        .containsExactlyInAnyOrder("nbu1x1", "nbu1x2", "nbu1x3", "nbu1x4");
    assertThat(kernel.vlanFiltering("bn1")).isTrue();
    assertThat(kernel.bridgeVlans("nbu1x1")).containsExactly(new BridgeVlan(10, true, true));
    assertThat(kernel.bridgeVlans("nbu1x3")).containsExactly(new BridgeVlan(20, true, true));
    assertThat(appStatus.snapshot().get(APP3).getVifs(0).getAccessVlanId()).isEqualTo(20);

    // same access VLAN: through, untagged; different ones: not at all
    assertThat(untagged("nbu1x1", "nbu1x2")).contains(OptionalInt.empty());
    assertThat(untagged("nbu1x1", "nbu1x3")).isEmpty();
    assertThat(untagged("nbu1x3", "nbu1x2")).isEmpty();
    // an app cannot hop VLANs by tagging its frames itself
    assertThat(tagged("nbu1x1", 20, "nbu1x3")).isEmpty();

    // the trunk VIF gets each access VLAN tagged, and reaches each by tagging
    assertThat(untagged("nbu1x1", "nbu1x4")).contains(OptionalInt.of(10));
    assertThat(untagged("nbu1x3", "nbu1x4")).contains(OptionalInt.of(20));
    assertThat(tagged("nbu1x4", 20, "nbu1x3")).contains(OptionalInt.empty());
    assertThat(tagged("nbu1x4", 20, "nbu1x1")).isEmpty();
    assertThat(tagged("nbu1x4", 30, "eth1")).as("a VLAN the trunk does not carry").isEmpty();
    assertThat(untagged("nbu1x4", "nbu1x1")).as("untagged is the native VLAN 1").isEmpty();

    // the uplink trunks the VLANs the VIFs use, so the apps reach the segment beyond it tagged
    assertThat(untagged("nbu1x2", "eth1")).contains(OptionalInt.of(10));
    assertThat(tagged("eth1", 20, "nbu1x3")).contains(OptionalInt.empty());
    assertThat(tagged("eth1", 30, "nbu1x3")).isEmpty();
  }

  @Test
  void aVlanChangeIsAppliedAndWithoutVlansTheBridgeStopsFiltering() {
    apps.publish(APP2, app(APP2, "b10", access(20)));
    settle();
    assertThat(untagged("nbu1x1", "nbu1x2")).isEmpty();
    assertThat(untagged("nbu1x3", "nbu1x2")).contains(OptionalInt.empty());

    // every app a plain trunk: EVE filters no VLANs then
    for (String app : List.of(APP1, APP2, APP3, APP4)) {
      apps.publish(app, app(app, "plain", vif(NI1)));
    }
    settle();
    assertThat(kernel.vlanFiltering("bn1")).isFalse();
    assertThat(untagged("nbu1x1", "nbu1x3")).contains(OptionalInt.empty());
  }

  @Test
  void badVlansAreRefusedWithPreciseErrorsAndTheOtherAppsKeepTheirs() {
    apps.publish(APP2, app(APP2, "b10", access(5000)));
    apps.publish(APP3, app(APP3, "c20", access(20).toBuilder().addTrunkVlanIds(30).build()));
    apps.publish(APP4, app(APP4, "router", trunk(10, 1)));
    world.networkInstances().publish(NI2, local(NI2, "10.2.0.0/24", ""));
    apps.publish("aaaaaaaa-0000-4000-8000-000000000005", app("aaaaaaaa-0000-4000-8000-000000000005", "routed",
        vif(NI2).toBuilder().setAccessVlanId(10).build()));
    settle();
    assertThat(appStatus.snapshot().get(APP2).getErrorsList()).extracting(e -> e.getReason() + " " + e.getDescription())
        .containsExactly("BAD_VLAN_ID access VLAN 5000 is not in 2..4093");
    assertThat(appStatus.snapshot().get(APP3).getErrorsList()).extracting(e -> e.getReason())
        .containsExactly("TRUNK_VLANS_ON_ACCESS_PORT");
    assertThat(appStatus.snapshot().get(APP4).getErrorsList()).extracting(e -> e.getReason() + " " + e.getDescription())
        .containsExactly("BAD_VLAN_ID trunk VLAN 1 is not in 2..4093");
    assertThat(appStatus.snapshot().get("aaaaaaaa-0000-4000-8000-000000000005").getErrorsList())
        .extracting(e -> e.getReason()).containsExactly("VLAN_ON_ROUTED_NI");
    // the refused apps keep their last good plan; APP1 is untouched
    assertThat(untagged("nbu1x1", "nbu1x2")).contains(OptionalInt.empty());
    assertThat(kernel.bridgeVlans("nbu1x1")).containsExactly(new BridgeVlan(10, true, true));
  }
}
