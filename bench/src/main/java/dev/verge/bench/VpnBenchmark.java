package dev.verge.bench;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.linux.ProcessSupervisor;
import dev.verge.hostos.vici.SiteGateway;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RemoteSite;
import dev.verge.netlab.Root;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AceMatch;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.VpnSettings;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import dev.verge.zedrouter.ZedrouterAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * {@code vpn.tunnel_up.latency}: a VPN NI config published on the bus until its status says
 * ESTABLISHED (bridge, dnsmasq, its own charon started, PSK and connection loaded over VICI,
 * IKE_SA and CHILD_SA negotiated with a real peer charon in another namespace); median of 5, the NI
 * deleted between runs. {@code vpn.throughput}: iperf3 (TCP, 3 s) from an app behind the VPN NI to
 * a host on the remote LAN, through the tunnel (kernel-libipsec: ESP in charon's userspace, over
 * TUN, UDP-encapsulated); printed beside {@code vpn.local_ni.throughput}, the same from an app
 * behind a plain local NI to the upstream through NAT.
 */
public final class VpnBenchmark {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String VPN_NI = "dddddddd-0000-4000-8000-000000000001";
  static final String LOCAL_NI = "dddddddd-0000-4000-8000-000000000002";
  static final String VPN_APP = "dddddddd-0000-4000-8000-0000000000a1";
  static final String LOCAL_APP = "dddddddd-0000-4000-8000-0000000000a2";
  static final String PSK = "bench pre-shared key";
  static final int SAMPLES = 5;

  private VpnBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (!Root.isRoot()) {
      System.out.println("# vpn benchmarks need root (namespaces, charon): skipped");
      return;
    }
    Path scratch = Files.createTempDirectory("verge-vpnbench-");
    Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try (NetTopology topology = NetTopology.create("vpnbench")) {
      Netns dev = topology.namespace("dev");
      RemoteSite site = RemoteSite.create(topology, "gw", "rlan");
      Netns gw = site.gateway();
      topology.veth(dev, "eth0", gw, "eth0");
      dev.address("eth0", "192.0.2.10/24");
      gw.address("eth0", "192.0.2.2/24");
      BackgroundProcess remoteIperf =
          site.lanHost().namespace().spawn("iperf3", "iperf3", "-s", "-B", RemoteSite.HOST, "-p", "5201");
      BackgroundProcess upstreamIperf = gw.spawn("iperf3", "iperf3", "-s", "-B", "192.0.2.2", "-p", "5202");
      try (ProcessSupervisor gateway = new ProcessSupervisor(scratch.resolve("gw-daemons"), gw.execPrefix());
          LinuxHost host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")));
          PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
          AgentLoop observer = AgentLoop.create("bench-vpn-observer")) {
        new SiteGateway(gateway, DaemonSpec.RestartPolicy.DEFAULT).startWithPsk(SiteGateway.answering("gw.example",
            "dev.example", Optional.empty(), List.of(RemoteSite.LAN), List.of("10.1.0.0/24"), Duration.ofSeconds(30)), PSK, WAIT);
        bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
            .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true)
                .setCarrier(true).setMtu(1500).addAddresses("192.0.2.10/24").addGateways("192.0.2.2"))
            .build());
        Publication<NetworkInstanceConfig> nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
        Publication<AppInstanceConfig> apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
        Subscription<NetworkInstanceStatus> status =
            bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
        Subscription<AppVifPlan> plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
        try (AgentNode node = AgentNode.of(new ZedrouterAgent("bench-vpn", scratch.resolve("state")), bus, host,
            RuntimeSettings.DEFAULT)) {
          node.awaitStarted(WAIT);
          double[] latencies = new double[SAMPLES];
          for (int i = 0; i < SAMPLES; i++) {
            long start = System.nanoTime();
            nis.publish(VPN_NI, vpnNi());
            await(() -> "ESTABLISHED".equals(vpnState(status)), "tunnel up");
            latencies[i] = (System.nanoTime() - start) / 1e6;
            if (i < SAMPLES - 1) {
              nis.unpublish(VPN_NI);
              await(() -> !status.snapshot().containsKey(VPN_NI) && host.daemons().status("charon-bn1").isEmpty(),
                  "VPN NI gone");
            }
          }
          double[] sorted = latencies.clone();
          Arrays.sort(sorted);
          System.out.printf(Locale.ROOT, "# vpn tunnel up samples (ms): %s%n", Arrays.toString(latencies));
          System.out.printf(Locale.ROOT, "BENCH vpn.tunnel_up.latency %.1f ms%n", sorted[SAMPLES / 2]);
          System.out.flush();

          Netns vpnApp = attachApp(topology, dev, "vpnapp", apps, plans, VPN_APP, VPN_NI);
          double vpn = throughput(vpnApp, RemoteSite.HOST, 5201);
          nis.publish(LOCAL_NI, localNi());
          Netns localApp = attachApp(topology, dev, "localapp", apps, plans, LOCAL_APP, LOCAL_NI);
          await(() -> status.snapshot().containsKey(LOCAL_NI)
              && status.snapshot().get(LOCAL_NI).getState() == NetworkInstanceStatus.State.STATE_ONLINE, "local NI online");
          double local = throughput(localApp, "192.0.2.2", 5202);
          System.out.printf(Locale.ROOT, "BENCH vpn.throughput %.1f Mbit/s%n", vpn / 1e6);
          System.out.printf(Locale.ROOT, "BENCH vpn.local_ni.throughput %.1f Mbit/s%n", local / 1e6);
          System.out.flush();
        }
      } finally {
        remoteIperf.close();
        upstreamIperf.close();
      }
    }
  }

  private static String vpnState(Subscription<NetworkInstanceStatus> status) {
    NetworkInstanceStatus ni = status.snapshot().get(VPN_NI);
    return ni == null ? "" : ni.getVpnState();
  }

  private static NetworkInstanceConfig vpnNi() {
    return NetworkInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(VPN_NI).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_VPN).setActivate(true).setPort(Adapter.newBuilder().setName("eth0"))
        .setIp(IpSpec.newBuilder().setSubnet("10.1.0.0/24"))
        .setVpn(VpnSettings.newBuilder().setPeer("192.0.2.2").addRemoteSubnets(RemoteSite.LAN).setPsk(PSK)
            .setLocalId("dev.example").setRemoteId("gw.example"))
        .build();
  }

  private static NetworkInstanceConfig localNi() {
    return NetworkInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(LOCAL_NI).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true).setPort(Adapter.newBuilder().setName("eth0"))
        .setIp(IpSpec.newBuilder().setSubnet("10.3.0.0/24")).build();
  }

  /** An app on the NI, allowed everywhere: its host namespace is joined to the VIF zedrouter planned. */
  private static Netns attachApp(NetTopology topology, Netns dev, String name, Publication<AppInstanceConfig> apps,
      Subscription<AppVifPlan> plans, String appUuid, String niUuid) throws Exception {
    apps.publish(appUuid, AppInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(appUuid).setVersion("1"))
        .setDisplayName(name).setActivate(true)
        .addInterfaces(NetworkAdapter.newBuilder().setName("eth0").setNetworkId(niUuid)
            .addAcls(Ace.newBuilder().setId(1).setName("all").addMatches(AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0"))))
        .build());
    await(() -> plans.snapshot().containsKey(appUuid), "VIF plan of " + name);
    var vif = plans.snapshot().get(appUuid).getVifs(0);
    Netns app = topology.namespace(name);
    topology.veth(dev, vif.getVifName(), app, "eth0");
    app.execOk("ip", "link", "set", "eth0", "address", vif.getMac());
    String gateway = vif.getIpAddress().substring(0, vif.getIpAddress().lastIndexOf('.')) + ".1";
    app.address("eth0", vif.getIpAddress() + "/24");
    app.execOk("ip", "route", "add", "default", "via", gateway);
    await(() -> dev.exec("ip", "-o", "link", "show", vif.getVifName()).stdout().contains("master "), name + " on its bridge");
    return app;
  }

  private static double throughput(Netns app, String server, int port) {
    String json = app.execOk("iperf3", "-c", server, "-p", Integer.toString(port), "-t", "3", "-J");
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("iperf3 to " + server + " gave no result: " + json);
    }
    return Double.parseDouble(m.group(1));
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no " + what + " within " + WAIT);
      }
      Thread.sleep(2);
    }
  }
}
