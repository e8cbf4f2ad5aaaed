package dev.verge.cli;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.linux.ProcessSupervisor;
import dev.verge.hostos.vici.CharonSpec;
import dev.verge.hostos.vici.Charons;
import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.hostos.vici.SiteToSite;
import dev.verge.hostos.vici.ViciClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
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
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The demo's VPN step: a remote site (a gateway namespace running its own charon, a LAN host
 * behind it) and a device running zedrouter with a VPN NI to it; an app behind the NI pings the
 * remote LAN host through the IPsec tunnel. As root only (real namespaces and charons).
 */
final class VpnDemoSteps {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String NI = "00000000-0000-4000-8000-0000000000e1";
  static final String APP = "00000000-0000-4000-8000-0000000000e2";
  static final String PSK = "demo pre-shared key";

  private final BiConsumer<String, String> heading;
  private final Consumer<String> show;

  VpnDemoSteps(BiConsumer<String, String> heading, Consumer<String> show) {
    this.heading = heading;
    this.show = show;
  }

  void run(Path work) throws Exception {
    heading.accept("A VPN network instance to a remote site", "IKEv2 with a PSK, charon driven over VICI, a real tunnel");
    if (!Root.isRoot()) {
      show.accept("(needs root: namespaces and charon; skipped)");
      return;
    }
    Path dir = Files.createDirectories(work.resolve("vpn"));
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try (NetTopology topology = NetTopology.create("demovpn")) {
      Netns dev = topology.namespace("dev");
      Netns gw = topology.namespace("gw");
      Netns rlan = topology.namespace("rlan");
      Netns app = topology.namespace("app");
      topology.veth(dev, "eth0", gw, "eth0");
      dev.address("eth0", "192.0.2.10/24");
      gw.address("eth0", "192.0.2.2/24");
      topology.veth(gw, "lan0", rlan, "eth0");
      gw.address("lan0", "10.2.0.1/24").forwarding();
      rlan.address("eth0", "10.2.0.5/24").defaultRoute("10.2.0.1");
      try (ProcessSupervisor gateway = new ProcessSupervisor(dir.resolve("gw-daemons"), gw.execPrefix());
          LinuxHost host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys")));
          PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
          AgentLoop observer = AgentLoop.create("demo-vpn-observer")) {
        CharonSpec spec = CharonSpec.standard("charon", IpsecBackend.LIBIPSEC);
        Charons.writeConfig(gateway, spec);
        gateway.start(spec.daemonSpec(gateway.paths("charon")));
        try (ViciClient vici = Charons.connect(gateway, spec, WAIT)) {
          vici.loadShared("site", "IKE", PSK, List.of("device.example", "site-b.example"));
          vici.loadConn("site", new SiteToSite("site", "192.0.2.2", "%any", "site-b.example", "device.example",
              Optional.empty(), List.of("aes256-sha256-modp3072"), List.of("aes256-sha256-modp3072"),
              Duration.ofSeconds(30), Duration.ofHours(4), Duration.ofHours(1), List.of("10.2.0.0/24"),
              List.of("10.1.0.0/24"), false).toVici());
        }
        show.accept("remote site: gateway 192.0.2.2 (its own charon), LAN 10.2.0.0/24 with host 10.2.0.5");
        bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
            .addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0").setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true)
                .setCarrier(true).setMtu(1500).addAddresses("192.0.2.10/24").addGateways("192.0.2.2"))
            .build());
        Subscription<NetworkInstanceStatus> status =
            bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
        Subscription<AppVifPlan> plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
        bus.publish(ZedagentTopics.APPS, Durability.VOLATILE).publish(APP, AppInstanceConfig.newBuilder()
            .setId(UuidAndVersion.newBuilder().setUuid(APP).setVersion("1")).setDisplayName("vpn-app").setActivate(true)
            .addInterfaces(NetworkAdapter.newBuilder().setName("eth0").setNetworkId(NI)
                .addAcls(Ace.newBuilder().setId(1).setName("all").addMatches(AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0"))))
            .build());
        var nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
        try (AgentNode node = AgentNode.of(new ZedrouterAgent("demo-vpn", dir.resolve("state")), bus, host,
            RuntimeSettings.DEFAULT)) {
          node.awaitStarted(WAIT);
          long start = System.nanoTime();
          nis.publish(NI, NetworkInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(NI).setVersion("1"))
              .setDisplayName("site-b").setType(NetworkInstanceConfig.Type.TYPE_VPN).setActivate(true)
              .setPort(Adapter.newBuilder().setName("eth0")).setIp(IpSpec.newBuilder().setSubnet("10.1.0.0/24"))
              .setVpn(VpnSettings.newBuilder().setPeer("192.0.2.2").addRemoteSubnets("10.2.0.0/24").setPsk(PSK)
                  .setLocalId("device.example").setRemoteId("site-b.example"))
              .build());
          await(() -> status.snapshot().containsKey(NI) && "ESTABLISHED".equals(status.snapshot().get(NI).getVpnState()),
              "the tunnel to come up");
          show.accept(String.format(java.util.Locale.ROOT, "VPN NI site-b: tunnel ESTABLISHED with %s in %d ms (ESP: %s)",
              status.snapshot().get(NI).getVpn().getPeer(), (System.nanoTime() - start) / 1_000_000,
              status.snapshot().get(NI).getVpn().getIpsecBackend()));
          await(() -> plans.snapshot().containsKey(APP), "the app's VIF plan");
          var vif = plans.snapshot().get(APP).getVifs(0);
          topology.veth(dev, vif.getVifName(), app, "eth0");
          app.execOk("ip", "link", "set", "eth0", "address", vif.getMac());
          app.address("eth0", vif.getIpAddress() + "/24");
          app.execOk("ip", "route", "add", "default", "via", "10.1.0.1");
          await(() -> dev.exec("ip", "-o", "link", "show", vif.getVifName()).stdout().contains("master "), "the VIF on the bridge");
          boolean reached = app.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.2.0.5").ok();
          show.accept("app " + vif.getIpAddress() + " -> remote LAN host 10.2.0.5 through the tunnel: "
              + (reached ? "3/3 pings answered" : "NOT reached"));
          if (!reached) {
            throw new IllegalStateException("the app did not reach the remote LAN through the tunnel");
          }
          await(() -> status.snapshot().get(NI).getVpn().getPacketsOut() >= 3, "the tunnel's counters");
          var vpn = status.snapshot().get(NI).getVpn();
          show.accept("tunnel counters (list-sas): in " + vpn.getBytesIn() + " B/" + vpn.getPacketsIn() + " pkts, out "
              + vpn.getBytesOut() + " B/" + vpn.getPacketsOut() + " pkts");
        }
      }
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("waited " + WAIT.toSeconds() + " s for " + what);
      }
      Thread.sleep(20);
    }
  }
}
