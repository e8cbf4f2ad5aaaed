package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.FlowFilter;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.config.v1.StaticRoute;
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
 * zedrouter on the real kernel in throw-away namespaces: a device ({@code dev}) with its uplink to an
 * upstream host ({@code up}, 192.0.2.1, which has no route back to the NI's subnet) and an app host
 * ({@code app}) whose veth end in the device is the VIF domainmgr would have made ({@code nbu1x1}).
 */
class ZedrouterIT {
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns up;
  Netns app;
  UpstreamHost upstream;
  dev.verge.pubsub.Publication<dev.verge.topics.v1.DeviceNetwork> devices;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;
  BackgroundProcess httpd;
  dev.verge.pubsub.Publication<dev.verge.proto.config.v1.NetworkInstanceConfig> nis;
  dev.verge.pubsub.Publication<dev.verge.proto.config.v1.AppInstanceConfig> apps;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    // dnsmasq reads its host directories after dropping root: the path to them must be traversable
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("zr");
    dev = topology.namespace("dev");
    up = topology.namespace("up");
    app = topology.namespace("app");
    topology.veth(dev, "eth0", up, "eth0");
    dev.address("eth0", "192.0.2.10/24");
    upstream = new UpstreamHost(up, "eth0", "192.0.2.1/24");
    Path www = Files.createDirectories(dir.resolve("www"));
    Files.writeString(www.resolve("index.html"), "upstream\n");
    httpd = upstream.startHttp(www);
    topology.veth(dev, "nbu1x1", app, "eth0");

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    devices = bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    devices.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1")));
    nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    nis.publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  private Subscription<NetworkInstanceStatus> watchNiStatus() {
    return bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
  }

  private static NetworkInstanceStatus.State state(Subscription<NetworkInstanceStatus> status) {
    NetworkInstanceStatus ni = status.snapshot().get(NI1);
    return ni == null ? NetworkInstanceStatus.State.STATE_UNSPECIFIED : ni.getState();
  }

  @Test
  void anAppGetsItsReservedLeaseFromTheNisDnsmasqAndReachesUpstreamOnlyThroughNat() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status.snapshot().get(NI1).getErrorsList()).isEmpty();
    assertThat(dev.ipv4Addresses("bn1")).containsExactly("10.1.0.1/24");
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));

    DhcpClient.Lease lease = lease(APP1, app);
    assertThat(lease.cidr()).isEqualTo("10.1.0.128/24"); // the VIF's reservation: range start + VIF number 0
    assertThat(lease.router()).isEqualTo("10.1.0.1");
    assertThat(lease.dns()).isEqualTo("10.1.0.1");

    // the upstream has no route to 10.1.0.0/24: an answer proves the request left masqueraded
    assertThat(up.ip("-4", "route", "show")).doesNotContain("10.1.0.");
    assertThat(app.exec("curl", "-s", "-m", "5", "http://192.0.2.1/index.html").stdout()).isEqualTo("upstream\n");
    // the device's own uplink address is no service of the NI: the input chain drops it
    assertThat(app.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://192.0.2.10:80/")
        .stdout().trim()).isEqualTo("000");
    String counters = dev.execOk("nft", "list", "counter", "inet", "zedrouter-bn1", "ace-nbu1x1-1");
    assertThat(counters).doesNotContain("packets 0 ");

    // DNS: the NI's dnsmasq answers the app's name and the router's
    assertThat(app.exec("busybox", "nslookup", "web", "10.1.0.1").stdout()).contains("10.1.0.128");

    // metadata at the link-local address: who the app is and the device's external address
    String network = app.execOk("curl", "-s", "-m", "5", "http://169.254.169.254/eve/v1/network.json");
    assertThat(network).contains("\"caller-ip\":\"10.1.0.128:").contains("\"external-ipv4\":\"192.0.2.10\"")
        .contains("\"hostname\":\"" + APP1 + "\"").contains("\"name\":\"web\"");
    assertThat(app.execOk("curl", "-s", "-m", "5", "http://169.254.169.254/eve/v1/external_ipv4")).isEqualTo("192.0.2.10");
    // the flow log: the app's flows to the upstream, once they end, with the ACE that let them out
    Subscription<dev.verge.proto.flowlog.v1.FlowBatch> flowLogs =
        bus.subscribe(ZedrouterTopics.FLOW_LOGS, observer, new SubscriptionHandler<>() {});
    host.conntrack().delete(FlowFilter.fromSource(IpPrefix.parse("10.1.0.128/32")));
    await().atMost(WAIT).until(() -> flowLogs.snapshot().values().stream().flatMap(b -> b.getFlowsList().stream())
        .anyMatch(r -> r.getFlow().getDest().equals("192.0.2.1") && r.getFlow().getDestPort() == 80));
    var record = flowLogs.snapshot().values().stream().flatMap(b -> b.getFlowsList().stream())
        .filter(r -> r.getFlow().getDest().equals("192.0.2.1") && r.getFlow().getDestPort() == 80).findFirst().orElseThrow();
    assertThat(record.getFlow().getSrc()).isEqualTo("10.1.0.128");
    assertThat(record.getAclId()).isEqualTo(1);
    assertThat(record.getRxBytes()).as("conntrack accounting is on in the namespace").isPositive();
    assertThat(flowLogs.snapshot().values()).extracting(b -> b.getScope().getVifName()).containsOnly("nbu1x1");
    // the DNS log: the app's lookup of its own name, from the real dnsmasq's query log
    await().atMost(WAIT).until(() -> flowLogs.snapshot().values().stream().flatMap(b -> b.getDnsRequestsList().stream())
        .filter(r -> r.getHostName().equals("web")).anyMatch(r -> r.getAddrsList().contains("10.1.0.128")));

    // the server itself is reached only through the metadata address
    assertThat(app.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://10.1.0.1/eve/v1/hostname")
        .stdout().trim()).isEqualTo("000");
  }

  /** Gives the app host's NIC the MAC zedrouter planned (as domainmgr would) and takes a lease. */
  private DhcpClient.Lease lease(String appUuid, Netns host) {
    var plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> plans.snapshot().containsKey(appUuid));
    host.execOk("ip", "link", "set", "eth0", "address", plans.snapshot().get(appUuid).getVifs(0).getMac());
    plans.close();
    return DhcpClient.obtain(host, "eth0", WAIT);
  }

  @Test
  void appsOnTwoNisCannotReachEachOtherAndAnAppWithoutAcesGetsOnlyDhcpAndDns() {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    Netns bare = topology.namespace("bare");
    topology.veth(dev, "nbu1x2", bare, "eth0"); // APP2's VIF: adapter 1, app number 2
    nis.publish(NI2, local(NI2, "10.2.0.0/24", "eth0"));
    apps.publish(APP2, app(APP2, "bare", vif(NI2)));
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE
        && status.snapshot().containsKey(NI2)
        && status.snapshot().get(NI2).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x2").stdout().contains("master bn2"));

    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    assertThat(lease(APP2, bare).cidr()).isEqualTo("10.2.0.128/24"); // DHCP is let through
    assertThat(bare.exec("busybox", "nslookup", "bare", "10.2.0.1").stdout()).contains("10.2.0.128"); // so is DNS
    // nothing else: not the upstream, not the other NI's app, and the other app cannot reach in
    assertThat(bare.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://192.0.2.1/")
        .stdout().trim()).isEqualTo("000");
    assertThat(bare.ping("10.1.0.128", Duration.ofSeconds(1))).isFalse();
    assertThat(app.ping("10.2.0.128", Duration.ofSeconds(1))).isFalse();
    assertThat(app.ping("192.0.2.1", Duration.ofSeconds(2))).isTrue(); // while app1 still gets out
    // metadata is one of the NI's own services: its own NI's answer, and never the other NI's server
    assertThat(bare.execOk("curl", "-s", "-m", "5", "http://169.254.169.254/eve/v1/hostname")).isEqualTo(APP2);
    assertThat(bare.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://10.1.0.1/eve/v1/hostname")
        .stdout().trim()).isEqualTo("000");
    String drops = dev.execOk("nft", "list", "counter", "inet", "zedrouter-bn2", "drop-nbu1x2");
    assertThat(drops).doesNotContain("packets 0 ");
  }

  @Test
  void aPortMapServesTheAppFromUpstreamAndByHairpinFromAnotherAppOfTheNi() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    Netns client = topology.namespace("client");
    topology.veth(dev, "nbu1x2", client, "eth0"); // APP2's VIF
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"),
        portmap(ace(2, "protocol", "tcp", "lport", "8080"), 80))));
    apps.publish(APP2, app(APP2, "client", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x2").stdout().contains("master bn1"));
    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    assertThat(lease(APP2, client).cidr()).isEqualTo("10.1.0.129/24");
    Path site = Files.createDirectories(dir.resolve("app-www"));
    Files.writeString(site.resolve("index.html"), "the app\n");
    try (BackgroundProcess appHttpd = app.spawn("app-httpd", "busybox", "httpd", "-f", "-p", "80", "-h", site.toString())) {
      await().atMost(WAIT).until(() -> app.exec("busybox", "wget", "-q", "-O", "-", "http://127.0.0.1/").stdout()
          .equals("the app\n"));
      // from upstream, at the device's address
      assertThat(up.execOk("curl", "-s", "-m", "5", "http://192.0.2.10:8080/")).isEqualTo("the app\n");
      // from another app of the NI, at the same address: through the device and back
      assertThat(client.execOk("curl", "-s", "-m", "5", "http://192.0.2.10:8080/")).isEqualTo("the app\n");
      // an unmapped port of the device's address is no way in
      assertThat(client.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://192.0.2.10:8081/")
          .stdout().trim()).isEqualTo("000");
    }
  }

  @Test
  void anAppsSynLeavesTheUplinkWithItsMssClampedToTheUplinksMtu() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    // a narrow uplink (both ends, as a PPPoE or tunnel link would be); the app's own link stays at 1500
    dev.execOk("ip", "link", "set", "eth0", "mtu", "1400");
    up.execOk("ip", "link", "set", "eth0", "mtu", "1400");
    assertThat(app.execOk("ip", "-o", "link", "show", "eth0")).contains("mtu 1500");
    try (BackgroundProcess capture = up.spawn("syn-capture", "tcpdump", "-l", "-n", "-v", "-i", "eth0", "-c", "1",
        "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0 and dst port 80")) {
      capture.awaitOutput(out -> out.contains("listening on"), WAIT);
      assertThat(app.exec("curl", "-s", "-m", "5", "http://192.0.2.1/index.html").stdout()).isEqualTo("upstream\n");
      capture.awaitExit(WAIT);
      // the app announced 1460 (its 1500-byte link); 1400 - 40 is what the uplink carries
      assertThat(capture.output()).contains("192.0.2.10.").contains("mss 1360").doesNotContain("mss 1460");
    }
  }

  @Test
  void theNisStaticRoutesReachTheAppByDhcpOption121AndTheDeviceRoutesThemOn() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    up.execOk("ip", "address", "add", "192.0.2.2/24", "dev", "eth0"); // a second router beside the default one
    up.execOk("ip", "address", "add", "198.51.100.1/32", "dev", "lo");
    nis.publish(NI1, local(NI1, "10.1.0.0/24", "eth0").toBuilder()
        .addStaticRoutes(StaticRoute.newBuilder().setDestination("198.51.100.0/24")
            .setGateway("192.0.2.2")).build());
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE
        && dev.exec("ip", "route", "show", "table", "801").stdout().contains("198.51.100.0/24"));
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    var plans = bus.subscribe(ZedrouterTopics.APP_VIF_PLAN, observer, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> plans.snapshot().containsKey(APP1));
    app.execOk("ip", "link", "set", "eth0", "address", plans.snapshot().get(APP1).getVifs(0).getMac());
    // the guest side: busybox udhcpc hands option 121 to its script as $staticroutes, which installs them
    Path script = dir.resolve("udhcpc-121.sh");
    Files.writeString(script, String.join("\n", "#!/bin/sh",
        "[ \"$1\" = bound ] || exit 0",
        "ip addr add \"$ip/$subnet\" dev \"$interface\"",
        "set -- $staticroutes",
        "while [ $# -ge 2 ]; do ip route replace \"$1\" via \"$2\" dev \"$interface\"; shift 2; done",
        "echo \"LEASE $ip routes=$staticroutes\"", ""));
    Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    String lease = app.execOk("busybox", "udhcpc", "-f", "-q", "-n", "-i", "eth0", "-t", "10", "-T", "1",
        "-O", "staticroutes", "-s", script.toString());
    assertThat(lease).contains("LEASE 10.1.0.128 routes=198.51.100.0/24 10.1.0.1 0.0.0.0/0 10.1.0.1");
    assertThat(app.execOk("ip", "-4", "route", "show")).contains("198.51.100.0/24 via 10.1.0.1 dev eth0")
        .contains("default via 10.1.0.1 dev eth0");
    // the device sends the app's traffic for the prefix to the static route's router, not the default one
    assertThat(dev.execOk("ip", "route", "get", "198.51.100.1", "from", "10.1.0.128", "iif", "bn1"))
        .contains("via 192.0.2.2 dev eth0");
    assertThat(app.ping("198.51.100.1", Duration.ofSeconds(3))).isTrue();
  }

  @Test
  void anAppOfAnotherNiReachesAPortMapAtTheUplinksAddressButNotTheAppItself() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    Netns client = topology.namespace("client");
    topology.veth(dev, "nbu1x2", client, "eth0"); // APP2's VIF, on NI2
    nis.publish(NI2, local(NI2, "10.2.0.0/24", "eth0"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, portmap(ace(2, "protocol", "tcp", "lport", "8080"), 80))));
    apps.publish(APP2, app(APP2, "client", vif(NI2, ace(1, "ip", "0.0.0.0/0"))));
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE
        && status.snapshot().containsKey(NI2)
        && status.snapshot().get(NI2).getState() == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x2").stdout().contains("master bn2"));
    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    assertThat(lease(APP2, client).cidr()).isEqualTo("10.2.0.128/24");
    Path site = Files.createDirectories(dir.resolve("app-www"));
    Files.writeString(site.resolve("index.html"), "the app\n");
    try (BackgroundProcess appHttpd = app.spawn("app-httpd", "busybox", "httpd", "-f", "-p", "80", "-h", site.toString())) {
      await().atMost(WAIT).until(() -> app.exec("busybox", "wget", "-q", "-O", "-", "http://127.0.0.1/").stdout()
          .equals("the app\n"));
      assertThat(client.execOk("curl", "-s", "-m", "5", "http://192.0.2.10:8080/")).isEqualTo("the app\n");
      // the mapped flow is the only way between the NIs: the app's own address is out of reach
      assertThat(client.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", "http://10.1.0.128:80/")
          .stdout().trim()).isEqualTo("000");
    }
  }

  @Test
  void aRestartedZedrouterAdoptsTheBridgeItLeftResetsItAndTheAppGetsItsLeaseAndUpstreamAgain() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    String index = dev.execOk("cat", "/sys/class/net/bn1/ifindex").strip();
    status.close();
    node.close(); // the run ends as a stopped or killed node's does: its bridge stays in the kernel
    host.close();
    // what the new run must not keep: an address of an older subnet, a port, a route through the bridge
    dev.execOk("ip", "addr", "add", "10.9.0.1/24", "dev", "bn1");
    dev.execOk("ip", "link", "add", "stale0", "type", "veth", "peer", "name", "stale1");
    dev.execOk("ip", "link", "set", "stale0", "master", "bn1");
    dev.execOk("ip", "route", "add", "10.77.0.0/16", "dev", "bn1", "table", "801");

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT));
    Subscription<NetworkInstanceStatus> restarted = watchNiStatus();
    await().atMost(WAIT).until(() -> state(restarted) == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));

    assertThat(dev.execOk("cat", "/sys/class/net/bn1/ifindex").strip()).as("adopted, not replaced").isEqualTo(index);
    assertThat(dev.ipv4Addresses("bn1")).containsExactly("10.1.0.1/24");
    assertThat(dev.execOk("ip", "-o", "link", "show", "stale0")).doesNotContain("master");
    assertThat(dev.ip("route", "show", "table", "801")).doesNotContain("10.77.0.0");
    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    assertThat(app.exec("curl", "-s", "-m", "5", "http://192.0.2.1/index.html").stdout()).isEqualTo("upstream\n");
  }

  private String resolve(String name) {
    return app.exec("timeout", "3", "busybox", "nslookup", name, "10.1.0.1").stdout();
  }

  /**
   * The uplink's DNS servers change (a DHCP renewal, a failover to a port with others): the NI's
   * dnsmasq forwards to the new ones without a restart, so the apps' DHCP and DNS never stop.
   */
  @Test
  void anUplinksNewDnsServersReachTheNisDnsmasqWithoutARestart() throws Exception {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    await().atMost(WAIT).until(() -> dev.exec("ip", "-o", "link", "show", "nbu1x1").stdout().contains("master bn1"));
    assertThat(lease(APP1, app).cidr()).isEqualTo("10.1.0.128/24");
    long pid = host.daemons().status("dnsmasq-bn1").orElseThrow().pid();
    try (BackgroundProcess dns = upstream.dnsRecord("far.example", "198.51.100.7")
        .startDhcpAndDns("192.0.2.100", "192.0.2.150", Duration.ofHours(1))) {
      assertThat(resolve("one.far.example")).contains("198.51.100.7");

      dev.verge.topics.v1.Port dead = port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1").toBuilder().clearDnsServers()
          .addDnsServers("192.0.2.53").build();
      devices.publish("global", ports(dead));
      await().atMost(WAIT).until(() -> !resolve("two.far.example").contains("198.51.100.7"));

      devices.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1")));
      await().atMost(WAIT).until(() -> resolve("three.far.example").contains("198.51.100.7"));
    }
    assertThat(host.daemons().status("dnsmasq-bn1").orElseThrow().pid()).as("the same dnsmasq").isEqualTo(pid);
    assertThat(state(status)).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void deletingTheNiLeavesNoBridgeNoDnsmasqAndNoTable() {
    Subscription<NetworkInstanceStatus> status = watchNiStatus();
    await().atMost(WAIT).until(() -> state(status) == NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(dev.exec("nft", "list", "table", "inet", "zedrouter-bn1").exitCode()).isZero();
    long dnsmasq = host.daemons().status("dnsmasq-bn1").orElseThrow().pid();
    assertThat(dev.execOk("ss", "-ltnH", "sport = :80")).contains("10.1.0.1"); // the metadata server

    nis.unpublish(NI1);
    await().atMost(WAIT).until(() -> status.snapshot().isEmpty());
    await().atMost(WAIT).until(() -> dev.exec("ip", "link", "show", "bn1").exitCode() != 0);
    assertThat(dev.exec("nft", "list", "table", "inet", "zedrouter-bn1").exitCode()).isNotZero();
    assertThat(ProcessHandle.of(dnsmasq).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(dev.ip("rule", "show")).doesNotContain("lookup 801");
    assertThat(dev.execOk("ss", "-ltnH", "sport = :80")).isBlank();
  }
}
