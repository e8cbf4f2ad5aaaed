package dev.verge.bench;

import dev.verge.agent.AgentRuntime;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.Host;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.sim.SimHost;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
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
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code nim.failover.latency}: carrier loss on the port that carries controller traffic to nim
 * publishing the next port as the controller port (what zedagent re-dials on), as a subscriber of
 * nim's DeviceNetwork sees it. Median of 10. With root: real veth links in throw-away namespaces
 * (the upstream's end is taken down), nim's probes from a thread inside the device's namespace to a
 * controller stand-in behind both upstreams. Without root: the sim, where the figure is nim's own
 * reaction time ({@code nim.failover.sim.latency}).
 */
public final class NimBenchmark {
  static final int SAMPLES = 10;
  static final String CONTROLLER = "203.0.113.10";

  private NimBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path scratch = Files.createTempDirectory("verge-nimbench-");
    if (Root.isRoot()) {
      try (NetTopology topology = NetTopology.create("nimb")) {
        Netns dev = topology.namespace("dev");
        Netns up0 = topology.namespace("up0");
        Netns up1 = topology.namespace("up1");
        Netns ctl = topology.namespace("ctl");
        topology.veth(dev, "eth0", up0, "u0");
        topology.veth(dev, "eth1", up1, "u1");
        topology.veth(up0, "c0", ctl, "a0");
        topology.veth(up1, "c1", ctl, "a1");
        up0.address("u0", "192.0.2.1/24").address("c0", "10.90.0.1/30").forwarding();
        up1.address("u1", "198.51.100.1/24").address("c1", "10.90.1.1/30").forwarding();
        ctl.address("a0", "10.90.0.2/30").address("a1", "10.90.1.2/30").address("lo", CONTROLLER + "/32").up("lo");
        up0.route(CONTROLLER + "/32", "10.90.0.2");
        up1.route(CONTROLLER + "/32", "10.90.1.2");
        ctl.route("192.0.2.0/24", "10.90.0.1");
        ctl.route("198.51.100.0/24", "10.90.1.1");
        ctl.spawn("controller", "busybox", "nc", "-ll", "-p", "8443", "-e", "true");
        ExecutorService probeThread = NetnsExecutor.enter(dev.name());
        try (LinuxHost host = LinuxHost.inNamespace(dev.name(),
            new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")))) {
          TcpControllerProbe probe = new TcpControllerProbe(CONTROLLER + ":8443", probeThread);
          double[] ms = measure(host, probe, scratch, cut -> up0.ip("link", "set", "u0", cut ? "down" : "up"));
          report("nim.failover.latency", ms);
        } finally {
          probeThread.shutdownNow();
        }
      }
    } else {
      try (SimHost sim = SimHost.create(scratch.resolve("sim"))) {
        sim.kernel().plugNic("eth0", 0);
        sim.kernel().plugNic("eth1", 0);
        double[] ms = measure(sim, ControllerProbe.localChecksOnly(), scratch,
            cut -> sim.kernel().setCarrier("eth0", !cut));
        report("nim.failover.sim.latency", ms);
      }
    }
  }

  /**
   * {@code ./verge bench failover} (root only: real links): {@code failover.carrier.route_switch}
   * — eth0's carrier lost to the kernel's route to the controller leaving through eth1 ({@code ip
   * route get}, polled); {@code failover.carrier.latency} — to nim's first successful controller
   * check through eth1; {@code failover.silent.latency} — eth0's upstream silently blackholing the
   * controller (links up) to nim's switch, with the default probe settings. Median of 10 each.
   */
  public static void failover(String[] args) throws Exception {
    if (!Root.isRoot()) {
      System.err.println("failover benchmarks need root (real links in namespaces): skipped");
      return;
    }
    Path scratch = Files.createTempDirectory("verge-failoverbench-");
    try (NetTopology topology = NetTopology.create("fob")) {
      Netns dev = topology.namespace("dev");
      Netns up0 = topology.namespace("up0");
      Netns up1 = topology.namespace("up1");
      Netns ctl = topology.namespace("ctl");
      topology.veth(dev, "eth0", up0, "u0");
      topology.veth(dev, "eth1", up1, "u1");
      topology.veth(up0, "c0", ctl, "a0");
      topology.veth(up1, "c1", ctl, "a1");
      up0.address("u0", "192.0.2.1/24").address("c0", "10.90.0.1/30").forwarding();
      up1.address("u1", "198.51.100.1/24").address("c1", "10.90.1.1/30").forwarding();
      ctl.address("a0", "10.90.0.2/30").address("a1", "10.90.1.2/30").address("lo", CONTROLLER + "/32").up("lo");
      up0.route(CONTROLLER + "/32", "10.90.0.2");
      up1.route(CONTROLLER + "/32", "10.90.1.2");
      ctl.route("192.0.2.0/24", "10.90.0.1");
      ctl.route("198.51.100.0/24", "10.90.1.1");
      ctl.spawn("controller", "busybox", "nc", "-ll", "-p", "8443", "-e", "true");
      ExecutorService probeThread = NetnsExecutor.enter(dev.name());
      try (LinuxHost host = LinuxHost.inNamespace(dev.name(),
              new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")));
          PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
          AgentLoop loop = AgentLoop.create("nim");
          AgentLoop observer = AgentLoop.create("bench-observer")) {
        publishConfig(bus);
        LinkedBlockingQueue<String> ports = new LinkedBlockingQueue<>();
        long[] seenAt = new long[1];
        watchControllerPort(bus, observer, ports, seenAt);
        NimAgent agent = new NimAgent(new NimSettings(scratch.resolve("state")),
            c -> new TcpControllerProbe(CONTROLLER + ":8443", probeThread));
        AgentRuntime runtime = AgentRuntime.start(agent, bus, host, loop, RuntimeSettings.DEFAULT);
        try {
          await(ports, "wan0");
          double[] routeSwitch = new double[SAMPLES];
          double[] carrier = new double[SAMPLES];
          for (int i = 0; i < SAMPLES; i++) {
            long cutMs = System.currentTimeMillis();
            long cut = System.nanoTime();
            up0.ip("link", "set", "u0", "down");
            while (!dev.exec("ip", "route", "get", CONTROLLER).stdout().contains("dev eth1")) {
              if (System.nanoTime() - cut > TimeUnit.SECONDS.toNanos(30)) {
                throw new IllegalStateException("the route never moved to eth1");
              }
            }
            routeSwitch[i] = (System.nanoTime() - cut) / 1e6;
            await(ports, "wan1");
            long succeeded = awaitSuccess(loop, agent, "wan1", cutMs);
            carrier[i] = succeeded - cutMs;
            up0.ip("link", "set", "u0", "up");
            await(ports, "wan0");
          }
          report("failover.carrier.route_switch", routeSwitch);
          report("failover.carrier.latency", carrier);
          double[] silent = new double[SAMPLES];
          for (int i = 0; i < SAMPLES; i++) {
            long cut = System.nanoTime();
            up0.ip("route", "replace", "blackhole", CONTROLLER + "/32");
            await(ports, "wan1");
            silent[i] = (seenAt[0] - cut) / 1e6;
            up0.ip("route", "replace", CONTROLLER + "/32", "via", "10.90.0.2");
            await(ports, "wan0");
          }
          report("failover.silent.latency", silent);
        } finally {
          runtime.close();
          java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
          loop.execute(drained::countDown);
          drained.await(10, TimeUnit.SECONDS);
        }
      } finally {
        probeThread.shutdownNow();
      }
    }
  }

  /** When nim last reached the controller through a port, once that is after {@code afterMs} (read on its loop). */
  private static long awaitSuccess(AgentLoop loop, NimAgent agent, String label, long afterMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      java.util.concurrent.CompletableFuture<Long> at = new java.util.concurrent.CompletableFuture<>();
      loop.execute(() -> at.complete(agent.verifier().portResult(label).lastSucceededMs()));
      long ms = at.get(10, TimeUnit.SECONDS);
      if (ms >= afterMs) {
        return ms;
      }
      Thread.sleep(1);
    }
    throw new IllegalStateException("nim never reached the controller through " + label);
  }

  private static void watchControllerPort(PubSub bus, AgentLoop observer, LinkedBlockingQueue<String> ports,
      long[] seenAt) {
    bus.subscribe(NimTopics.DEVICE_NETWORK, observer, new SubscriptionHandler<>() {
      String last = "";

      @Override
      public void onCreate(String key, DeviceNetwork value) {
        seen(value);
      }

      @Override
      public void onModify(String key, DeviceNetwork oldValue, DeviceNetwork value) {
        seen(value);
      }

      private void seen(DeviceNetwork value) {
        if (!value.getControllerPort().equals(last)) {
          last = value.getControllerPort();
          seenAt[0] = System.nanoTime();
          ports.add(last);
        }
      }
    });
  }

  static double[] measure(Host host, ControllerProbe probe, Path scratch, Consumer<Boolean> cutEth0)
      throws Exception {
    try (PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
        AgentLoop loop = AgentLoop.create("nim");
        AgentLoop observer = AgentLoop.create("bench-observer")) {
      publishConfig(bus);
      LinkedBlockingQueue<String> ports = new LinkedBlockingQueue<>();
      long[] seenAt = new long[1];
      bus.subscribe(NimTopics.DEVICE_NETWORK, observer, new SubscriptionHandler<>() {
        String last = "";

        @Override
        public void onCreate(String key, DeviceNetwork value) {
          seen(value);
        }

        @Override
        public void onModify(String key, DeviceNetwork oldValue, DeviceNetwork value) {
          seen(value);
        }

        private void seen(DeviceNetwork value) {
          if (!value.getControllerPort().equals(last)) {
            last = value.getControllerPort();
            seenAt[0] = System.nanoTime();
            ports.add(last);
          }
        }
      });
      AgentRuntime runtime = AgentRuntime.start(new NimAgent(new NimSettings(scratch.resolve("state")), c -> probe),
          bus, host, loop, RuntimeSettings.DEFAULT);
      try {
        await(ports, "wan0");
        double[] samples = new double[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
          long cut = System.nanoTime();
          cutEth0.accept(true);
          await(ports, "wan1");
          samples[i] = (seenAt[0] - cut) / 1e6;
          cutEth0.accept(false);
          await(ports, "wan0"); // back after the hold-down and a probe
        }
        return samples;
      } finally {
        runtime.close();
        // Let the loop finish what it queued before the bus it publishes on closes.
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
        loop.execute(drained::countDown);
        drained.await(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
  }

  private static void await(LinkedBlockingQueue<String> ports, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String port = ports.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (port == null) {
        throw new IllegalStateException("nim never made " + expected + " the controller port");
      }
      if (port.equals(expected)) {
        return;
      }
    }
  }

  private static void publishConfig(PubSub bus) {
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
    networks.publish("n0", network("n0", "192.0.2.0/24", "192.0.2.1"));
    networks.publish("n1", network("n1", "198.51.100.0/24", "198.51.100.1"));
    adapters.publish("wan0", SystemAdapter.newBuilder().setName("wan0").setLowerLayerName("eth0").setUplink(true)
        .setCost(0).setNetworkUuid("n0").setAddr("192.0.2.10").build());
    adapters.publish("wan1", SystemAdapter.newBuilder().setName("wan1").setLowerLayerName("eth1").setUplink(true)
        .setCost(10).setNetworkUuid("n1").setAddr("198.51.100.10").build());
  }

  private static NetworkConfig network(String uuid, String subnet, String gateway) {
    return NetworkConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setIp(IpSpec.newBuilder().setDhcp(IpSpec.DhcpType.DHCP_TYPE_STATIC).setSubnet(subnet).setGateway(gateway))
        .build();
  }

  private static void report(String name, double[] samples) {
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    double median = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2;
    System.err.println(name + " samples (ms): " + Arrays.toString(samples));
    System.out.println(String.format(Locale.ROOT, "BENCH %s %.1f ms", name, median));
  }
}
