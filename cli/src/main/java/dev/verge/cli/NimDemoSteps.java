package dev.verge.cli;

import dev.verge.agent.AgentRuntime;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.Host;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.sim.SimHost;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.nim.ControllerProbe;
import dev.verge.nim.NetnsExecutor;
import dev.verge.nim.NimAgent;
import dev.verge.nim.NimSettings;
import dev.verge.nim.TcpControllerProbe;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The demo's nim steps: a device with two uplinks (eth0 static, cost 0; eth1 DHCP, cost 10) to two
 * upstreams that both route to a controller stand-in. nim brings them up and picks eth0 for
 * controller traffic; the active uplink is cut and nim moves to eth1 (the switch is timed); it is
 * restored and nim returns after its hold-down. As root on real links in throw-away namespaces;
 * otherwise on the sim (no packets: a ready port counts as working).
 */
final class NimDemoSteps {
  static final String CONTROLLER = "203.0.113.10";
  static final Duration WAIT = Duration.ofSeconds(30);

  private final BiConsumer<String, String> heading;
  private final Consumer<String> show;

  NimDemoSteps(BiConsumer<String, String> heading, Consumer<String> show) {
    this.heading = heading;
    this.show = show;
  }

  void run(Path work) throws Exception {
    if (Root.isRoot()) {
      try (NetTopology topology = NetTopology.create("demonim")) {
        Netns dev = topology.namespace("dev");
        Netns up0 = topology.namespace("up0");
        Netns up1 = topology.namespace("up1");
        Netns ctl = topology.namespace("ctl");
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
        ctl.spawn("controller", "busybox", "nc", "-ll", "-p", "8443", "-e", "true");
        new UpstreamHost(up0, "u0", "192.0.2.1/24");
        new UpstreamHost(up1, "u1", "198.51.100.1/24").startDhcpAndDns("198.51.100.50", "198.51.100.60",
            Duration.ofHours(1));
        ExecutorService probeThread = NetnsExecutor.enter(dev.name());
        try (LinuxHost host = LinuxHost.inNamespace(dev.name(),
            new LinuxHostSettings(work.resolve("nim-daemons"), Path.of("/sys")))) {
          steps(host, new TcpControllerProbe(CONTROLLER + ":8443", probeThread), work,
              cut -> up0.ip("link", "set", "u0", cut ? "down" : "up"),
              () -> dev.exec("ip", "route", "get", CONTROLLER).stdout().lines().findFirst().orElse("").strip(),
              "real veth links in namespaces " + dev.name() + ", " + up0.name() + ", " + up1.name());
        } finally {
          probeThread.shutdownNow();
        }
      }
    } else {
      try (SimHost sim = SimHost.create(work.resolve("nim-sim"))) {
        sim.kernel().plugNic("eth0", 0);
        sim.kernel().plugNic("eth1", 0);
        steps(sim, ControllerProbe.localChecksOnly(), work, cut -> sim.kernel().setCarrier("eth0", !cut),
            () -> sim.network().rules(false).stream()
                .filter(r -> r.priority() == dev.verge.nim.PortItems.CONTROLLER_RULE_PRIORITY)
                .flatMap(r -> sim.network().routes(r.table()).stream().filter(rt -> rt.destination().length() == 0))
                .findFirst()
                .map(rt -> "default via " + rt.gateway().map(g -> g.getHostAddress()).orElse("?") + " table " + rt.table()
                    + " (rule 15100: the device's own traffic)")
                .orElse("(none)"),
            "the sim (not root: no namespaces; a port that is up with an address counts as working)");
      }
    }
  }

  private void steps(Host host, ControllerProbe probe, Path work, Consumer<Boolean> cutEth0,
      java.util.function.Supplier<String> defaultRoute, String where) throws Exception {
    try (PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
        AgentLoop loop = AgentLoop.create("nim");
        AgentLoop observer = AgentLoop.create("demo-nim")) {
      publishTwoUplinks(bus);
      Subscription<DeviceNetwork> network = bus.subscribe(NimTopics.DEVICE_NETWORK, observer, new SubscriptionHandler<>() {});
      Subscription<DeviceNetworkStatus> status =
          bus.subscribe(NimTopics.DEVICE_NETWORK_STATUS, observer, new SubscriptionHandler<>() {});
      heading.accept("nim brings up two uplinks", "eth0 static cost 0, eth1 DHCP cost 10; on " + where);
      AgentRuntime runtime = AgentRuntime.start(new NimAgent(new NimSettings(work.resolve("nim-state")), c -> probe),
          bus, host, loop, RuntimeSettings.DEFAULT);
      try {
        await("eth0 to carry controller traffic", () -> controllerPort(network).equals("wan0"));
        await("eth1's lease", () -> status.get("global").map(s -> s.getPortsList().stream()
            .anyMatch(p -> p.getLabel().equals("wan1") && p.getIpAddrsList().stream().anyMatch(a -> a.startsWith("198.51.100."))))
            .orElse(false));
        showPorts(status, network, defaultRoute);

        heading.accept("Cut the active uplink", "the upstream's end of eth0 goes down; nim moves at once");
        long cut = System.nanoTime();
        cutEth0.accept(true);
        await("controller traffic to move to eth1", () -> controllerPort(network).equals("wan1"));
        show.accept(String.format("controller traffic on wan1 (eth1) %d ms after the cut (EVE waits for its 300 s timer)",
            (System.nanoTime() - cut) / 1_000_000));
        showPorts(status, network, defaultRoute);

        heading.accept("Restore it", "after its hold-down and a successful probe, nim returns to the preferred port");
        long back = System.nanoTime();
        cutEth0.accept(false);
        await("controller traffic to return to eth0", () -> controllerPort(network).equals("wan0"));
        show.accept(String.format("back on wan0 (eth0) %d ms after the link came back", (System.nanoTime() - back) / 1_000_000));
        show.accept("route to the controller: " + defaultRoute.get());
      } finally {
        runtime.close();
        // Let the loop finish what it queued before the bus it publishes on closes.
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
        loop.execute(drained::countDown);
        drained.await(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }

  private void showPorts(Subscription<DeviceNetworkStatus> status, Subscription<DeviceNetwork> network,
      java.util.function.Supplier<String> defaultRoute) {
    String inUse = controllerPort(network);
    status.get("global").ifPresent(s -> s.getPortsList().forEach(p -> show.accept(String.format(
        "%-5s %-5s cost %-3d %-5s %-20s %s", p.getLabel(), p.getIfName(), p.getCost(), p.getUp() ? "up" : "down",
        p.getIpAddrsCount() == 0 ? "-" : String.join(",", p.getIpAddrsList()),
        p.getLabel().equals(inUse) ? "<- controller traffic" : p.hasError() ? p.getError().getDescription() : ""))));
    show.accept("route to the controller: " + defaultRoute.get());
  }

  private static String controllerPort(Subscription<DeviceNetwork> network) {
    return network.get("global").map(DeviceNetwork::getControllerPort).orElse("");
  }

  private static void await(String what, BooleanSupplier check) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!check.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private static void publishTwoUplinks(PubSub bus) {
    var io = bus.publish(ZedagentTopics.PHYSICAL_IO, Durability.VOLATILE);
    bus.publish(ZedagentTopics.VLANS, Durability.VOLATILE);
    bus.publish(ZedagentTopics.BONDS, Durability.VOLATILE);
    var adapters = bus.publish(ZedagentTopics.SYSTEM_ADAPTERS, Durability.VOLATILE);
    var networks = bus.publish(ZedagentTopics.NETWORKS, Durability.VOLATILE);
    bus.publish(ZedagentTopics.CONFIG_ITEMS, Durability.VOLATILE);
    for (String nic : new String[] {"eth0", "eth1"}) {
      io.publish(nic, PhysicalIo.newBuilder().setType(PhysicalIo.Type.TYPE_ETHERNET).setPhyLabel(nic)
          .setLogicalLabel(nic).putPhyAddrs("ifname", nic).build());
    }
    networks.publish("static0", NetworkConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid("static0"))
        .setIp(IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_STATIC).setSubnet("192.0.2.0/24")
            .setGateway("192.0.2.1")).build());
    networks.publish("dhcp1", NetworkConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid("dhcp1"))
        .setIp(IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_CLIENT)).build());
    adapters.publish("wan0", SystemAdapter.newBuilder().setName("wan0").setLowerLayerName("eth0").setUplink(true)
        .setCost(0).setNetworkUuid("static0").setAddr("192.0.2.10").build());
    adapters.publish("wan1", SystemAdapter.newBuilder().setName("wan1").setLowerLayerName("eth1").setUplink(true)
        .setCost(10).setNetworkUuid("dhcp1").build());
  }
}
