package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.Bridges;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch NI's VLAN access and trunk VIFs on the real kernel (what {@code SwitchNiVlanTest} checks
 * on the sim): the device ({@code dev}) bridges its uplink {@code eth1}, a trunk to {@code up}
 * (tagged sub-interfaces for VLANs 10 and 20), and four app hosts whose veth ends are their VIFs:
 * {@code a10} and {@code b10} on access VLAN 10, {@code c20} on access VLAN 20, {@code trunk} a
 * trunk of 10 and 20 with a tagged sub-interface for each. VLAN 10 is 10.10.0.0/24, VLAN 20
 * 10.20.0.0/24; {@code c20} also has an address in VLAN 10's subnet, so only the VLANs keep it apart.
 *
 * <p>Bridge VLAN filtering is a kernel feature: without it (this machine's kernel) the NI refuses
 * precisely, naming it; with it (the lab VM's, where it must be there) the VLANs work.
 */
class SwitchNiVlanIT {
  static final Duration WAIT = Duration.ofSeconds(20);
  static final String APP3 = "aaaaaaaa-0000-4000-8000-000000000003";
  static final String APP4 = "aaaaaaaa-0000-4000-8000-000000000004";

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns up;
  Netns a10;
  Netns b10;
  Netns c20;
  Netns trunk;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;

  /** Every IP packet both ways: the VLANs, not the ACLs, are what this test is about. */
  static NetworkAdapter access(int vid) {
    return vif(NI1, ace(1, "ip", "0.0.0.0/0")).toBuilder().setAccessVlanId(vid).build();
  }

  static NetworkAdapter trunk(Integer... vids) {
    return vif(NI1, ace(1, "ip", "0.0.0.0/0")).toBuilder().addAllTrunkVlanIds(List.of(vids)).build();
  }

  @BeforeEach
  void start() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("zv");
    dev = topology.namespace("dev");
    up = topology.namespace("up");
    a10 = topology.namespace("a10");
    b10 = topology.namespace("b10");
    c20 = topology.namespace("c20");
    trunk = topology.namespace("trunk");
    topology.veth(dev, "eth1", up, "eth0");
    topology.veth(dev, "nbu1x1", a10, "eth0");
    topology.veth(dev, "nbu1x2", b10, "eth0");
    topology.veth(dev, "nbu1x3", c20, "eth0");
    topology.veth(dev, "nbu1x4", trunk, "eth0");
    a10.address("eth0", "10.10.0.11/24");
    b10.address("eth0", "10.10.0.12/24");
    c20.address("eth0", "10.20.0.13/24").address("eth0", "10.10.0.13/24");

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", ports(l2Port("lan", "eth1")));
    bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE).publish(NI1, switchNi(NI1, "lan"));
    var apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    apps.publish(APP1, app(APP1, "a10", access(10)));
    apps.publish(APP2, app(APP2, "b10", access(10)));
    apps.publish(APP3, app(APP3, "c20", access(20)));
    apps.publish(APP4, app(APP4, "trunk", trunk(10, 20)));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  /**
   * Whether this kernel's bridges filter VLANs, with iproute2 as the independent witness. In the lab
   * VM (-Dverge.lab=true) it must: a missing module must not pass as a precise refusal.
   */
  private boolean kernelFiltersVlans() {
    Netns probe = topology.namespace("probe");
    boolean filters = probe.exec("ip", "link", "add", "vfprobe0", "type", "bridge", "vlan_filtering", "1").ok();
    System.out.println("SwitchNiVlanIT: kernel " + System.getProperty("os.version") + " filters bridge VLANs: " + filters);
    if (Boolean.getBoolean("verge.lab")) {
      assertThat(filters).as("bridge VLAN filtering in the lab VM's kernel").isTrue();
    }
    return filters;
  }

  /** A tagged sub-interface {@code eth0.<vid>} of a host's eth0, with an address. */
  private static void vlanSubInterface(Netns ns, int vid, String cidr) {
    ns.ip("link", "add", "link", "eth0", "name", "eth0." + vid, "type", "vlan", "id", Integer.toString(vid));
    ns.address("eth0." + vid, cidr);
  }

  @Test
  void sameVlanAppsTalkOtherVlansAreCutOffAndTrunksCarryTheVlansTagged() {
    boolean filters = kernelFiltersVlans();
    Subscription<NetworkInstanceStatus> status =
        bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT));
    if (!filters) {
      await().atMost(WAIT).until(() -> status.snapshot().containsKey(NI1)
          && status.snapshot().get(NI1).getErrorsList().stream()
              .anyMatch(e -> e.getDescription().contains(Bridges.NO_VLAN_FILTERING)));
      assertThat(status.snapshot().get(NI1).getState()).isNotEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
      assertThat(status.snapshot().get(NI1).getErrorsList()).extracting(e -> e.getReason()).contains("KERNEL_REFUSED");
      return;
    }
    // the far side of the uplink and the trunk app reach the VLANs over tagged sub-interfaces only
    vlanSubInterface(up, 10, "10.10.0.1/24");
    vlanSubInterface(up, 20, "10.20.0.1/24");
    vlanSubInterface(trunk, 10, "10.10.0.14/24");
    vlanSubInterface(trunk, 20, "10.20.0.14/24");

    await().atMost(WAIT).until(() -> status.snapshot().containsKey(NI1)
        && status.snapshot().get(NI1).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status.snapshot().get(NI1).getErrorsList()).isEmpty();
    await().atMost(WAIT).until(() -> List.of("eth1", "nbu1x1", "nbu1x2", "nbu1x3", "nbu1x4").stream()
        .allMatch(port -> dev.exec("ip", "-o", "link", "show", port).stdout().contains("master bn1")));
    assertThat(dev.ip("-d", "link", "show", "bn1")).contains("vlan_filtering 1");
    // the kernel's own view of the ports' VLANs: access ports untagged, trunks tagged
    await().atMost(WAIT).until(() -> vlans("nbu1x3").contains("20 PVID Egress Untagged"));
    assertThat(vlans("nbu1x1")).contains("10 PVID Egress Untagged").doesNotContain(" 20");
    assertThat(vlans("nbu1x4")).contains("10").contains("20").doesNotContain("10 PVID").doesNotContain("20 PVID");
    assertThat(vlans("eth1")).contains("10").contains("20").doesNotContain("10 PVID").doesNotContain("20 PVID");

    // same access VLAN: they talk
    assertThat(ping(a10, "10.10.0.12")).as("a10 -> b10, both VLAN 10").isTrue();
    // another VLAN: c20's address in VLAN 10's subnet is out of reach, for both VLAN 10 apps
    assertThat(unreachable(a10, "10.10.0.13")).as("a10 -> c20 (VLAN 20)").isTrue();
    assertThat(unreachable(b10, "10.10.0.13")).as("b10 -> c20 (VLAN 20)").isTrue();
    // and an access app cannot hop to VLAN 20 by tagging its frames itself
    vlanSubInterface(a10, 20, "10.20.0.11/24");
    assertThat(unreachable(a10, "10.20.0.13")).as("a10 tagging VLAN 20 -> c20").isTrue();

    // the trunk app reaches each VLAN over its tagged sub-interface
    assertThat(ping(trunk, "10.10.0.11")).as("trunk.10 -> a10").isTrue();
    assertThat(ping(trunk, "10.20.0.13")).as("trunk.20 -> c20").isTrue();

    // the uplink carries both VLANs tagged: the far side's sub-interfaces reach the apps of each
    assertThat(ping(up, "10.10.0.12")).as("up eth0.10 -> b10").isTrue();
    assertThat(ping(up, "10.20.0.13")).as("up eth0.20 -> c20").isTrue();
    // untagged frames on the uplink are VLAN 1, which no app is on
    up.address("eth0", "10.10.0.2/24");
    up.ip("link", "del", "eth0.10");
    assertThat(unreachable(up, "10.10.0.11")).as("untagged on the uplink -> a10").isTrue();
  }

  private String vlans(String port) {
    return dev.exec("bridge", "vlan", "show", "dev", port).stdout().replaceAll("\\s+", " ");
  }

  /** Two tries: the first may be spent on ARP of a fresh neighbour. */
  private static boolean ping(Netns from, String address) {
    return from.exec(Duration.ofSeconds(6), "ping", "-c", "2", "-W", "2", address).ok();
  }

  /**
   * One ping, one second: where the path is open (the pings above) ARP and the echo take
   * milliseconds even under TCG, so a second's silence is a closed path, not a slow one.
   */
  private static boolean unreachable(Netns from, String address) {
    return !from.exec(Duration.ofSeconds(4), "ping", "-c", "1", "-W", "1", address).ok();
  }
}
