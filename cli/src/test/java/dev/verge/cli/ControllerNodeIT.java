package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.proto.Certificates;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.PortStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RepoPaths;
import dev.verge.netlab.Root;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Controller and node as separate processes, in separate namespaces joined by the node's
 * uplink: onboarding, a config reaching the device's bus, the device's status reaching the
 * controller, a controller restart the device rides out without re-applying, and a config from
 * a signer the device does not trust being rejected with its reason visible at the controller,
 * and a node killed with SIGKILL while the controller is down coming back on its last good config.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControllerNodeIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SERIAL = "SN-IT-0001";
  private static final String CONTROLLER_IP = "203.0.113.1";
  private static final String NI_UUID = "00000000-0000-4000-8000-000000000b01";
  /** Slack for anything that starts a JVM or crosses processes on a loaded machine. */
  private static final Duration WAIT = Duration.ofSeconds(30);
  /**
   * The node's longest back-off, set by this test: a wait for the node to reach a controller
   * that is back is derived from it (two whole back-offs on top of the slack), never equal to it.
   */
  private static final Duration NODE_RECONNECT_MAX = Duration.ofSeconds(2);
  private static final Duration RECONNECT_WAIT = WAIT.plus(NODE_RECONNECT_MAX.multipliedBy(2));

  private static NetTopology topo;
  private static Netns ctrlNs;
  private static Netns devNs;
  private static Path work;
  private static BackgroundProcess controller;
  private static BackgroundProcess node;
  private static PubSub bus;
  private static AgentLoop loop;
  private static String deviceUuid;
  private static String appliedHash;

  @BeforeAll
  static void startControllerAndNode() throws Exception {
    assumeThat(Root.isRoot()).as("namespaces need root").isTrue();
    topo = NetTopology.create("ctrlnode");
    ctrlNs = topo.namespace("ctrl");
    devNs = topo.namespace("dev");
    topo.veth(ctrlNs, "eth0", devNs, "eth0");
    ctrlNs.address("eth0", CONTROLLER_IP + "/24");
    devNs.address("eth0", "203.0.113.2/24");
    work = topo.workDir();
    Files.writeString(work.resolve("token"), "it-local-api-token-0123456789\n");

    controller = startController();
    assertThat(verge(ctrlNs, "controller", "onboard", SERIAL).exitCode()).isZero();
    node = startNode("node");
    bus = PubSub.unixSockets(PubSubConfig.defaults().withSocketDir(work.resolve("bus")));
    loop = AgentLoop.create("it");
  }

  @AfterAll
  static void stop() {
    if (loop != null) {
      loop.close();
    }
    if (bus != null) {
      bus.close();
    }
    if (topo != null) {
      topo.close();
    }
  }

  /** Starts the node on its state directory (the same one each time: a restart). */
  private static BackgroundProcess startNode(String processName) {
    BackgroundProcess started =
        devNs.spawnJava(
            processName, VergeCommand.class.getName(), "node", "run",
            // zedagent alone: the tests stand in for nim (they publish its status themselves).
            "--only", "zedagent",
            "--controller", CONTROLLER_IP + ":7443",
            "--ca-cert", work.resolve("controller/pki/ca.crt").toString(),
            "--serial", SERIAL,
            "--state-dir", work.resolve("node").toString(),
            "--bus", "uds", "--bus-dir", work.resolve("bus").toString(),
            "--local-api", "127.0.0.1:8088", "--token-file", work.resolve("token").toString(),
            "--metrics-interval", "1s",
            "--reconnect-min", "200ms", "--reconnect-max", NODE_RECONNECT_MAX.toMillis() + "ms");
    started.awaitOutput(out -> out.contains("verge node: running"), WAIT);
    return started;
  }

  private static BackgroundProcess startController() {
    BackgroundProcess process =
        ctrlNs.spawnJava(
            "controller", VergeCommand.class.getName(), "controller", "serve",
            "--data-dir", work.resolve("controller").toString(),
            "--listen", CONTROLLER_IP, "--server-name", CONTROLLER_IP);
    await().atMost(WAIT).until(() -> verge(ctrlNs, "controller", "devices").ok());
    return process;
  }

  /** Runs a short verge command in a namespace. */
  static ExecResult verge(Netns ns, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(List.of(args));
    if (args.length > 1 && args[0].equals("controller") && !args[1].equals("serve")) {
      command.addAll(List.of("--data-dir", work.resolve("controller").toString())); // the owner's admin socket
    }
    return ns.exec(Duration.ofSeconds(60), command.toArray(String[]::new));
  }

  static JsonNode vergeJson(Netns ns, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("-o", "json"));
    ExecResult result = verge(ns, all.toArray(String[]::new));
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return JSON.readTree(result.stdout());
  }

  static JsonNode deviceRecord() throws Exception {
    return vergeJson(ctrlNs, "controller", "get", "device", "-d", deviceUuid);
  }

  @Test
  @Order(1)
  void theNodeOnboardsThroughItsUplink() throws Exception {
    await().atMost(WAIT).until(() -> vergeJson(ctrlNs, "controller", "devices").toString().contains(SERIAL));
    JsonNode devices = vergeJson(ctrlNs, "controller", "devices");
    JsonNode device = devices.isArray() ? devices.get(0) : devices.path("devices").get(0);
    deviceUuid = device.path("deviceUuid").asText();
    assertThat(deviceUuid).matches("[0-9a-f-]{36}");
    assertThat(device.path("serial").asText()).isEqualTo(SERIAL);
  }

  @Test
  @Order(2)
  void anAppliedConfigIsAcknowledgedAndItsPartsAppearOnTheDeviceBus() throws Exception {
    Path config = RepoPaths.root().resolve("examples/edge-basic.yaml");
    JsonNode applied = vergeJson(ctrlNs, "controller", "apply", "-d", deviceUuid, "-f", config.toString());
    appliedHash = applied.path("configHash").asText();
    assertThat(appliedHash).hasSize(64);

    await().atMost(WAIT).until(() -> deviceRecord().path("appliedHash").asText().equals(appliedHash));

    List<String> seen = new CopyOnWriteArrayList<>(); // written on the loop, read here
    Subscription<NetworkInstanceConfig> nis =
        bus.subscribe(ZedagentTopics.NETWORK_INSTANCES, loop, new SubscriptionHandler<>() {
          @Override
          public void onCreate(String key, NetworkInstanceConfig value) {
            seen.add(key + "=" + value.getDisplayName());
          }
        });
    await().atMost(WAIT).until(nis::isSynchronized);
    assertThat(seen).containsExactly(NI_UUID + "=local-1");
    nis.close();
  }

  @Test
  @Order(3)
  void statusTheAgentsPublishIsReportedToTheController() throws Exception {
    try (Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      status.publish(
          "global",
          DeviceNetworkStatus.newBuilder()
              .setDpcKey("zedagent")
              .setCurrentUplink("eth0")
              .addPorts(PortStatus.newBuilder().setIfName("eth0").setLabel("eth0").setIsMgmt(true).setUp(true)
                  .addIpAddrs("203.0.113.2/24"))
              .build());
      await().atMost(WAIT).until(() -> vergeJson(ctrlNs, "controller", "get", "info", "-d", deviceUuid)
          .toString().contains("203.0.113.2/24"));
      await().atMost(WAIT).until(() -> deviceRecord().path("uplink").asText().equals("eth0"));
    }
  }

  @Test
  @Order(4)
  void aControllerRestartIsRiddenOutWithoutReapplying() throws Exception {
    JsonNode before = nodeStatus();
    controller.close();
    await().atMost(WAIT).until(() -> !nodeStatus().path("connected").asBoolean());
    controller = startController();

    await().atMost(RECONNECT_WAIT).until(() -> nodeStatus().path("connected").asBoolean());
    await().atMost(WAIT).until(() -> deviceRecord().path("connected").asBoolean());
    JsonNode after = nodeStatus();
    assertThat(after.path("appliedHash").asText()).isEqualTo(appliedHash);
    assertThat(after.path("reconnects").asInt()).isGreaterThan(before.path("reconnects").asInt());
    assertThat(node.output().split("applied config " + appliedHash, -1))
        .as("the config was applied once, not again after the reconnect")
        .hasSize(2);
  }

  @Test
  @Order(5)
  void aConfigFromASignerTheDeviceDoesNotTrustIsRejectedAndTheReasonReachesTheController() throws Exception {
    controller.close();
    // A signing key the controller CA never issued: what a compromised or misconfigured
    // controller would sign with. TLS still works (the server certificate is genuine).
    Certificates.Identity rogueCa = Certificates.selfSigned("rogue CA", true, Duration.ofDays(1));
    Certificates.Identity rogueSigner = Certificates.issue(rogueCa, "rogue signing", List.of(), Duration.ofDays(1));
    Path pki = work.resolve("controller/pki");
    Files.writeString(pki.resolve("signing.crt"), Certificates.toPem(rogueSigner.certificate()), StandardCharsets.US_ASCII);
    Files.writeString(pki.resolve("signing.key"), Certificates.toPem(rogueSigner.keys().getPrivate()), StandardCharsets.US_ASCII);
    controller = startController();

    String changed = Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml")).replace("local-1", "local-renamed");
    Path config = work.resolve("changed.yaml");
    Files.writeString(config, changed);
    String rejectedHash = vergeJson(ctrlNs, "controller", "apply", "-d", deviceUuid, "-f", config.toString())
        .path("configHash").asText();

    await().atMost(WAIT).until(() -> deviceRecord().path("rejectedHash").asText().equals(rejectedHash));
    JsonNode record = deviceRecord();
    assertThat(record.path("rejectionErrors").toString())
        .contains("UNKNOWN_SIGNER")
        .contains("not issued by the controller CA");
    assertThat(record.path("appliedHash").asText()).as("the last good config stays").isEqualTo(appliedHash);
    assertThat(nodeStatus().path("appliedHash").asText()).isEqualTo(appliedHash);
  }

  @Test
  @Order(6)
  void aNodeKilledWhileTheControllerIsDownComesBackOnItsLastGoodConfig() throws Exception {
    String fingerprint = nodeStatus().path("certFingerprint").asText();
    controller.close();
    await().atMost(RECONNECT_WAIT).until(() -> !nodeStatus().path("connected").asBoolean());

    node.kill(); // SIGKILL: no shutdown hook, nothing closed or flushed on the way out
    node = startNode("node-after-kill");

    // Its status: the config it verified again from disk, not connected, the same identity.
    await().atMost(WAIT).untilAsserted(() -> {
      JsonNode status = nodeStatus();
      assertThat(status.path("appliedHash").asText()).isEqualTo(appliedHash);
      assertThat(status.path("appliedVersion").asLong()).isEqualTo(1);
      assertThat(status.path("deviceUuid").asText()).isEqualTo(deviceUuid);
      assertThat(status.path("certFingerprint").asText()).isEqualTo(fingerprint);
      assertThat(status.path("connected").asBoolean()).isFalse();
    });

    // Its bus: exactly the objects of the last good config (not the rejected rename), as a
    // subscriber that only ever saw the restarted node gets them.
    DeviceConfig applied = ConfigCodec.parseDeviceConfig(
        Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml")), ConfigCodec.Format.YAML);
    try (AgentLoop after = AgentLoop.create("after-kill")) {
      var nis = bus.subscribe(ZedagentTopics.NETWORK_INSTANCES, after, new SubscriptionHandler<NetworkInstanceConfig>() {});
      var ports = bus.subscribe(ZedagentTopics.SYSTEM_ADAPTERS, after, new SubscriptionHandler<SystemAdapter>() {});
      var networks = bus.subscribe(ZedagentTopics.NETWORKS, after, new SubscriptionHandler<NetworkConfig>() {});
      var io = bus.subscribe(ZedagentTopics.PHYSICAL_IO, after, new SubscriptionHandler<PhysicalIo>() {});
      var apps = bus.subscribe(ZedagentTopics.APPS, after, new SubscriptionHandler<AppInstanceConfig>() {});
      await().atMost(WAIT).until(() -> nis.isSynchronized() && ports.isSynchronized() && networks.isSynchronized()
          && io.isSynchronized() && apps.isSynchronized());

      assertThat(nis.snapshot()).isEqualTo(byKey(applied.getNetworkInstancesList(), ni -> ni.getId().getUuid()));
      assertThat(nis.snapshot().get(NI_UUID).getDisplayName()).isEqualTo("local-1");
      assertThat(ports.snapshot()).isEqualTo(byKey(applied.getSystemAdaptersList(), SystemAdapter::getName));
      assertThat(networks.snapshot()).isEqualTo(byKey(applied.getNetworksList(), n -> n.getId().getUuid()));
      assertThat(io.snapshot()).isEqualTo(byKey(applied.getDeviceIoList(), PhysicalIo::getLogicalLabel));
      assertThat(apps.snapshot()).isEqualTo(byKey(applied.getAppsList(), app -> app.getId().getUuid()));
      List.of(nis, ports, networks, io, apps).forEach(Subscription::close);
    }
  }

  private static <T> Map<String, T> byKey(List<T> objects, Function<T, String> key) {
    return objects.stream().collect(Collectors.toMap(key, Function.identity()));
  }

  private static JsonNode nodeStatus() throws Exception {
    return vergeJson(devNs, "node", "status", "--token-file", work.resolve("token").toString());
  }
}
