package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.linux.ProcessSupervisor;
import dev.verge.hostos.vici.Der;
import dev.verge.hostos.vici.Pem;
import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.hostos.vici.SiteGateway;
import dev.verge.hostos.vici.SiteToSite;
import dev.verge.hostos.vici.ViciClient;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RemoteSite;
import dev.verge.netlab.Root;
import dev.verge.proto.Certificates;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.info.v1.VpnStatus;
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
  ProcessSupervisor gatewayDaemons;
  SiteGateway gateway;
  PubSub bus;
  AgentLoop observer;
  AgentNode node;
  dev.verge.pubsub.Publication<NetworkInstanceConfig> nis;
  dev.verge.pubsub.Publication<dev.verge.topics.v1.DeviceNetwork> devicePorts;
  Subscription<NetworkInstanceStatus> status;
  /** Every VPN status the NI published, with when it arrived: short-lived states are kept for the asserts. */
  final List<Seen> history = new java.util.concurrent.CopyOnWriteArrayList<>();

  record Seen(long nanos, VpnStatus vpn) {}

  /** Whether this kernel does ESP (xfrm with esp4), probed once per test. */
  boolean kernelEsp;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("vpn");
    kernelEsp = kernelDoesEsp();
    dev = topology.namespace("dev");
    RemoteSite site = RemoteSite.create(topology, "gw", "rlan");
    gw = site.gateway();
    rlan = site.lanHost().namespace();
    app = topology.namespace("app");
    topology.veth(dev, "eth0", gw, "eth0");
    dev.address("eth0", "192.0.2.10/24");
    gw.address("eth0", "192.0.2.2/24");
    topology.veth(dev, "nbu1x1", app, "eth0");

    gatewayDaemons = new ProcessSupervisor(dir.resolve("gw-daemons"), gw.execPrefix());
    gateway = new SiteGateway(gatewayDaemons, DaemonSpec.RestartPolicy.NEVER, gatewayBackend());
    startGatewayCharon(PSK);

    host = topology.own(LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    devicePorts = bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    devicePorts.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1")));
    nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    bus.publish(ZedagentTopics.APPS, Durability.VOLATILE)
        .publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    status = bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, NetworkInstanceStatus value) {
        record(value);
      }

      @Override
      public void onModify(String key, NetworkInstanceStatus oldValue, NetworkInstanceStatus newValue) {
        if (!oldValue.getVpn().equals(newValue.getVpn())) {
          record(newValue);
        }
      }

      private void record(NetworkInstanceStatus value) {
        if (value.hasVpn()) {
          history.add(new Seen(System.nanoTime(), value.getVpn()));
        }
      }
    });
  }

  /**
   * The remote gateway: its own charon, answering (never initiating) the device's tunnel. It is not
   * restarted when it dies: the tests decide when the peer comes back.
   */
  private void startGatewayCharon(String psk) {
    gateway.startWithPsk(gatewayConnection(Optional.empty()), psk, WAIT);
  }

  /** The gateway authenticating with {@code own}'s certificate, accepting the device's issued by {@code deviceCa}. */
  private void startGatewayCharon(Certificates.Identity own, Certificates.Identity deviceCa) throws Exception {
    try (ViciClient vici = gateway.start(WAIT)) {
      Der certificate = new Der(Certificates.der(own.certificate()));
      Der ca = new Der(Certificates.der(deviceCa.certificate()));
      vici.loadCert(ViciClient.CertificateKind.X509, certificate);
      vici.loadCert(ViciClient.CertificateKind.X509_CA, ca);
      Pem.PrivateKey key = Pem.privateKey(Certificates.toPem(own.keys().getPrivate()));
      vici.loadKey(key.type(), key.der());
      vici.loadConn(SiteGateway.CONNECTION, gatewayConnection(Optional.of(new SiteToSite.PubkeyAuth(certificate, ca))).toVici());
    }
  }

  /**
   * The gateway's ESP: the kernel's where it has ESP (the lab VM, whose image carries no
   * kernel-libipsec plugin), else charon's own over a TUN device.
   */
  private IpsecBackend gatewayBackend() {
    return kernelEsp ? IpsecBackend.XFRM : IpsecBackend.LIBIPSEC;
  }

  /**
   * Whether this kernel does ESP, with iproute2 as the independent witness: an ESP SA added by hand
   * in a namespace of its own. In the lab VM (-Dverge.lab=true) it must: a missing module must not
   * pass as a precise refusal.
   */
  private boolean kernelDoesEsp() {
    Netns probe = topology.namespace("xprobe");
    boolean esp = probe.exec("ip", "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp",
        "spi", "0x100", "mode", "tunnel", "enc", "cbc(aes)", "0x00112233445566778899aabbccddeeff",
        "auth-trunc", "hmac(sha256)", "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "128")
        .ok();
    System.out.println("VpnIT: kernel " + System.getProperty("os.version") + " does ESP: " + esp);
    if (Boolean.getBoolean("verge.lab")) {
      assertThat(esp).as("ESP/xfrm in the lab VM's kernel").isTrue();
    }
    return esp;
  }

  private static SiteToSite gatewayConnection(Optional<SiteToSite.PubkeyAuth> certificates) {
    return SiteGateway.answering("gw.example", "dev.example", certificates, List.of(RemoteSite.LAN), List.of("10.1.0.0/24"),
        Duration.ofSeconds(2));
  }

  /** DPD every 2 s of silence, the peer dead after 4 s without an answer. */
  private static NetworkInstanceConfig vpnNi(String psk) {
    return withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.setPeer("192.0.2.2").setPsk(psk).setLocalId("dev.example")
        .setRemoteId("gw.example").setDpdDelaySeconds(2).setDpdTimeoutSeconds(4));
  }

  /** The device authenticating with its certificate and key, accepting the gateway's issued by {@code gatewayCa}. */
  private static NetworkInstanceConfig certificateNi(Certificates.Identity device, Certificates.Identity gatewayCa) {
    return withVpn(vpnNi(PSK), v -> v.clearPsk().setLocalCertificate(Certificates.toPem(device.certificate()))
        .setLocalKey(Certificates.toPem(device.keys().getPrivate()))
        .setCaCertificate(Certificates.toPem(gatewayCa.certificate())));
  }

  /** The first status published after {@code sinceNanos} that matches, waiting for it. */
  private Seen awaitSeen(long sinceNanos, Duration wait, java.util.function.Predicate<VpnStatus> what) {
    await().atMost(wait).until(() -> history.stream().anyMatch(s -> s.nanos() >= sinceNanos && what.test(s.vpn())));
    return history.stream().filter(s -> s.nanos() >= sinceNanos && what.test(s.vpn())).findFirst().orElseThrow();
  }

  @AfterEach
  void stop(org.junit.jupiter.api.TestInfo test) {
    keepDaemonLogs(test);
    if (gatewayDaemons != null) {
      gatewayDaemons.close();
    }
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  /** The charons' logs (device and gateway) outlive the temp dir, under target/vpnit-logs, to read after a failure. */
  private void keepDaemonLogs(org.junit.jupiter.api.TestInfo test) {
    Path keep = Path.of("target", "vpnit-logs", test.getTestMethod().map(m -> m.getName()).orElse("unknown"));
    try (var files = Files.walk(dir)) {
      Files.createDirectories(keep);
      for (Path log : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
        Files.copy(log, keep.resolve(dir.relativize(log).toString().replace('/', '_')),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (java.io.IOException e) {
      System.err.println("VpnIT: daemon logs not kept: " + e);
    }
  }

  private NetworkInstanceStatus ni() {
    return status.snapshot().getOrDefault(NI1, NetworkInstanceStatus.getDefaultInstance());
  }

  private void startNode() {
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1)), bus, host,
        RuntimeSettings.DEFAULT));
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
    try (ViciClient vici = gateway.connect(WAIT)) {
      await().atMost(WAIT).until(() -> vici.listSas("").isEmpty());
    }
    assertThat(dev.exec("ip", "route", "show", "table", "901").stdout()).isEmpty();
  }

  @Test
  void aStoppedPeerMarksTheTunnelFailedAndItComesBackByItself() throws Exception {
    nis.publish(NI1, vpnNi(PSK));
    startNode();
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    // the peer stops and says so (SIGTERM: charon sends a DELETE); charon restarts the tunnel at once
    long stoppedAt = System.nanoTime();
    gateway.stop();
    // FAILED lasts until charon's next attempt, often the same millisecond: the bus may deliver only the
    // CONNECTING that replaced it, which carries the same cause ("retrying after the peer closed ...")
    Seen failed = awaitSeen(stoppedAt, WAIT, v -> v.getReason().contains("the peer closed the tunnel"));
    assertThat(failed.vpn().getState()).isIn("FAILED", "CONNECTING");
    awaitSeen(stoppedAt, WAIT, v -> "CONNECTING".equals(v.getState()) && v.getRetries() > 0);
    // it comes back: the device re-establishes the tunnel by itself
    startGatewayCharon(PSK);
    await().atMost(Duration.ofSeconds(60)).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    try (ViciClient vici = gateway.connect(WAIT)) {
      assertThat(vici.listSas("site")).anyMatch(sa -> sa.established() && sa.remoteHost().equals("192.0.2.10"));
    }
  }

  @Test
  void aKilledPeerIsFoundDeadByDpdInTimeThenRetriedUntilItComesBack() throws Exception {
    nis.publish(NI1, vpnNi(PSK));
    startNode();
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    // SIGKILL: no DELETE reaches the device; only DPD can tell (2 s of silence, then 4 s without an answer)
    long pid = gateway.pid().orElseThrow();
    long killedAt = System.nanoTime();
    gw.execOk("kill", "-KILL", Long.toString(pid));
    // as above: FAILED may be replaced by charon's retry before the bus delivers it
    Seen dead = awaitSeen(killedAt, WAIT, v -> v.getReason().startsWith("peer dead (DPD)")
        || v.getReason().startsWith("retrying after peer dead (DPD)"));
    long deadAfterMs = (dead.nanos() - killedAt) / 1_000_000;
    assertThat(dead.vpn().getState()).isIn("FAILED", "CONNECTING");
    // not before the 4 s timeout ran out, and before the delay and timeout and a DPD period of slack
    assertThat(deadAfterMs).isBetween(3_500L, 9_000L);
    // charon tries again by itself: status says so, and counts
    Seen retrying = awaitSeen(dead.nanos(), WAIT, v -> "CONNECTING".equals(v.getState()) && v.getRetries() >= 2);
    assertThat(retrying.vpn().getReason()).startsWith("retrying after peer dead (DPD)");
    assertThat(ni().getVpnState()).isEqualTo("CONNECTING");
    // the peer is back: the next attempt gets through, no one intervenes
    gateway.stop(); // its dead run
    startGatewayCharon(PSK);
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    assertThat(ni().getVpn().getRetries()).isZero();
    assertThat(lease().router()).isEqualTo("10.1.0.1");
    assertThat(app.exec("ping", "-c", "1", "-W", "2", "10.2.0.5").exitCode()).isZero();
  }

  @Test
  void certificatesOfTheTunnelsCaBringItUpAndAGatewayCertificateOfAnotherCaIsRefused() throws Exception {
    Duration day = Duration.ofDays(1);
    Certificates.Identity ca = Certificates.selfSigned("Verge VPN test CA", true, day, Certificates.newRsaKeyPair(2048));
    Certificates.Identity device = Certificates.issue(ca, "dev.example", List.of("dev.example"), day,
        Certificates.newRsaKeyPair(2048));
    Certificates.Identity gatewayId = Certificates.issue(ca, "gw.example", List.of("gw.example"), day,
        Certificates.newRsaKeyPair(2048));
    gateway.stop(); // the PSK one
    startGatewayCharon(gatewayId, ca);
    nis.publish(NI1, certificateNi(device, ca));
    startNode();
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    assertThat(ni().getErrorsList()).isEmpty();
    assertThat(lease().router()).isEqualTo("10.1.0.1");
    assertThat(app.exec("ping", "-c", "1", "-W", "2", "10.2.0.5").exitCode()).isZero();

    // a gateway whose certificate another CA issued (same name): the device refuses it, saying why
    Certificates.Identity otherCa = Certificates.selfSigned("Another CA", true, day, Certificates.newRsaKeyPair(2048));
    Certificates.Identity impostor = Certificates.issue(otherCa, "gw.example", List.of("gw.example"), day,
        Certificates.newRsaKeyPair(2048));
    long replacedAt = System.nanoTime();
    gateway.stop();
    startGatewayCharon(impostor, ca);
    Seen refused = awaitSeen(replacedAt, WAIT, v -> "FAILED".equals(v.getState())
        && v.getReason().startsWith("the peer's authentication failed"));
    assertThat(refused.vpn().getReason()).contains("no issuer certificate found for \"CN=gw.example\"")
        .contains("issuer is \"CN=Another CA\"");
    assertThat(ni().getVpnState()).isEqualTo("FAILED"); // no retry: another attempt would meet the same certificate
    assertThat(app.exec("ping", "-c", "1", "-W", "1", "10.2.0.5").exitCode()).isNotZero();
  }

  /**
   * Two uplinks to the gateway (eth0 and, costlier, eth1), whose address 203.0.113.2 is reachable
   * over either; eth0 goes down, the NI's probes fail it over to eth1, and the tunnel is loaded
   * afresh from eth1's address.
   */
  @Test
  void afterAFailoverTheTunnelComesUpFromTheOtherUplinksAddressAndCarriesTrafficAgain() throws Exception {
    topology.veth(dev, "eth1", gw, "eth1");
    dev.address("eth1", "198.51.100.10/24");
    gw.address("eth1", "198.51.100.1/24");
    gw.execOk("ip", "address", "add", "203.0.113.2/32", "dev", "lo");
    // as nim would have it: the peer over each uplink, the cheaper one first
    dev.execOk("ip", "route", "add", "203.0.113.2/32", "via", "192.0.2.2", "dev", "eth0", "metric", "10");
    dev.execOk("ip", "route", "add", "203.0.113.2/32", "via", "198.51.100.1", "dev", "eth1", "metric", "20");
    devicePorts.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.2"),
        port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1")));
    nis.publish(NI1, withVpn(vpnNi(PSK).toBuilder().setPort(vpnNi(PSK).getPort().toBuilder().setName("uplink")).build(),
        v -> v.setPeer("203.0.113.2")));
    node = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state"), Duration.ofSeconds(1), UplinkFailoverIT.TIMERS,
        ZedrouterAgent::defaultProbe), bus, host, RuntimeSettings.DEFAULT));
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    assertThat(ni().getSelectedPort()).isEqualTo("eth0");
    assertThat(ni().getVpn().getLocalAddress()).isEqualTo("192.0.2.10");
    assertThat(lease().router()).isEqualTo("10.1.0.1");
    assertThat(app.exec("ping", "-c", "1", "-W", "2", "10.2.0.5").exitCode()).isZero();

    long downAt = System.nanoTime();
    dev.execOk("ip", "link", "set", "eth0", "down");
    await().atMost(WAIT).until(() -> ni().getSelectedPort().equals("eth1"));
    Seen up = awaitSeen(downAt, WAIT, v -> "ESTABLISHED".equals(v.getState()) && "198.51.100.10".equals(v.getLocalAddress()));
    assertThat(up.vpn().getPeer()).isEqualTo("203.0.113.2");
    assertThat(ni().getVpnState()).isEqualTo("ESTABLISHED");
    await().atMost(WAIT).until(() -> app.exec("ping", "-c", "1", "-W", "1", "10.2.0.5").exitCode() == 0);
    try (ViciClient vici = gateway.connect(WAIT)) {
      assertThat(vici.listSas("site")).anyMatch(sa -> sa.established() && sa.remoteHost().equals("198.51.100.10"));
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

  /**
   * The kernel-xfrm backend ({@code ipsec_backend: xfrm}): ESP in the kernel, no TUN device. On a
   * kernel with ESP (the lab VM's) the tunnel comes up with its SAs in the kernel's SAD, status says
   * xfrm and the app reaches the remote LAN through them; on one without (this machine's) the tunnel
   * fails with IKE's line naming the missing kernel feature.
   */
  @Test
  void overKernelXfrmTheSasAreTheKernelsOrAKernelWithoutEspIsNamed() throws Exception {
    nis.publish(NI1, withVpn(vpnNi(PSK), v -> v.setIpsecBackend("xfrm")));
    startNode();
    if (!kernelEsp) {
      await().atMost(WAIT).until(() -> ni().getVpn().getReason()
          .contains("(the kernel has no ESP/xfrm support: use the libipsec backend)"));
      assertThat(ni().getVpn().getReason()).contains("unable to install inbound and outbound IPsec SA");
      assertThat(ni().getVpnState()).isIn("FAILED", "CONNECTING");
      assertThat(ni().getVpn().getIpsecBackend()).isEqualTo("xfrm");
      return;
    }
    await().atMost(WAIT).until(() -> "ESTABLISHED".equals(ni().getVpnState()));
    assertThat(ni().getErrorsList()).isEmpty();
    assertThat(ni().getVpn().getIpsecBackend()).isEqualTo("xfrm");
    // the SAs are the kernel's, one each way between the uplink and the peer; no TUN device
    String sad = dev.ip("xfrm", "state");
    assertThat(sad).contains("src 192.0.2.10 dst 192.0.2.2").contains("src 192.0.2.2 dst 192.0.2.10")
        .contains("proto esp");
    assertThat(dev.ip("xfrm", "policy")).contains("src 10.1.0.0/24 dst 10.2.0.0/24");
    assertThat(dev.ip("link", "show")).doesNotContain("ipsec");

    assertThat(lease().router()).isEqualTo("10.1.0.1");
    long before = espPacketsOut();
    assertThat(app.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.2.0.5").exitCode()).isZero();
    // the kernel's SA did the work: its own counter went up by the pings
    assertThat(espPacketsOut() - before).isGreaterThanOrEqualTo(3);
    await().atMost(WAIT).until(() -> ni().getVpn().getPacketsOut() >= 3 && ni().getVpn().getPacketsIn() >= 3);

    // deleting the NI takes the kernel's SAs and policies with it
    nis.unpublish(NI1);
    await().atMost(WAIT).until(() -> !status.snapshot().containsKey(NI1));
    await().atMost(WAIT).until(() -> host.daemons().status("charon-bn1").isEmpty());
    await().atMost(WAIT).until(() -> dev.ip("xfrm", "state").isBlank() && dev.ip("xfrm", "policy").isBlank());
  }

  /** Packets through the kernel's outbound ESP SA of the device (to the peer), from {@code ip -s xfrm state}. */
  private long espPacketsOut() {
    String out = dev.ip("-s", "xfrm", "state", "list", "src", "192.0.2.10", "dst", "192.0.2.2");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\(bytes\\), (\\d+)\\(packets\\)").matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return Long.parseLong(m.group(2));
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
