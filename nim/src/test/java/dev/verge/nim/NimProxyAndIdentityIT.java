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
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.Certificates;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.ProxyConfig;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.testkit.ConnectProxy;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * nim's verification on the real kernel, in namespaces, where only a proxy leads to the controller
 * or something else answers at its address.
 *
 * <pre>
 *   dev eth0 (192.0.2.10, cost 0) -- up0: does not forward; runs the HTTP CONNECT proxy 192.0.2.1:3128 --\
 *                                                                                                          ctl 203.0.113.10
 *   dev eth1 (DHCP, cost 10) ------- up1: forwards, dnsmasq ------------------------------------------------/
 * </pre>
 *
 * On ctl, 203.0.113.10:8443 is a plain TCP listener and :8444 a TLS server with a certificate for
 * controller.test from a CA of its own.
 */
class NimProxyAndIdentityIT {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String CONTROLLER = "203.0.113.10";
  static final String NET0 = "00000000-0000-4000-8000-0000000000a0";

  @TempDir Path dir;
  NetTopology topology;
  Netns dev;
  Netns up0;
  Netns ctl;
  BackgroundProcess proxy;
  Path standInCa;
  LinuxHost host;
  PubSub bus;
  AgentLoop loop;
  AgentLoop observer;
  AgentRuntime runtime;
  ExecutorService probeThread;
  Subscription<DeviceNetwork> network;
  Publication<NetworkConfig> networks;

  @BeforeEach
  void topology() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("nimproxy");
    dev = topology.namespace("dev");
    up0 = topology.namespace("up0");
    Netns up1 = topology.namespace("up1");
    ctl = topology.namespace("ctl");
    topology.veth(dev, "eth0", up0, "u0");
    topology.veth(dev, "eth1", up1, "u1");
    topology.veth(up0, "c0", ctl, "a0");
    topology.veth(up1, "c1", ctl, "a1");
    up0.address("c0", "10.90.0.1/30"); // no forwarding: the device's packets end here
    up1.address("c1", "10.90.1.1/30").forwarding();
    ctl.address("a0", "10.90.0.2/30").address("a1", "10.90.1.2/30").address("lo", CONTROLLER + "/32").up("lo");
    up0.route(CONTROLLER + "/32", "10.90.0.2");
    up1.route(CONTROLLER + "/32", "10.90.1.2");
    ctl.route("198.51.100.0/24", "10.90.1.1");
    ctl.spawn("controller", "busybox", "nc", "-ll", "-p", "8443", "-e", "true");
    standInCa = topology.workDir().resolve("stand-in-ca.pem");
    ctl.spawnJava("tls-stand-in", TlsControllerStandIn.class.getName(), CONTROLLER, "8444", standInCa.toString())
        .awaitOutput(out -> out.contains("tls stand-in listening"), WAIT);
    new UpstreamHost(up0, "u0", "192.0.2.1/24");
    proxy = up0.spawnJava("proxy", ConnectProxy.class.getName(), "192.0.2.1", "3128");
    proxy.awaitOutput(out -> out.contains("proxy listening on 192.0.2.1:3128"), WAIT);
    new UpstreamHost(up1, "u1", "198.51.100.1/24").startDhcpAndDns("198.51.100.50", "198.51.100.60", Duration.ofHours(1));
  }

  /** eth0 static behind the proxy at {@code proxyUrl}; eth1 by DHCP, direct. */
  void publishConfig(String proxyUrl) {
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    var io = bus.publish(ZedagentTopics.PHYSICAL_IO, Durability.VOLATILE);
    bus.publish(ZedagentTopics.VLANS, Durability.VOLATILE);
    bus.publish(ZedagentTopics.BONDS, Durability.VOLATILE);
    var adapters = bus.publish(ZedagentTopics.SYSTEM_ADAPTERS, Durability.VOLATILE);
    networks = bus.publish(ZedagentTopics.NETWORKS, Durability.VOLATILE);
    bus.publish(ZedagentTopics.CONFIG_ITEMS, Durability.VOLATILE);
    io.publish("eth0", eth("eth0"));
    io.publish("eth1", eth("eth1"));
    networks.publish(NET0, behindProxy(proxyUrl));
    networks.publish(Configs.DHCP_NET, dhcp());
    adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    adapters.publish("wan1", uplink("wan1", "eth1", 10, Configs.DHCP_NET));
  }

  static NetworkConfig behindProxy(String proxyUrl) {
    return staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0).toBuilder()
        .setProxy(ProxyConfig.newBuilder().addProxies(proxyUrl)).build();
  }

  void startNim(String target, Optional<TcpControllerProbe.TlsCheck> tls) {
    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    loop = topology.own(AgentLoop.create("nim"));
    observer = topology.own(AgentLoop.create("observer"));
    probeThread = NetnsExecutor.enter(dev.name());
    topology.own((AutoCloseable) probeThread::shutdownNow);
    TcpControllerProbe probe = new TcpControllerProbe(target, probeThread);
    tls.ifPresent(probe::withTlsCheck);
    network = bus.subscribe(NimTopics.DEVICE_NETWORK, observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
    runtime = topology.own(AgentRuntime.start(new NimAgent(new NimSettings(dir.resolve("state")), c -> probe), bus, host, loop,
        RuntimeSettings.DEFAULT));
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

  String portError(String label) {
    return network.get(NimAgent.GLOBAL).flatMap(n -> n.getPortsList().stream().filter(p -> p.getLabel().equals(label))
        .findFirst()).map(p -> p.getError().getDescription()).orElse("");
  }

  @Test
  void onlyThroughTheProxyIsTheControllerReachedAndAWrongProxyIsThePortsPreciseError() {
    publishConfig("http://192.0.2.1:3129"); // nothing listens there
    startNim(CONTROLLER + ":8443", Optional.empty());

    // The wrong proxy fails eth0 with what went wrong; eth1 (direct) is tested all the same and taken.
    await().atMost(WAIT).until(() -> controllerPort().equals("wan1"));
    await().atMost(WAIT).until(() -> portError("wan0").equals("cannot reach controller " + CONTROLLER
        + ":8443 through proxy http://192.0.2.1:3129 from 192.0.2.10 on eth0: Connection refused"));
    // eth0 has no way to the controller but the proxy: up0 does not forward.
    assertThat(dev.exec("busybox", "nc", "-w", "2", "-s", "192.0.2.10", CONTROLLER, "8443").ok()).isFalse();
    assertThat(proxy.output()).doesNotContain("CONNECT");

    // The right proxy: a new config, verified from the top, and eth0 (cost 0) carries controller traffic.
    networks.publish(NET0, behindProxy("http://192.0.2.1:3128"));
    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
    assertThat(proxy.output()).contains("proxy: CONNECT " + CONTROLLER + ":8443 HTTP/1.1");
    assertThat(network.get(NimAgent.GLOBAL).orElseThrow().getPortsList().stream()
        .filter(p -> p.getLabel().equals("wan0")).findFirst().orElseThrow().getProxy())
        .as("zedagent reads the proxy of the port in use from here").isEqualTo("http://192.0.2.1:3128");
  }

  @Test
  void aTlsServerWithAnotherIdentityAtTheControllersAddressFailsEveryPortAndNoneIsSelected() throws Exception {
    publishConfig("http://192.0.2.1:3128");
    Certificates.Identity controllerCa = Certificates.selfSigned("controller CA", true, Duration.ofDays(1));
    startNim(CONTROLLER + ":8444", Optional.of(new TcpControllerProbe.TlsCheck("controller.test",
        controllerCa.certificate())));

    String impostor = "controller controller.test at " + CONTROLLER + ":8444 did not prove its identity over TLS: ";
    await().atMost(WAIT).until(() -> portError("wan0").startsWith(impostor) && portError("wan1").startsWith(impostor));
    assertThat(controllerPort()).as("no port is selected").isEmpty();
    // Through the proxy too: the TLS check runs over the CONNECT tunnel.
    assertThat(proxy.output()).contains("proxy: CONNECT " + CONTROLLER + ":8444 HTTP/1.1");
  }

  @Test
  void theControllersOwnIdentityIsVerifiedThroughTheProxyAndThePortSelected() throws Exception {
    publishConfig("http://192.0.2.1:3128");
    startNim(CONTROLLER + ":8444", Optional.of(new TcpControllerProbe.TlsCheck("controller.test",
        Certificates.readCertificate(standInCa))));
    await().atMost(WAIT).until(() -> controllerPort().equals("wan0"));
    assertThat(portError("wan0")).isEmpty();
    assertThat(proxy.output()).contains("proxy: CONNECT " + CONTROLLER + ":8444 HTTP/1.1");
  }
}
