package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-NI uplink failover on the real kernel: the device ({@code dev}) has two uplinks, eth0 (cost 0)
 * to {@code up1} and eth1 (cost 1) to {@code up2}; both upstreams serve 203.0.113.1, each with its own
 * page, so what the app reads tells which uplink carried it. up1 then goes silent (it drops
 * everything, its link stays up and nim sees nothing wrong): only the NI's probes can tell.
 */
class UplinkFailoverIT {
  static final Duration WAIT = Duration.ofSeconds(30);
  /** Short timers so the IT is quick; the thresholds are EVE's. */
  static final UplinkProber.Timers TIMERS =
      new UplinkProber.Timers(Duration.ofMillis(300), Duration.ofMillis(250), 4, 3, Duration.ofSeconds(3));

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns up1;
  Netns up2;
  Netns app;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("zf");
    dev = topology.namespace("dev");
    up1 = topology.namespace("up1");
    up2 = topology.namespace("up2");
    app = topology.namespace("app");
    topology.veth(dev, "eth0", up1, "eth0");
    topology.veth(dev, "eth1", up2, "eth0");
    dev.address("eth0", "192.0.2.10/24");
    dev.address("eth1", "198.51.100.10/24");
    up1.address("eth0", "192.0.2.1/24");
    up2.address("eth0", "198.51.100.1/24");
    serve(up1, "up1");
    serve(up2, "up2");
    topology.veth(dev, "nbu1x1", app, "eth0");

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", ports(
        port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"), port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1")));
    bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE).publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    bus.publish(ZedagentTopics.APPS, Durability.VOLATILE).publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1), TIMERS,
        ZedrouterAgent::defaultProbe), bus, host, RuntimeSettings.DEFAULT));
  }

  /** The shared remote address on the upstream, answering with the upstream's name. */
  private void serve(Netns upstream, String name) throws Exception {
    upstream.execOk("ip", "address", "add", "203.0.113.1/32", "dev", "lo");
    Path www = Files.createDirectories(dir.resolve(name));
    Files.writeString(www.resolve("index.html"), name + "\n");
    upstream.spawn(name + "-httpd", "busybox", "httpd", "-f", "-p", "203.0.113.1:80", "-h", www.toString()); // stops with the topology
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  private String fetch() {
    return app.exec("curl", "-s", "-m", "1", "http://203.0.113.1/").stdout();
  }

  @Test
  void theNiLeavesAnUplinkWhoseUpstreamGoesSilentAndComesBackAfterTheHold() {
    Subscription<NetworkInstanceStatus> status =
        bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> status.snapshot().containsKey(NI1)
        && status.snapshot().get(NI1).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    var plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> plans.snapshot().containsKey(APP1));
    app.execOk("ip", "link", "set", "eth0", "address", plans.snapshot().get(APP1).getVifs(0).getMac());
    assertThat(DhcpClient.obtain(app, "eth0", WAIT).cidr()).isEqualTo("10.1.0.128/24");
    assertThat(status.snapshot().get(NI1).getSelectedPort()).isEqualTo("eth0");
    await().atMost(WAIT).until(() -> fetch().equals("up1\n"));

    // up1 goes silent: no answer to anything, not even a reset; its link and eth0's carrier stay up
    up1.execOk("nft", "add table inet silent; add chain inet silent in { type filter hook input priority 0; policy drop; }");
    long silentAt = System.nanoTime();
    await().atMost(WAIT).until(() -> status.snapshot().get(NI1).getSelectedPort().equals("eth1"));
    long failoverMs = (System.nanoTime() - silentAt) / 1_000_000;
    // 4 probes 300 ms apart must have missed: not sooner than ~0.9 s
    assertThat(failoverMs).isGreaterThan(800);
    assertThat(status.snapshot().get(NI1).getSelectedPortReason()).contains("eth0 fails its probe (cannot ping 192.0.2.1"
        + " from 192.0.2.10 on eth0: no echo reply within 250 ms (ETIMEDOUT))");
    assertThat(dev.execOk("ip", "route", "show", "table", "801")).contains("default via 198.51.100.1 dev eth1")
        .doesNotContain("192.0.2.1");
    assertThat(dev.execOk("nft", "list", "chain", "inet", "zedrouter-bn1", "postrouting")).contains("oifname \"eth1\"")
        .doesNotContain("oifname \"eth0\"");
    // the app's new flows go out of eth1, masqueraded to its address
    await().atMost(WAIT).until(() -> fetch().equals("up2\n"));

    // up1 answers again: after 3 answers and the hold without a break, the NI goes back to the cheaper port
    up1.execOk("nft", "delete table inet silent");
    long backAt = System.nanoTime();
    await().atMost(WAIT).until(() -> status.snapshot().get(NI1).getSelectedPort().equals("eth0"));
    assertThat((System.nanoTime() - backAt) / 1_000_000).as("held off for the 3 s hold").isGreaterThan(2900);
    await().atMost(WAIT).until(() -> fetch().equals("up1\n"));
  }

  @Test
  void aGatewayThatStopsAnsweringPingsMovesTheNiToTheOtherUplinkAndTheMetricsShowTheMisses() {
    Subscription<NetworkInstanceStatus> status =
        bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
    Subscription<dev.verge.proto.metrics.v1.MetricsMessage> metrics =
        bus.subscribe(ZedrouterTopics.METRICS, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> status.snapshot().containsKey(NI1)
        && status.snapshot().get(NI1).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status.snapshot().get(NI1).getSelectedPort()).isEqualTo("eth0");
    // the pings leave through the port they are bound to, whatever the routes say: the same echo that
    // eth1's gateway answers through eth1 finds no way out of eth0 (the main table would take eth1)
    assertThat(host.pinger().echo("eth1", IpPrefix.literal("198.51.100.10"), IpPrefix.literal("198.51.100.1"),
        Duration.ofSeconds(1))).isPositive();
    assertThatThrownBy(() -> host.pinger().echo("eth0", IpPrefix.literal("198.51.100.10"),
        IpPrefix.literal("198.51.100.1"), Duration.ofMillis(300))).isInstanceOf(HostException.class)
        .hasMessageContaining("on eth0");

    // up1 drops ICMP only, in its own ruleset: TCP through it still works, the gateway ping does not
    up1.execOk("nft", "add table inet noping; add chain inet noping in { type filter hook input priority 0; }; "
        + "add rule inet noping in meta l4proto icmp drop");
    await().atMost(WAIT).until(() -> status.snapshot().get(NI1).getSelectedPort().equals("eth1"));
    assertThat(status.snapshot().get(NI1).getSelectedPortReason())
        .contains("eth0 fails its probe (cannot ping 192.0.2.1 from 192.0.2.10 on eth0: no echo reply");
    assertThat(dev.execOk("ip", "route", "show", "table", "801")).contains("default via 198.51.100.1 dev eth1");

    // the NI's metrics (every 10 s) show the misses on eth0 and the answers on eth1
    await().atMost(WAIT).until(() -> probes(metrics).map(p -> p.getCurrentPort().equals("eth1")).orElse(false));
    var probes = probes(metrics).orElseThrow();
    assertThat(probes.getCurrentPortReason()).contains("eth0 fails its probe");
    var eth0 = probes.getPorts(0);
    assertThat(eth0.getPort()).isEqualTo("eth0");
    assertThat(eth0.getState()).isEqualTo("DOWN");
    assertThat(eth0.getGatewayUp()).isFalse();
    assertThat(eth0.getIcmpFailureCount()).isGreaterThanOrEqualTo(4);
    assertThat(eth0.getLastError()).contains("no echo reply");
    var eth1 = probes.getPorts(1);
    assertThat(eth1.getPort()).isEqualTo("eth1");
    assertThat(eth1.getState()).isEqualTo("UP");
    assertThat(eth1.getIcmpSuccessCount()).isGreaterThanOrEqualTo(4);
    assertThat(eth1.getIcmpFailureCount()).isZero();
    assertThat(eth1.getLastIcmpSuccessMs()).isPositive();
    assertThat(eth1.getLastRttUs()).isPositive();
  }

  private static java.util.Optional<dev.verge.proto.metrics.v1.ProbeMetrics> probes(
      Subscription<dev.verge.proto.metrics.v1.MetricsMessage> metrics) {
    return java.util.Optional.ofNullable(metrics.snapshot().get(ZedrouterAgent.NAME)).stream()
        .flatMap(m -> m.getNetworkInstancesList().stream()).filter(n -> n.getNetworkUuid().equals(NI1))
        .flatMap(n -> n.getProbesList().stream()).findFirst();
  }
}
