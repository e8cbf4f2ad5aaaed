package dev.verge.bench;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import dev.verge.zedrouter.ZedrouterAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code zedrouter.ni_online.latency} (also printed as {@code zedrouter.ni_create.latency}): a local
 * NI config published on the bus until zedrouter reports it ONLINE, with its bridge, gateway
 * address, routing table and rules, nftables table and a ready dnsmasq, on the real kernel in a
 * throw-away namespace; median of 10 after a warm-up. {@code zedrouter.ni50_online.latency}: 50 NIs
 * published at once until all are ONLINE; both include the NI's metadata server.
 * {@code zedrouter.acl1000.throughput_ratio}: iperf3 from an app behind a local NI to the upstream
 * (TCP, 3 s; three pairs, the two configurations alternating; the median pair's ratio) with 1,000 ACEs on its VIF, the one that allows it last, divided by the
 * same with a single allow-all ACE (with no ACE at all the app reaches nothing to measure). The
 * ratio depends on the NI's firewall deciding once per flow (the ACE's verdict kept in the flow's
 * conntrack mark), not on the CPU: a per-packet walk of 1,000 rules would show here.
 */
public final class ZedrouterBenchmark {
  static final int WARMUP = 3;
  static final int SAMPLES = 10;
  static final int MANY = 50;
  static final Duration WAIT = Duration.ofSeconds(60);

  private ZedrouterBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (!Root.isRoot()) {
      System.out.println("# zedrouter benchmarks need root (namespaces, dnsmasq): skipped");
      return;
    }
    Path scratch = Files.createTempDirectory("verge-zrbench-");
    // dnsmasq reads its host directories after dropping root
    Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try (NetTopology topology = NetTopology.create("zrbench")) {
      Netns dev = topology.namespace("dev");
      Netns up = topology.namespace("up");
      topology.veth(dev, "eth0", up, "eth0");
      dev.address("eth0", "192.0.2.10/24");
      up.address("eth0", "192.0.2.1/24");
      run(dev, scratch);
      aclThroughput(topology, dev, up, scratch);
    }
  }

  static final String ACL_NI = "cccccccc-0000-4000-8000-000000000001";
  static final String ACL_APP = "cccccccc-0000-4000-8000-0000000000a1";

  private static void aclThroughput(NetTopology topology, Netns dev, Netns up, Path scratch) throws Exception {
    Netns app = topology.namespace("app");
    topology.veth(dev, "nbu1x1", app, "eth0");
    BackgroundProcess iperf = up.spawn("iperf3", "iperf3", "-s", "-B", "192.0.2.1", "-p", "5201");
    try (LinuxHost host = LinuxHost.inNamespace(dev.name(),
            new LinuxHostSettings(scratch.resolve("acl-daemons"), Path.of("/sys")));
        PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
        AgentLoop observer = AgentLoop.create("bench-acl-observer")) {
      bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
          .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true)
              .setCarrier(true).setMtu(1500).addAddresses("192.0.2.10/24").addGateways("192.0.2.1"))
          .build());
      bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE).publish(ACL_NI, NetworkInstanceConfig.newBuilder()
          .setId(UuidAndVersion.newBuilder().setUuid(ACL_NI).setVersion("1"))
          .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
          .setPort(Adapter.newBuilder().setName("eth0"))
          .setIp(IpSpec.newBuilder().setSubnet("10.250.0.0/24")).build());
      Publication<AppInstanceConfig> apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
      var plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
      var tables = new java.util.concurrent.atomic.AtomicReference<String>("");
      try (AgentNode node = AgentNode.of(new ZedrouterAgent("bench-acl", scratch.resolve("acl-state")), bus, host,
          RuntimeSettings.DEFAULT)) {
        node.awaitStarted(WAIT);
        apps.publish(ACL_APP, appWithAces(1));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!plans.snapshot().containsKey(ACL_APP)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("no VIF plan for the ACL app within " + WAIT);
          }
          Thread.sleep(10);
        }
        var vif = plans.snapshot().get(ACL_APP).getVifs(0);
        app.execOk("ip", "link", "set", "eth0", "address", vif.getMac());
        app.address("eth0", vif.getIpAddress() + "/24");
        app.execOk("ip", "route", "add", "default", "via", "10.250.0.1");
        // The two configurations alternate, so a neighbour's load shifts both sides of a pair alike.
        double[] ones = new double[3];
        double[] thousands = new double[3];
        double[] ratios = new double[3];
        for (int i = 0; i < ratios.length; i++) {
          apps.publish(ACL_APP, appWithAces(1));
          awaitRuleCount(dev, 1);
          ones[i] = throughput(app, 1);
          apps.publish(ACL_APP, appWithAces(1000));
          awaitRuleCount(dev, 1000);
          thousands[i] = throughput(app, 1000);
          ratios[i] = thousands[i] / ones[i];
        }
        Arrays.sort(ones);
        Arrays.sort(thousands);
        Arrays.sort(ratios);
        double one = ones[1];
        double thousand = thousands[1];
        String last = dev.execOk("nft", "list", "counter", "inet", "zedrouter-bn1", "ace-nbu1x1-1000");
        if (last.contains("packets 0 ")) {
          throw new IllegalStateException("the flows did not pass the 1000th ACE: " + last);
        }
        System.out.printf(Locale.ROOT, "# acl throughput: 1 ACE %.2f Gbit/s, 1000 ACEs %.2f Gbit/s%n", one / 1e9,
            thousand / 1e9);
        System.out.printf(Locale.ROOT, "# acl throughput ratios of the three pairs: %.3f, %.3f, %.3f%n", ratios[0],
            ratios[1], ratios[2]);
        System.out.printf(Locale.ROOT, "BENCH zedrouter.acl1000.throughput_ratio %.3f x%n", ratios[1]);
        System.out.flush();
      }
    } finally {
      iperf.close();
    }
  }

  /** An app whose VIF has {@code count} ACEs: {@code count - 1} that match nothing it sends, then allow-all. */
  private static AppInstanceConfig appWithAces(int count) {
    var adapter = dev.verge.proto.config.v1.NetworkAdapter.newBuilder().setName("eth0").setNetworkId(ACL_NI);
    for (int i = 1; i < count; i++) {
      adapter.addAcls(dev.verge.proto.config.v1.Ace.newBuilder().setId(i).setName("other" + i)
          .addMatches(dev.verge.proto.config.v1.AceMatch.newBuilder().setType("ip")
              .setValue("198.18." + (i / 256) + "." + (i % 256) + "/32")));
    }
    adapter.addAcls(dev.verge.proto.config.v1.Ace.newBuilder().setId(count).setName("all")
        .addMatches(dev.verge.proto.config.v1.AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0")));
    return AppInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(ACL_APP).setVersion("1"))
        .setDisplayName("iperf").setActivate(true).addInterfaces(adapter).build();
  }

  /** Until the NI's table holds exactly the VIF's ACE counters (one per ACE). */
  private static void awaitRuleCount(Netns dev, int aces) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      String counters = dev.exec("nft", "list", "counters", "table", "inet", "zedrouter-bn1").stdout();
      if (counters.split("counter ace-nbu1x1-", -1).length - 1 == aces) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(aces + " ACEs not in the NI's table within " + WAIT);
      }
      Thread.sleep(50);
    }
  }

  /** Bits per second of one 3 s iperf3 run from the app to the upstream. */
  private static double throughput(Netns app, int aces) {
    String json = app.execOk("iperf3", "-c", "192.0.2.1", "-p", "5201", "-t", "3", "-J");
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("iperf3 with " + aces + " ACEs gave no result: " + json);
    }
    return Double.parseDouble(m.group(1));
  }


  private static void run(Netns dev, Path scratch) throws Exception {
    Map<String, Long> online = new ConcurrentHashMap<>();
    SubscriptionHandler<NetworkInstanceStatus> watcher = new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, NetworkInstanceStatus value) {
        record(key, value);
      }

      @Override
      public void onModify(String key, NetworkInstanceStatus oldValue, NetworkInstanceStatus newValue) {
        record(key, newValue);
      }

      @Override
      public void onDelete(String key, NetworkInstanceStatus lastValue) {
        online.remove(key);
      }

      private void record(String key, NetworkInstanceStatus value) {
        if (value.getState() == NetworkInstanceStatus.State.STATE_ONLINE) {
          online.putIfAbsent(key, System.nanoTime());
        } else if (value.getState() == NetworkInstanceStatus.State.STATE_ERROR) {
          System.err.println("# NI " + key + " in error: " + value.getErrorsList());
        }
      }
    };
    try (LinuxHost host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")));
        PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
        AgentLoop observer = AgentLoop.create("bench-observer")) {
      bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
          .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true)
              .setCarrier(true).setMtu(1500).addAddresses("192.0.2.10/24").addGateways("192.0.2.1")
              .addDnsServers("192.0.2.1"))
          .build());
      Publication<AppInstanceConfig> apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
      Publication<NetworkInstanceConfig> nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
      bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, watcher);
      try (AgentNode node = AgentNode.of(new ZedrouterAgent("bench", scratch.resolve("state")), bus, host,
          RuntimeSettings.DEFAULT)) {
        node.awaitStarted(WAIT);
        double[] latencies = new double[SAMPLES];
        for (int i = 0; i < WARMUP + SAMPLES; i++) {
          String uuid = uuid(i);
          long start = System.nanoTime();
          nis.publish(uuid, ni(uuid, i));
          long done = awaitOnline(online, uuid);
          if (i >= WARMUP) {
            latencies[i - WARMUP] = (done - start) / 1e6;
          }
          nis.unpublish(uuid);
          awaitGone(online, uuid, dev);
        }
        Arrays.sort(latencies);
        double median = latencies[SAMPLES / 2];
        System.out.printf(Locale.ROOT, "BENCH zedrouter.ni_online.latency %.1f ms%n", median);
        System.out.printf(Locale.ROOT, "BENCH zedrouter.ni_create.latency %.1f ms%n", median);
        System.out.printf(Locale.ROOT, "# zedrouter.ni_online.latency: min %.1f ms, max %.1f ms over %d samples%n",
            latencies[0], latencies[SAMPLES - 1], SAMPLES);
        System.out.flush();

        long start = System.nanoTime();
        for (int i = 0; i < MANY; i++) {
          nis.publish(uuid(100 + i), ni(uuid(100 + i), 100 + i));
        }
        long last = 0;
        for (int i = 0; i < MANY; i++) {
          last = Math.max(last, awaitOnline(online, uuid(100 + i)));
        }
        System.out.printf(Locale.ROOT, "BENCH zedrouter.ni50_online.latency %.1f ms%n", (last - start) / 1e6);
        System.out.flush();
        for (int i = 0; i < MANY; i++) {
          nis.unpublish(uuid(100 + i));
        }
        for (int i = 0; i < MANY; i++) {
          awaitGone(online, uuid(100 + i), dev);
        }
        apps.close();
      }
    }
  }

  private static String uuid(int i) {
    return String.format("bbbbbbbb-0000-4000-8000-%012d", i);
  }

  private static NetworkInstanceConfig ni(String uuid, int i) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
        .setPort(Adapter.newBuilder().setName("eth0"))
        .setIp(IpSpec.newBuilder().setSubnet("10." + (i / 256 + 1) + "." + (i % 256) + ".0/24"))
        .build();
  }

  private static long awaitOnline(Map<String, Long> online, String uuid) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!online.containsKey(uuid)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("NI " + uuid + " not ONLINE within " + WAIT);
      }
      Thread.sleep(0, 200_000);
    }
    return online.get(uuid);
  }

  /** Until its status is gone and no bridge is left (so the next sample starts from nothing). */
  private static void awaitGone(Map<String, Long> online, String uuid, Netns dev) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (online.containsKey(uuid) || dev.exec("ip", "-o", "link", "show", "type", "bridge").stdout().contains("bn")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("NI " + uuid + " not removed within " + WAIT);
      }
      Thread.sleep(5);
    }
  }
}
