package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch NI's ACLs on the real kernel: the device ({@code dev}) bridges its L2 port {@code eth1}
 * to an upstream host on the same segment ({@code up}, 192.0.2.1: HTTP, DHCP and DNS) and two app
 * hosts ({@code web}: may reach port 80; {@code other}: port 80 dropped), whose veth ends in the
 * device are their VIFs. The NI's {@code bridge} table judges every frame.
 */
class SwitchNiAclIT {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns web;
  Netns other;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;
  BackgroundProcess httpd;
  BackgroundProcess dhcp;
  dev.verge.pubsub.Publication<dev.verge.proto.config.v1.NetworkInstanceConfig> nis;
  dev.verge.pubsub.Publication<dev.verge.proto.config.v1.AppInstanceConfig> apps;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("zs");
    dev = topology.namespace("dev");
    Netns up = topology.namespace("up");
    web = topology.namespace("web");
    other = topology.namespace("other");
    topology.veth(dev, "eth1", up, "eth0");
    UpstreamHost upstream = new UpstreamHost(up, "eth0", "192.0.2.1/24");
    Path www = Files.createDirectories(dir.resolve("www"));
    Files.writeString(www.resolve("index.html"), "upstream\n");
    httpd = upstream.startHttp(www);
    dhcp = upstream.startDhcpAndDns("192.0.2.100", "192.0.2.150", Duration.ofMinutes(10));
    topology.veth(dev, "nbu1x1", web, "eth0");
    topology.veth(dev, "nbu1x2", other, "eth0");
    other.address("eth0", "192.0.2.22/24");

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", ports(l2Port("lan", "eth1")));
    nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    nis.publish(NI1, switchNi(NI1, "lan"));
    apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "protocol", "tcp", "fport", "80"))));
    apps.publish(APP2, app(APP2, "other", vif(NI1, drop(ace(7, "protocol", "tcp", "fport", "80")),
        ace(8, "protocol", "icmp"))));
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  private long packets(String counter) {
    String listing = dev.execOk("nft", "list", "counter", "bridge", "zedrouter-bn1", counter);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("packets (\\d+)").matcher(listing);
    assertThat(m.find()).as(listing).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void anAllowedFlowPassesTheSwitchAndADroppedOneIsCounted() {
    Subscription<NetworkInstanceStatus> status =
        bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> status.snapshot().containsKey(NI1)
        && status.snapshot().get(NI1).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x2").stdout().contains("master bn1")
        && dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1")
        && dev.exec("ip", "-o", "link", "show", "eth1").stdout().contains("master bn1"));
    assertThat(dev.execOk("nft", "list", "table", "bridge", "zedrouter-bn1")).contains("iifname vmap @egress");

    // the web app's lease comes from the upstream's DHCP server through the switch (implicit allow)
    DhcpClient.Lease lease = DhcpClient.obtain(web, "eth0", WAIT);
    assertThat(lease.cidr()).startsWith("192.0.2.1");
    assertThat(web.exec("curl", "-s", "-m", "5", "http://192.0.2.1/index.html").stdout()).isEqualTo("upstream\n");
    assertThat(packets("ace-nbu1x1-1")).isPositive();
    // ICMP is no ACE of the web app's: dropped and counted
    long webDrops = packets("drop-nbu1x1");
    assertThat(web.ping("192.0.2.1", Duration.ofSeconds(1))).isFalse();
    assertThat(packets("drop-nbu1x1")).isGreaterThan(webDrops);

    // the other app may ping (ACE 8, both ways) but its port-80 SYNs hit ACE 7
    assertThat(other.ping("192.0.2.1", Duration.ofSeconds(3))).isTrue();
    assertThat(packets("ace-nbu1x2-8")).isGreaterThanOrEqualTo(2);
    assertThat(other.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://192.0.2.1/")
        .stdout().trim()).isEqualTo("000");
    assertThat(packets("ace-nbu1x2-7")).isPositive();

    // the NI gone, no table is left behind
    nis.unpublish(NI1);
    await().atMost(WAIT).until(() -> !dev.exec("nft", "list", "tables").stdout().contains("zedrouter-bn1"));
  }
}
