package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VPN NI on the real kernel: the device ({@code dev}, uplink 192.0.2.10) runs zedrouter; the
 * remote gateway ({@code gw}, 192.0.2.2) runs its own charon with the remote LAN 10.2.0.0/24 behind
 * it, where {@code rlan} (10.2.0.5) lives; the app ({@code app}) sits behind the VPN NI's bridge.
 */
class VpnIT {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String PSK = "correct horse battery";

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns gw;
  Netns rlan;
  Netns app;
  LinuxHost host;
  ProcessSupervisor gateway;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;
  dev.verge.pubsub.Publication<NetworkInstanceConfig> nis;
  Subscription<NetworkInstanceStatus> status;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("vpn");
    dev = topology.namespace("dev");
    gw = topology.namespace("gw");
    rlan = topology.namespace("rlan");
    app = topology.namespace("app");
    topology.veth(dev, "eth0", gw, "eth0");
    dev.address("eth0", "192.0.2.10/24");
    gw.address("eth0", "192.0.2.2/24");
    topology.veth(gw, "lan0", rlan, "eth0");
    gw.address("lan0", "10.2.0.1/24").forwarding();
    rlan.address("eth0", "10.2.0.5/24").defaultRoute("10.2.0.1");
    topology.veth(dev, "nbu1x1", app, "eth0");

    gateway = new ProcessSupervisor(dir.resolve("gw-daemons"), gw.execPrefix());
    startGatewayCharon(PSK);

    host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys")));
    bus = PubSub.inJvm(PubSubConfig.defaults());
    observer = AgentLoop.create("observer");
    bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE)
        .publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1")));
    nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    bus.publish(ZedagentTopics.APPS, Durability.VOLATILE)
        .publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    status = bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
  }

  /** The remote gateway: its own charon, answering (never initiating) the device's tunnel. */
  private void startGatewayCharon(String psk) throws Exception {
    CharonSpec spec = CharonSpec.standard("charon", IpsecBackend.LIBIPSEC);
    Charons.writeConfig(gateway, spec);
    gateway.start(spec.daemonSpec(gateway.paths("charon")));
    try (ViciClient vici = Charons.connect(gateway, spec, WAIT)) {
      vici.loadShared("site", "IKE", psk, List.of("dev.example", "gw.example"));
      vici.loadConn("site", new SiteToSite("site", "192.0.2.2", "%any", "gw.example", "dev.example", Optional.empty(),
          VpnPlan.DEFAULT_IKE_PROPOSALS, VpnPlan.DEFAULT_ESP_PROPOSALS, Duration.ofSeconds(2), Duration.ofHours(4),
          Duration.ofHours(1), List.of("10.2.0.0/24"), List.of("10.1.0.0/24"), false).toVici());
    }
  }

  private static NetworkInstanceConfig vpnNi(String psk) {
    return withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.setPeer("192.0.2.2").setPsk(psk).setLocalId("dev.example")
        .setRemoteId("gw.example").setDpdDelaySeconds(2));
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
    if (observer != null) {
      observer.close();
      bus.close();
      host.close();
    }
    if (gateway != null) {
      gateway.close();
    }
    if (topology != null) {
      topology.close();
    }
  }

  private NetworkInstanceStatus ni() {
    return status.snapshot().getOrDefault(NI1, NetworkInstanceStatus.getDefaultInstance());
  }

  private void startNode() {
    node = AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT);
  }

  @Test
  void anAppReachesTheRemoteLanOnlyThroughTheTunnelAndDeletingTheNiLeavesNothing() throws Exception {
    nis.publish(NI1, vpnNi(PSK));
    startNode();
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    assertThat(ni().getErrorsList()).isEmpty();
    assertThat(ni().getVpn().getPeer()).isEqualTo("192.0.2.2");
    assertThat(ni().getVpn().getIpsecBackend()).isEqualTo("libipsec");
    assertThat(ni().getVpn().getLocalAddress()).isEqualTo("192.0.2.10");
    assertThat(dev.ip("link", "show")).contains("ipsec");

    DhcpClient.Lease lease = lease();
    assertThat(lease.router()).isEqualTo("10.1.0.1");

    // the underlay sees only IKE and UDP-encapsulated ESP, never the app's ICMP
    BackgroundProcess tcpdump = gw.spawn("tcpdump", "tcpdump", "-l", "-n", "-i", "eth0", "ip");
    tcpdump.awaitOutput(out -> out.contains("listening on"), Duration.ofSeconds(10));
    assertThat(app.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.2.0.5").exitCode()).isZero();
    Thread.sleep(300); // the last lines reach tcpdump's output
    tcpdump.close();
    String seen = String.join("\n", tcpdump.output().lines().filter(l -> l.contains(" IP ")).toList());
    assertThat(seen).contains(".4500").doesNotContain("ICMP");
    assertThat(seen.lines().filter(l -> !l.isBlank()))
        .allSatisfy(l -> {
          assertThat(l).containsAnyOf("192.0.2.2.4500", "192.0.2.2.500");
          assertThat(l).containsAnyOf("UDP-encap: ESP", "isakmp", "NONESP-encap");
        });
    assertThat(seen).contains("UDP-encap: ESP");
    // counters reach status
    await().atMost(WAIT).until(() -> ni().getVpn().getPacketsOut() >= 3 && ni().getVpn().getPacketsIn() >= 3);

    // deleting the NI leaves no charon, no TUN device and no SA (the gateway's is gone too)
    long charonPid = host.daemons().status("charon-bn1").orElseThrow().pid();
    nis.unpublish(NI1);
    await().atMost(WAIT).until(() -> !status.snapshot().containsKey(NI1));
    await().atMost(WAIT).until(() -> host.daemons().status("charon-bn1").isEmpty());
    assertThat(ProcessHandle.of(charonPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    await().atMost(WAIT).until(() -> !dev.ip("link", "show").contains("ipsec"));
    CharonSpec gwSpec = CharonSpec.standard("charon", IpsecBackend.LIBIPSEC);
    try (ViciClient vici = Charons.connect(gateway, gwSpec, WAIT)) {
      await().atMost(WAIT).until(() -> vici.listSas("").isEmpty());
    }
    assertThat(dev.exec("ip", "route", "show", "table", "901").stdout()).isEmpty();
  }

  @Test
  void aStoppedPeerMarksTheTunnelFailedAndItComesBackByItself() throws Exception {
    nis.publish(NI1, vpnNi(PSK));
    startNode();
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    // the peer stops: DPD finds out and the NI says so
    gateway.stop("charon");
    await().atMost(WAIT).until(() -> "FAILED".equals(ni().getVpnState()));
    assertThat(ni().getVpn().getReason()).isNotEmpty();
    // it comes back: the device re-establishes the tunnel by itself
    startGatewayCharon(PSK);
    await().atMost(Duration.ofSeconds(60)).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    try (ViciClient vici = Charons.connect(gateway, CharonSpec.standard("charon", IpsecBackend.LIBIPSEC), WAIT)) {
      assertThat(vici.listSas("site")).anyMatch(sa -> sa.established() && sa.remoteHost().equals("192.0.2.10"));
    }
  }

  @Test
  void aWrongPskFailsWithIkesReasonAndTheRightOneBringsItUp() {
    nis.publish(NI1, vpnNi("not the right key"));
    startNode();
    await().atMost(WAIT).until(() -> "FAILED".equals(ni().getVpnState()));
    assertThat(ni().getVpn().getReason()).contains("AUTHENTICATION_FAILED");
    assertThat(ni().getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE); // the NI runs, its tunnel fails

    nis.publish(NI1, vpnNi(PSK));
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
  }

  /** Gives the app's NIC the MAC zedrouter planned (as domainmgr would) and takes a lease. */
  private DhcpClient.Lease lease() {
    var plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> plans.snapshot().containsKey(APP1));
    app.execOk("ip", "link", "set", "eth0", "address", plans.snapshot().get(APP1).getVifs(0).getMac());
    plans.close();
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    return DhcpClient.obtain(app, "eth0", WAIT);
  }
}
