package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.proto.Certificates;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.testkit.ConnectProxy;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zedagent on the agent runtime against a real controller over TLS on loopback: no root needed.
 */
class ZedAgentTest {
  static final String SERIAL = "SN-ZEDAGENT-1";
  static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  ControllerServer controller;
  int devicePort;
  ManagedChannel adminChannel;
  AdminServiceGrpc.AdminServiceBlockingStub admin;
  PubSub bus;
  AgentNode node;
  ZedAgent agent;
  AgentLoop observer;

  @BeforeEach
  void controllerAndBus() throws Exception {
    startController(0);
    admin.addOnboarding(OnboardingRequest.newBuilder().addSerials(SERIAL).build());
    observer = AgentLoop.create("observer");
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
    if (bus != null) {
      bus.close();
    }
    observer.close();
    stopController();
  }

  private void startController(int port) throws Exception {
    controller = ControllerServer.start(
        ControllerSettings.ephemeral(dir.resolve("controller")).withPorts("127.0.0.1", port, 0, -1));
    devicePort = controller.devicePort();
    adminChannel = Grpc.newChannelBuilder("127.0.0.1:" + controller.adminPort(), InsecureChannelCredentials.create()).build();
    admin = AdminServiceGrpc.newBlockingStub(adminChannel);
  }

  private void stopController() {
    if (adminChannel != null) {
      adminChannel.shutdownNow();
    }
    if (controller != null) {
      controller.close();
      controller = null;
    }
  }

  private ZedAgentSettings settings() {
    return ZedAgentSettings.of(SERIAL, "127.0.0.1:" + devicePort, dir.resolve("controller/pki/ca.crt"), dir.resolve("node"))
        .withReconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(400));
  }

  private void startNode(ZedAgentSettings settings) throws Exception {
    startNode(settings, null);
  }

  /** With the re-dial jitter fixed at {@code jitter} (null: random). */
  private void startNode(ZedAgentSettings settings, Double jitter) throws Exception {
    bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(dir.resolve("node/persist")));
    agent = new ZedAgent(settings);
    if (jitter != null) {
      agent.jitterForTest(() -> jitter);
    }
    node = AgentNode.of(agent, bus, null, RuntimeSettings.DEFAULT);
  }

  private void stopNode() {
    node.close();
    node = null;
    bus.close();
    bus = null;
  }

  private DeviceRecord device() {
    List<DeviceRecord> devices = admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();
    assertThat(devices).hasSize(1);
    return admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(devices.get(0).getDeviceUuid()).build());
  }

  private static DeviceConfig example() throws Exception {
    return ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
  }

  private String apply(DeviceConfig config) {
    return admin.applyConfig(
        ApplyConfigRequest.newBuilder().setDeviceUuid(device().getDeviceUuid()).setConfig(config).build())
        .getConfigHash();
  }

  private <T extends com.google.protobuf.Message> Subscription<T> watch(dev.verge.pubsub.Topic<T> topic) {
    return bus.subscribe(topic, observer, new SubscriptionHandler<>() {});
  }

  @Test
  void aPushedConfigIsVerifiedSplitOntoTheBusPersistedAndAcknowledged() throws Exception {
    startNode(settings());
    await().atMost(WAIT).until(() -> !admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList().isEmpty()
        && device().getConnected());
    DeviceConfig config = example();
    String hash = apply(config);

    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(hash));
    Subscription<NetworkInstanceConfig> nis = watch(ZedagentTopics.NETWORK_INSTANCES);
    await().atMost(WAIT).until(nis::isSynchronized);
    assertThat(nis.snapshot().values()).extracting(NetworkInstanceConfig::getDisplayName)
        .containsExactlyInAnyOrderElementsOf(config.getNetworkInstancesList().stream()
            .map(NetworkInstanceConfig::getDisplayName).toList());
    assertThat(agent.status().appliedHash()).isEqualTo(hash);
    assertThat(agent.status().connected()).isTrue();

    Subscription<AgentHealth> health = watch(AgentTopics.health(ZedAgent.NAME));
    await().atMost(WAIT).until(() -> health.get(ZedAgent.NAME)
        .map(h -> h.getState() == AgentHealth.State.STATE_RUNNING).orElse(false));
  }

  @Test
  void afterARestartWithTheControllerDownTheLastGoodConfigIsBackOnTheBus() throws Exception {
    startNode(settings());
    await().atMost(WAIT).until(() -> !admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList().isEmpty()
        && device().getConnected());
    String hash = apply(example());
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(hash));
    stopNode();
    stopController();

    startNode(settings());
    Subscription<NetworkInstanceConfig> nis = watch(ZedagentTopics.NETWORK_INSTANCES);
    await().atMost(WAIT).until(nis::isSynchronized);
    assertThat(nis.snapshot()).hasSize(example().getNetworkInstancesCount());
    await().atMost(WAIT).until(() -> agent.status().appliedHash().equals(hash));
    assertThat(agent.status().connected()).isFalse();
  }

  private long stampOf(String hash) {
    var config = admin.getConfig(dev.verge.proto.controller.v1.GetConfigRequest.newBuilder()
        .setDeviceUuid(device().getDeviceUuid()).build()).getConfig();
    assertThat(config.getConfigHash()).isEqualTo(hash);
    return config.getConfig().getConfigTimestampMs();
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (var paths = Files.walk(from)) {
      for (Path path : paths.toList()) {
        Path target = to.resolve(from.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(target);
        } else if (Files.isRegularFile(path)) {
          Files.copy(path, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static void deleteTree(Path root) throws java.io.IOException {
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  /**
   * The controller stamps every config it issues, so rollback protection needs nothing from the
   * operator: a controller restored from an older backup of its data directory pushes its older,
   * validly signed config again, and the device refuses it and keeps the running one; the next
   * config that controller issues is stamped later and accepted. A lower controller epoch is refused
   * as well; a higher one starts a new order.
   */
  @Test
  void aReplayedOlderSignedConfigIsRefusedAndTheRunningOneStays() throws Exception {
    startNode(settings());
    await().atMost(WAIT).until(() -> !admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList().isEmpty()
        && device().getConnected());
    DeviceConfig base = example().toBuilder().setControllerEpoch(3).build();
    String older = apply(base);
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(older));
    long olderStamp = stampOf(older);
    int port = devicePort;
    stopController();
    Path backup = dir.resolve("controller-backup");
    copyTree(dir.resolve("controller"), backup);
    startController(port);
    String running = apply(base.toBuilder()
        .setNetworkInstances(0, base.getNetworkInstances(0).toBuilder().setDisplayName("newer")).build());
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(running));
    long runningStamp = stampOf(running);
    assertThat(runningStamp).isGreaterThan(olderStamp);

    stopController();
    deleteTree(dir.resolve("controller"));
    copyTree(backup, dir.resolve("controller")); // the operator restores the backup
    startController(port);

    await().atMost(WAIT).until(() -> device().getRejectedHash().equals(older));
    assertThat(device().getRejectionErrorsList()).singleElement().satisfies(error -> {
      assertThat(error.getReason()).isEqualTo("ROLLBACK");
      assertThat(error.getDescription()).isEqualTo("config timestamp " + olderStamp + " is older than the running config's "
          + runningStamp + " in the same controller epoch 3");
    });
    assertThat(agent.status().appliedHash()).isEqualTo(running);

    String reissued = apply(base.toBuilder()
        .setNetworkInstances(0, base.getNetworkInstances(0).toBuilder().setDisplayName("reissued")).build());
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(reissued));
    assertThat(stampOf(reissued)).isGreaterThan(runningStamp);

    String lowerEpoch = apply(base.toBuilder().setControllerEpoch(2).build());
    await().atMost(WAIT).until(() -> device().getRejectedHash().equals(lowerEpoch));
    assertThat(device().getRejectionErrorsList().get(0).getDescription())
        .isEqualTo("controller epoch 2 is older than the running config's 3");
    String newEpoch = apply(base.toBuilder().setControllerEpoch(4).build());
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(newEpoch));
    assertThat(agent.status().appliedHash()).isEqualTo(newEpoch);
  }

  @Test
  void aControllerWhoseCertificateTheInstalledCaDidNotIssueIsNamedAsSuch() throws Exception {
    Path wrongCa = dir.resolve("other-ca.crt");
    Files.writeString(wrongCa, Certificates.toPem(Certificates.selfSigned("some other CA", true, Duration.ofDays(1)).certificate()),
        StandardCharsets.US_ASCII);
    startNode(ZedAgentSettings.of(SERIAL, "127.0.0.1:" + devicePort, wrongCa, dir.resolve("node"))
        .withReconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(400)));

    await().atMost(WAIT).until(() -> !agent.status().lastError().isEmpty());
    assertThat(agent.status().lastError()).isEqualTo("the controller's certificate is not issued by the CA in " + wrongCa);
    assertThat(agent.status().connected()).isFalse();
  }

  @Test
  void aConfigSignedByAKeyTheControllerCaNeverIssuedIsRejectedAndTheLastGoodStays() throws Exception {
    startNode(settings());
    await().atMost(WAIT).until(() -> !admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList().isEmpty()
        && device().getConnected());
    String good = apply(example());
    await().atMost(WAIT).until(() -> device().getAppliedHash().equals(good));

    stopController();
    Certificates.Identity rogueCa = Certificates.selfSigned("rogue CA", true, Duration.ofDays(1));
    Certificates.Identity rogue = Certificates.issue(rogueCa, "rogue signing", List.of(), Duration.ofDays(1));
    Path pki = dir.resolve("controller/pki");
    Files.writeString(pki.resolve("signing.crt"), Certificates.toPem(rogue.certificate()), StandardCharsets.US_ASCII);
    Files.writeString(pki.resolve("signing.key"), Certificates.toPem(rogue.keys().getPrivate()), StandardCharsets.US_ASCII);
    startController(devicePort);

    DeviceConfig changed = example().toBuilder()
        .setNetworkInstances(0, example().getNetworkInstances(0).toBuilder().setDisplayName("renamed")).build();
    String bad = apply(changed);
    await().atMost(WAIT).until(() -> device().getRejectedHash().equals(bad));
    assertThat(device().getRejectionErrorsList().toString()).contains("UNKNOWN_SIGNER");
    assertThat(device().getAppliedHash()).isEqualTo(good);
    assertThat(agent.status().appliedHash()).isEqualTo(good);
    assertThat(agent.status().lastRejectedHash()).isEqualTo(bad);
  }

  @Test
  void whenNimMovesControllerTrafficToAnotherPortZedagentRedialsAtOnce() throws Exception {
    // A back-off far longer than the test: only the port change can bring the session back.
    startNode(settings().withReconnectBackoff(Duration.ofSeconds(120), Duration.ofSeconds(120)));
    Publication<DeviceNetwork> network = bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth0").build());
    await().atMost(WAIT).until(() -> agent.status().connected());

    int port = devicePort;
    stopController();
    await().atMost(WAIT).until(() -> !agent.status().connected());
    int reconnects = agent.status().reconnects();
    startController(port);

    network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth1").setControllerPortChanges(1).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> agent.status().connected());
    assertThat(agent.status().reconnects()).isGreaterThanOrEqualTo(reconnects);
  }

  @Test
  void theControllerSessionGoesThroughTheProxyOfThePortNimHasInUse() throws Exception {
    try (ConnectProxy proxy = ConnectProxy.start(java.net.InetAddress.getLoopbackAddress(), 0)) {
      startNode(settings().withReconnectBackoff(Duration.ofSeconds(120), Duration.ofSeconds(120)));
      Publication<DeviceNetwork> network = bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
      network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth0")
          .addPorts(dev.verge.topics.v1.Port.newBuilder().setLabel("eth0")).build());
      await().atMost(WAIT).until(() -> agent.status().connected());
      assertThat(proxy.requests()).as("eth0 has no proxy: direct").isEmpty();

      // nim now reports a proxy on the port in use (an exception for another host only): zedagent
      // re-dials through it at once, despite its long back-off.
      network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth0")
          .addPorts(dev.verge.topics.v1.Port.newBuilder().setLabel("eth0")
              .setProxy("http://127.0.0.1:" + proxy.port()).addProxyExceptions("other.example")).build());
      await().atMost(Duration.ofSeconds(10))
          .until(() -> agent.status().connected() && !proxy.requests().isEmpty());
      assertThat(proxy.requests()).first().isEqualTo("CONNECT 127.0.0.1:" + devicePort + " HTTP/1.1");
      String applied = apply(example());
      await().atMost(WAIT).until(() -> device().getAppliedHash().equals(applied));

      // The controller listed as an exception: direct again, the proxy sees nothing more.
      int seen = proxy.requests().size();
      network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth0")
          .addPorts(dev.verge.topics.v1.Port.newBuilder().setLabel("eth0")
              .setProxy("http://127.0.0.1:" + proxy.port()).addProxyExceptions("127.0.0.1")).build());
      DeviceConfig renamed = example().toBuilder()
          .setNetworkInstances(0, example().getNetworkInstances(0).toBuilder().setDisplayName("renamed")).build();
      String second = apply(renamed);
      await().atMost(WAIT).until(() -> device().getAppliedHash().equals(second));
      assertThat(proxy.requests()).hasSize(seen);
    }
  }

  @Test
  void aDeadProxyOnThePortInUseKeepsTheSessionDown() throws Exception {
    int dead;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    startNode(settings());
    Publication<DeviceNetwork> network = bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    network.publish("global", DeviceNetwork.newBuilder().setControllerPort("eth0")
        .addPorts(dev.verge.topics.v1.Port.newBuilder().setLabel("eth0").setProxy("http://127.0.0.1:" + dead)).build());
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> !agent.status().connected());
    assertThat(agent.status().lastError()).contains("UNAVAILABLE");
  }

  @Test
  void aBrokenSessionIsRedialledWithinTheFirstBackOffWindowFromZeroAndFailedDialsBackOffAsBefore() {
    // After a session the controller had answered broke (no failed dial yet): spread over [0, min).
    assertThat(ZedAgent.redialDelayMillis(0, 500, 30_000, 0.0)).isZero();
    assertThat(ZedAgent.redialDelayMillis(0, 500, 30_000, 0.5)).isEqualTo(250);
    assertThat(ZedAgent.redialDelayMillis(0, 500, 30_000, 0.9999)).isEqualTo(499);
    // Failed dials: min doubling to max, jittered to [0.5, 1)x.
    assertThat(ZedAgent.redialDelayMillis(1, 500, 30_000, 0.0)).isEqualTo(250);
    assertThat(ZedAgent.redialDelayMillis(1, 500, 30_000, 0.9999)).isEqualTo(499);
    assertThat(ZedAgent.redialDelayMillis(2, 500, 30_000, 0.0)).isEqualTo(500);
    assertThat(ZedAgent.redialDelayMillis(3, 500, 30_000, 0.5)).isEqualTo(1500);
    assertThat(ZedAgent.redialDelayMillis(9, 500, 30_000, 0.0)).isEqualTo(15_000);
    assertThat(ZedAgent.redialDelayMillis(40, 500, 30_000, 0.0)).isEqualTo(15_000);
  }

  @Test
  void whenAnAnsweredSessionBreaksTheFirstRedialSkipsTheBackOffButKeepsItsJitter() throws Exception {
    // Back-off 20 s, jitter fixed at a quarter: the first re-dial after the session broke goes at
    // 5 s (a quarter of [0, 20 s)); the back-off's first wait would be 12.5 s (0.625 x 20 s).
    startNode(settings().withReconnectBackoff(Duration.ofSeconds(20), Duration.ofSeconds(20)), 0.25);
    await().atMost(WAIT).until(() -> agent.status().connected());
    int reconnects = agent.status().reconnects();

    int port = devicePort;
    stopController();
    await().atMost(WAIT).until(() -> !agent.status().connected());
    long lost = System.nanoTime();
    startController(port); // back well within the 5 s

    await().atMost(Duration.ofSeconds(10)).until(() -> agent.status().connected());
    assertThat(Duration.ofNanos(System.nanoTime() - lost)).isGreaterThan(Duration.ofSeconds(4)); // the jitter was waited for
    assertThat(agent.status().reconnects()).isEqualTo(reconnects + 1); // one dial, which worked
  }
}
