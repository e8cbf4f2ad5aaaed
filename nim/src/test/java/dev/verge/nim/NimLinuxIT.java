package dev.verge.nim;

import static dev.verge.nim.Configs.dhcp;
import static dev.verge.nim.Configs.eth;
import static dev.verge.nim.Configs.staticNet;
import static dev.verge.nim.Configs.staticUplink;
import static dev.verge.nim.Configs.uplink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentRuntime;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.MiiMonitor;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nim on the real kernel, in namespaces: a device with eth0 (static, cost 0) and eth1 (DHCP,
 * cost 10) to two upstreams that both route to a controller stand-in (a TCP listener in a
 * namespace of its own).
 */
class NimLinuxIT {
  // A lease may take a full udhcpc retry round (3 discovers 2 s apart, 5 s pause) under load.
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String CONTROLLER = "203.0.113.10";
  static final String NET0 = "00000000-0000-4000-8000-0000000000a0";

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns up0;
  Netns up1;
  Netns ctl;
  LinuxHost host;
  PubSub bus;
  AgentLoop loop;
  AgentLoop observer;
  AgentRuntime runtime;
  ExecutorService probeThread;
  Subscription<DeviceNetwork> network;

  @BeforeEach
  void topology() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("nim");
    dev = topology.namespace("dev");
    up0 = topology.namespace("up0");
    up1 = topology.namespace("up1");
    ctl = topology.namespace("ctl");
    topology.veth(dev, "eth0", up0, "u0");
    topology.veth(dev, "eth1", up1, "u1");
    topology.veth(up0, "c0", ctl, "a0");
    topology.veth(up1, "c1", ctl, "a1");
    up0.address("c0", "10.90.0.1/30").forwarding();
    up1.address("c1", "10.90.1.1/30").forwarding();
    ctl.address("a0", "10.90.0.2/30").address("a1", "10.90.1.2/30").address("lo", CONTROLLER + "/32").up("lo");
    up0.route(CONTROLLER + "/32", "10.90.0.2");
    up1.route(CONTROLLER + "/32", "10.90.1.2");
    ctl.route("192.0.2.0/24", "10.90.0.1");
    ctl.route("198.51.100.0/24", "10.90.1.1");
    // The controller stand-in: accepts every connection (busybox nc, persistent).
    ctl.spawn("controller", "busybox", "nc", "-ll", "-p", "8443", "-e", "true");
    new UpstreamHost(up0, "u0", "192.0.2.1/24");
    new UpstreamHost(up1, "u1", "198.51.100.1/24").dhcpOption("option:ntp-server,198.51.100.123")
        .startDhcpAndDns("198.51.100.50", "198.51.100.60", Duration.ofHours(1));
  }

  void startNim(Publication<?>... keep) {
    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    loop = topology.own(AgentLoop.create("nim"));
    observer = topology.own(AgentLoop.create("observer"));
    probeThread = NetnsExecutor.enter(dev.name());
    topology.own((AutoCloseable) probeThread::shutdownNow);
    TcpControllerProbe probe = new TcpControllerProbe(CONTROLLER + ":8443", probeThread);
    network = bus.subscribe(NimTopics.DEVICE_NETWORK, observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
    runtime = topology.own(AgentRuntime.start(new NimAgent(new NimSettings(dir.resolve("state")), c -> probe), bus, host, loop,
        RuntimeSettings.DEFAULT));
  }

  Publication<PhysicalIo> io;
  Publication<SystemAdapter> adapters;
  Publication<NetworkConfig> networks;
  Publication<VlanAdapter> vlans;
  Publication<BondAdapter> bonds;

  void publishConfig(int mtu) {
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    io = bus.publish(ZedagentTopics.PHYSICAL_IO, Durability.VOLATILE);
    vlans = bus.publish(ZedagentTopics.VLANS, Durability.VOLATILE);
    bonds = bus.publish(ZedagentTopics.BONDS, Durability.VOLATILE);
    adapters = bus.publish(ZedagentTopics.SYSTEM_ADAPTERS, Durability.VOLATILE);
    networks = bus.publish(ZedagentTopics.NETWORKS, Durability.VOLATILE);
    bus.publish(ZedagentTopics.CONFIG_ITEMS, Durability.VOLATILE)
        .publish("timer.port.probeinterval", ConfigItem.newBuilder().setKey("timer.port.probeinterval").setValue("1").build());
    io.publish("eth0", eth("eth0"));
    io.publish("eth1", eth("eth1"));
    networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", mtu));
    networks.publish(Configs.DHCP_NET, dhcp());
    adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    adapters.publish("wan1", uplink("wan1", "eth1", 10, Configs.DHCP_NET));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  String controllerPort() {
    return network.get(NimAgent.GLOBAL).map(DeviceNetwork::getControllerPort).orElse("");
  }

  String mainDefault() {
    return dev.ip("route", "show", "default").lines().findFirst().orElse("").trim();
  }

  /** The way the device's own traffic to the controller takes now (the kernel's answer). */
  String routeToController() {
    return dev.exec("ip", "route", "get", CONTROLLER).stdout().trim();
  }

  @Test
  void portsAreConfiguredForRealAndControllerTrafficFailsOverOnLinkDownAndBack() {
    publishConfig(1400);
    startNim();

    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
    assertThat(dev.ipv4Addresses("eth0")).containsExactly("192.0.2.10/24");
    assertThat(dev.ip("link", "show", "eth0")).contains("mtu 1400");
    // eth1's lease from the upstream's dnsmasq, installed by nim (the client only reports).
    await().atMost(WAIT).until(() -> dev.ipv4Addresses("eth1").stream().anyMatch(a -> a.matches("198\\.51\\.100\\.(5\\d|60)/24")));
    await().atMost(WAIT).until(() -> dev.ip("route", "show", "default").contains("via 198.51.100.1 dev eth1"));
    // The lease's NTP server (option 42 from dnsmasq) is one of the device's time sources.
    await().atMost(WAIT).until(() -> java.nio.file.Files.exists(new NimSettings(dir.resolve("state")).timeSources())
        && java.nio.file.Files.readAllLines(new NimSettings(dir.resolve("state")).timeSources())
            .contains("server 198.51.100.123 iburst"));
    assertThat(mainDefault()).startsWith("default via 192.0.2.1 dev eth0").contains("metric 5000");
    assertThat(dev.ip("rule", "show")).contains("15000:\tfrom 192.0.2.10 lookup");
    assertThat(routeToController()).contains("via 192.0.2.1 dev eth0");

    // The upstream's end goes down: eth0 loses carrier, controller traffic moves to eth1.
    long changes = network.get(NimAgent.GLOBAL).orElseThrow().getControllerPortChanges();
    long cut = System.nanoTime();
    up0.ip("link", "set", "u0", "down");
    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> controllerPort().equals("wan1"));
    long switchMs = (System.nanoTime() - cut) / 1_000_000;
    assertThat(switchMs).as("carrier loss to switch").isLessThan(2000);
    assertThat(network.get(NimAgent.GLOBAL).orElseThrow().getControllerPortChanges()).isEqualTo(changes + 1);
    await().atMost(WAIT).until(() -> routeToController().contains("via 198.51.100.1 dev eth1"));
    // The controller stand-in is reached through eth1 (what the probe proves, from eth1's address).
    assertThat(dev.exec("busybox", "nc", "-w", "2", CONTROLLER, "8443").ok()).isTrue();

    up0.ip("link", "set", "u0", "up");
    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
    await().atMost(WAIT).until(() -> routeToController().contains("via 192.0.2.1 dev eth0"));
  }

  /**
   * Whether this kernel can make a kind of link, with iproute2 as the independent witness, in a
   * namespace of its own. In the lab VM (-Dverge.lab=true) every kind must be there: a missing
   * module must not pass as a precise refusal.
   */
  boolean kernelSupports(String kind, String... typeArguments) {
    Netns probe = topology.namespace("probe-" + kind);
    probe.ip("link", "add", "pp0", "type", "veth", "peer", "name", "pp1");
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("ip", "link", "add", "probe0"));
    command.addAll(java.util.List.of(typeArguments));
    boolean supported = probe.exec(command.toArray(String[]::new)).ok();
    System.out.println("NimLinuxIT: kernel " + System.getProperty("os.version") + " supports " + kind + ": " + supported);
    if (Boolean.getBoolean("verge.lab")) {
      assertThat(supported).as(kind + " in the lab VM's kernel").isTrue();
    }
    return supported;
  }

  Subscription<DeviceNetworkStatus> status() {
    return bus.subscribe(NimTopics.DEVICE_NETWORK_STATUS, observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
  }

  static java.util.Optional<dev.verge.proto.info.v1.PortStatus> port(Subscription<DeviceNetworkStatus> status, String label) {
    return status.get(NimAgent.GLOBAL).flatMap(s -> s.getPortsList().stream().filter(p -> p.getLabel().equals(label)).findFirst());
  }

  /**
   * A VLAN sub-interface of eth0 as the management port (static address; the upstream has VLAN
   * 100 on its end): the controller check passes through it, and when the upstream's VLAN goes
   * away the controller traffic leaves it. A kernel without 8021q refuses the VLAN precisely and
   * the other ports keep working.
   */
  @Test
  void aVlanSubInterfaceIsAManagementPortOrIsPreciselyRefusedByAKernelWithout8021q() {
    boolean vlans8021q = kernelSupports("vlan", "link", "pp0", "type", "vlan", "id", "5");
    publishConfig(0);
    vlans.publish("v100", Configs.vlan("v100", "eth0.100", "eth0", 100));
    if (!vlans8021q) {
      adapters.publish("apps100", SystemAdapter.newBuilder().setName("apps100").setLowerLayerName("v100")
          .setNetworkUuid(Configs.DHCP_NET).build());
      startNim();
      Subscription<DeviceNetworkStatus> status = status();
      await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
      await().atMost(WAIT).until(() -> port(status, "apps100").map(p -> p.hasError()).orElse(false));
      assertThat(port(status, "apps100").orElseThrow().getError().getDescription())
          .isEqualTo("cannot create vlan eth0.100: kernel has no 8021q support (EOPNOTSUPP)");
      return;
    }
    up0.ip("link", "add", "link", "u0", "name", "u0.100", "type", "vlan", "id", "100");
    up0.address("u0.100", "10.100.0.1/24");
    ctl.route("10.100.0.0/24", "10.90.0.1");
    String net100 = "00000000-0000-4000-8000-000000000100";
    networks.publish(net100, staticNet(net100, "10.100.0.0/24", "10.100.0.1", 0));
    adapters.unpublish("wan0"); // eth0 only carries the VLAN
    adapters.publish("mgmt100", staticUplink("mgmt100", "v100", 0, net100, "10.100.0.10"));
    startNim();
    Subscription<DeviceNetworkStatus> status = status();

    await().atMost(WAIT).until(() -> controllerPort().equals("mgmt100"));
    assertThat(dev.ip("-d", "link", "show", "eth0.100")).contains("vlan protocol 802.1Q id 100");
    assertThat(dev.ipv4Addresses("eth0.100")).containsExactly("10.100.0.10/24");
    await().atMost(WAIT).until(() -> routeToController().contains("via 10.100.0.1 dev eth0.100"));
    await().atMost(WAIT).until(() -> port(status, "mgmt100").map(p -> p.getLastSucceededMs() > 0).orElse(false));
    assertThat(port(status, "mgmt100").orElseThrow().hasError()).isFalse();
    assertThat(dev.exec("busybox", "nc", "-w", "2", CONTROLLER, "8443").ok()).isTrue();

    // Tagged frames only: without VLAN 100 at the upstream, the check fails there and eth1 takes over.
    up0.ip("link", "del", "u0.100");
    await().atMost(WAIT).until(() -> controllerPort().equals("wan1"));
    assertThat(dev.ip("link", "show", "eth0")).contains("state UP");
  }

  /**
   * An active-backup bond of eth2 and eth3 (both cabled to one bridge upstream) as the management
   * port: when the active member loses carrier the bond fails over to the other member, the
   * controller check stays on the bond, and nim's status names the new active member. A kernel
   * without bonding refuses the bond precisely.
   */
  @Test
  void anActiveBackupBondKeepsTheControllerCheckWhenItsActiveMemberLosesCarrier() {
    boolean bonding = kernelSupports("bond", "type", "bond");
    Netns sw = topology.namespace("sw");
    topology.veth(dev, "eth2", sw, "s2");
    topology.veth(dev, "eth3", sw, "s3");
    topology.veth(sw, "c2", ctl, "a2");
    sw.bridge("br0").attach("s2", "br0").attach("s3", "br0").address("br0", "10.91.0.1/24")
        .address("c2", "10.90.2.1/30").forwarding();
    ctl.address("a2", "10.90.2.2/30").route("10.91.0.0/24", "10.90.2.1");
    sw.route(CONTROLLER + "/32", "10.90.2.2");
    publishConfig(0);
    io.publish("eth2", eth("eth2"));
    io.publish("eth3", eth("eth3"));
    bonds.publish("bond0", Configs.bond("bond0", "bond0", BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth2", "eth3")
        .toBuilder().setMii(MiiMonitor.newBuilder().setIntervalMs(100)).build());
    String net91 = "00000000-0000-4000-8000-000000000091";
    networks.publish(net91, staticNet(net91, "10.91.0.0/24", "10.91.0.1", 0));
    adapters.unpublish("wan0");
    adapters.publish("lag", staticUplink("lag", "bond0", 0, net91, "10.91.0.10"));
    startNim();
    Subscription<DeviceNetworkStatus> status = status();
    if (!bonding) {
      await().atMost(WAIT).until(() -> controllerPort().equals("wan1"));
      await().atMost(WAIT).until(() -> port(status, "lag").map(p -> p.hasError()).orElse(false));
      assertThat(port(status, "lag").orElseThrow().getError().getDescription())
          .isEqualTo("cannot create bond bond0: kernel has no bonding support (EOPNOTSUPP)");
      return;
    }

    await().atMost(WAIT).until(() -> controllerPort().equals("lag"));
    assertThat(dev.ip("-d", "link", "show", "bond0")).contains("bond mode active-backup ").contains(" miimon 100 ");
    assertThat(dev.ipv4Addresses("bond0")).containsExactly("10.91.0.10/24");
    await().atMost(WAIT).until(() -> port(status, "lag").map(p -> p.getBond().getActiveMember()).orElse("").equals("eth2"));
    assertThat(port(status, "lag").orElseThrow().getBond().getMembersList()).containsExactly("eth2", "eth3");
    await().atMost(WAIT).until(() -> port(status, "lag").map(p -> p.getLastSucceededMs() > 0).orElse(false));

    // The far end of eth2's cable goes down: eth2 loses carrier, the bond moves to eth3.
    long changes = network.get(NimAgent.GLOBAL).orElseThrow().getControllerPortChanges();
    sw.ip("link", "set", "s2", "down");
    await().atMost(WAIT).until(() -> port(status, "lag").map(p -> p.getBond().getActiveMember()).orElse("").equals("eth3"));
    assertThat(dev.ip("link", "show", "eth2")).contains("NO-CARRIER");
    // The controller check keeps passing through the bond: two failed probes (1 s apart, 3 s
    // timeout) would re-verify and move to wan1 within 8 s; the port holds for longer than that.
    await().during(Duration.ofSeconds(10)).atMost(WAIT).until(() -> controllerPort().equals("lag"));
    assertThat(network.get(NimAgent.GLOBAL).orElseThrow().getControllerPortChanges()).isEqualTo(changes);
    assertThat(port(status, "lag").orElseThrow().hasError()).isFalse();
    assertThat(routeToController()).contains("dev bond0");
    assertThat(dev.exec("busybox", "nc", "-w", "2", CONTROLLER, "8443").ok()).isTrue();
  }

  @Test
  void aSilentlyDeadUpstreamWithItsLinkUpIsLeftWithinTheProbeBudget() {
    publishConfig(0);
    startNim();
    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
    await().atMost(WAIT).until(() -> dev.ipv4Addresses("eth1").stream().anyMatch(a -> a.matches("198\\.51\\.100\\.(5\\d|60)/24")));

    // eth0's upstream drops everything to the controller without a word; every link stays up.
    long cut = System.nanoTime();
    up0.ip("route", "replace", "blackhole", CONTROLLER + "/32");
    // Budget: two missed probes (1 s interval, 3 s timeout each), then eth1's probe.
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> controllerPort().equals("wan1"));
    long ms = (System.nanoTime() - cut) / 1_000_000;
    assertThat(ms).as("silent upstream to switch").isLessThan(10_000);
    assertThat(dev.ip("link", "show", "eth0")).contains("state UP");
    // Links up, so the main table still prefers eth0: the device's own traffic follows the rule.
    await().atMost(WAIT).until(() -> routeToController().contains("via 198.51.100.1 dev eth1"));

    up0.ip("route", "del", "blackhole", CONTROLLER + "/32");
    up0.route(CONTROLLER + "/32", "10.90.0.2");
    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
  }
}
