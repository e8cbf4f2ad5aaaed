package dev.verge.bench;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.netlab.RepoPaths;
import dev.verge.agent.AgentNode;
import dev.verge.topics.ZedagentTopics;
import dev.verge.zedagent.ZedAgent;
import dev.verge.zedagent.ZedAgentSettings;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Push to acknowledgement with the real device stack: the operator applies a config with one
 * network instance changed; the controller signs and pushes it over mutual TLS; zedagent
 * verifies and validates it, publishes the change on the device bus, persists it and
 * acknowledges. Measured until the controller has recorded the acknowledgement, and until the
 * change is visible to an agent subscribed on the bus.
 */
public final class PushToBusBenchmark {
  private static final int WARMUP = 30;
  private static final int SAMPLES = 100;

  private PushToBusBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("verge-pushbench-");
    Map<String, Long> seenOnBus = new ConcurrentHashMap<>();
    try (ControllerServer server =
            ControllerServer.start(ControllerSettings.ephemeral(dir.resolve("controller")).withPorts("127.0.0.1", 0, 0, -1));
        PubSub bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(dir.resolve("node/persist")));
        AgentLoop agentLoop = AgentLoop.create("bench-agent")) {
      ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + server.adminPort(), InsecureChannelCredentials.create()).build();
      var admin = AdminServiceGrpc.newBlockingStub(channel);
      admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("BENCH-NODE").build());
      bus.subscribe(ZedagentTopics.NETWORK_INSTANCES, agentLoop, new SubscriptionHandler<>() {
        @Override
        public void onCreate(String key, NetworkInstanceConfig value) {
          seenOnBus.put(value.getDisplayName(), System.nanoTime());
        }

        @Override
        public void onModify(String key, NetworkInstanceConfig oldValue, NetworkInstanceConfig newValue) {
          seenOnBus.put(newValue.getDisplayName(), System.nanoTime());
        }
      });
      ZedAgentSettings settings =
          ZedAgentSettings.of("BENCH-NODE", "127.0.0.1:" + server.devicePort(), dir.resolve("controller/pki/ca.crt"), dir.resolve("node"));
      try (AgentNode agent = ZedAgent.run(settings, bus)) {
        String uuid = awaitOnboarded(admin);
        DeviceConfig base = ConfigCodec.parseDeviceConfig(
            Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml")), ConfigCodec.Format.YAML);
        long[] ack = new long[SAMPLES];
        long[] onBus = new long[SAMPLES];
        for (int i = 0; i < WARMUP + SAMPLES; i++) {
          String name = "ni-" + i;
          DeviceConfig config = base.toBuilder()
              .setNetworkInstances(0, base.getNetworkInstances(0).toBuilder().setDisplayName(name)).build();
          long start = System.nanoTime();
          String hash = admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(uuid).setConfig(config).build()).getConfigHash();
          while (!admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(uuid).build()).getAppliedHash().equals(hash)) {
            Thread.onSpinWait();
          }
          long acked = System.nanoTime();
          while (!seenOnBus.containsKey(name)) {
            Thread.onSpinWait();
          }
          if (i >= WARMUP) {
            ack[i - WARMUP] = acked - start;
            onBus[i - WARMUP] = seenOnBus.get(name) - start;
          }
        }
        Arrays.sort(ack);
        Arrays.sort(onBus);
        System.out.printf(Locale.ROOT, "BENCH controller.push_ack.latency %.3f ms%n", ack[SAMPLES / 2] / 1e6);
        System.out.printf(Locale.ROOT, "BENCH controller.push_to_bus.latency %.3f ms%n", onBus[SAMPLES / 2] / 1e6);
        System.out.printf(Locale.ROOT, "# push_ack p99 %.3f ms, push_to_bus p99 %.3f ms over %d pushes (real zedagent, one NI changed)%n",
            ack[SAMPLES * 99 / 100] / 1e6, onBus[SAMPLES * 99 / 100] / 1e6, SAMPLES);
      } finally {
        channel.shutdownNow();
      }
    } finally {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static String awaitOnboarded(AdminServiceGrpc.AdminServiceBlockingStub admin) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      var devices = admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();
      if (!devices.isEmpty() && devices.get(0).getConnected()) {
        return devices.get(0).getDeviceUuid();
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("the node did not onboard within 30 s");
  }
}
