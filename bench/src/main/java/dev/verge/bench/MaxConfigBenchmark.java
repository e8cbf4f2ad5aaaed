package dev.verge.bench;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.netlab.RepoPaths;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.zedagent.ZedAgent;
import dev.verge.zedagent.ZedAgentSettings;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The largest valid config (just under the controller's 1 MiB document limit, thousands of local
 * NIs) from apply to the device's acknowledgement, with controller and node each in a JVM of its
 * own, started with the heap bound the launcher uses ({@link #JVM_OPTS}):
 *
 * <ul>
 *   <li>{@code controller.apply_max_config.latency}: median ApplyConfig (JSON text) → the controller
 *       has recorded the device's acknowledgement (validate, store, sign, push, device verifies,
 *       validates, puts every NI on its bus, persists, acknowledges);
 *   <li>{@code controller.apply_max_config.heap}: the controller's heap after GC, after the applies;
 *   <li>{@code node.apply_max_config.rss}: the node's resident set (zedagent + bus), after the applies.
 * </ul>
 */
public final class MaxConfigBenchmark {
  /**
   * The launcher's settings for the controller (`verge`, daemon_java_opts, VERGE_HEAP), used for
   * both children here: the node's own settings ((images/jvm/node.jvm)) bound the heap
   * to the same 256 MiB but start it small, so this figure is the node's worst case, pre-touched.
   */
  static final List<String> JVM_OPTS =
      List.of(
          "-XX:+UseSerialGC",
          "-Xms256m",
          "-Xmx256m",
          "-XX:+AlwaysPreTouch",
          "-XX:+UseTransparentHugePages",
          "-XX:+ExitOnOutOfMemoryError");
  private static final int DOCUMENT_LIMIT = 1 << 20;
  private static final int WARMUP = 1;
  private static final int SAMPLES = 3;
  private static final String CONTROLLER_MODE = "--max-config-controller";
  private static final String NODE_MODE = "--max-config-node";

  private MaxConfigBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals(CONTROLLER_MODE)) {
      serveController(Path.of(args[1]));
      return;
    }
    if (args.length == 4 && args[0].equals(NODE_MODE)) {
      runNode(args[1], Path.of(args[2]), Path.of(args[3]));
      return;
    }
    Path dir = Files.createTempDirectory("verge-maxconfig-bench");
    try {
      run(dir);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(Path dir) throws Exception {
    try (Child controller = Child.start(CONTROLLER_MODE, dir.resolve("controller").toString())) {
      String[] ports = controller.expect("ports");
      ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", Integer.parseInt(ports[2]),
          InsecureChannelCredentials.create()).build();
      try (Child node = Child.start(NODE_MODE, "127.0.0.1:" + ports[1], dir.resolve("controller/pki/ca.crt").toString(),
          dir.resolve("node").toString())) {
        var admin = AdminServiceGrpc.newBlockingStub(channel);
        admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("MAXCONFIG").build());
        node.expect("started");
        String uuid = awaitConnected(admin);
        long[] samples = new long[SAMPLES];
        int instances = 0;
        int bytes = 0;
        for (int i = 0; i < WARMUP + SAMPLES; i++) {
          String json = largestConfig(uuid, "round-" + i);
          instances = ConfigCodec.parseDeviceConfig(json, ConfigCodec.Format.JSON).getNetworkInstancesCount();
          bytes = json.getBytes(StandardCharsets.UTF_8).length;
          long start = System.nanoTime();
          String hash = admin.withDeadlineAfter(120, TimeUnit.SECONDS)
              .applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(uuid).setJson(json).build()).getConfigHash();
          long deadline = start + TimeUnit.SECONDS.toNanos(300);
          while (true) {
            var record = admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(uuid).build());
            if (record.getAppliedHash().equals(hash)) {
              break;
            }
            if (record.getRejectedHash().equals(hash)) {
              throw new IllegalStateException("the device rejected the config: " + record.getRejectionErrorsList());
            }
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("no acknowledgement of the max config within 300 s");
            }
            Thread.sleep(5);
          }
          if (i >= WARMUP) {
            samples[i - WARMUP] = System.nanoTime() - start;
          }
        }
        Arrays.sort(samples);
        long heap = Long.parseLong(controller.measure()[1]);
        long rss = Long.parseLong(node.measure()[1]);
        bench("controller.apply_max_config.latency", samples[SAMPLES / 2] / 1e6, "ms");
        bench("controller.apply_max_config.heap", heap / (1024.0 * 1024.0), "MB");
        bench("node.apply_max_config.rss", rss / (1024.0 * 1024.0), "MB");
        System.out.printf(Locale.ROOT, "# max config: %d NIs, %d bytes of JSON (limit %d); controller and node in JVMs of "
            + "their own with %s; heap after GC, RSS as the kernel counts it%n", instances, bytes, DOCUMENT_LIMIT, String.join(" ", JVM_OPTS));
      } finally {
        channel.shutdownNow();
      }
    }
  }

  /**
   * examples/edge-basic.yaml plus as many local NIs (a /24 each, distinct) as fit under the
   * document limit in compact JSON; {@code tag} renames the first NI so each round is new.
   */
  static String largestConfig(String device, String tag) throws Exception {
    DeviceConfig base = ConfigCodec.parseDeviceConfig(
        Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml")), ConfigCodec.Format.YAML);
    base = base.toBuilder().setNetworkInstances(0, base.getNetworkInstances(0).toBuilder().setDisplayName(tag))
        .setId(base.getId().toBuilder().setUuid(device)).build();
    int fixed = ConfigCodec.toJson(base).length();
    int each = ConfigCodec.toJson(instance(1000)).length() + 1;
    int target = DOCUMENT_LIMIT - 2048;
    int count = (target - fixed) / each;
    String json;
    while (true) {
      List<NetworkInstanceConfig> instances = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        instances.add(instance(i));
      }
      json = ConfigCodec.toJson(base.toBuilder().addAllNetworkInstances(instances).build());
      int size = json.getBytes(StandardCharsets.UTF_8).length;
      if (size <= target) {
        break;
      }
      count -= (size - target) / each + 1; // the estimate was short: drop what is over, and retry
    }
    return json;
  }

  private static NetworkInstanceConfig instance(int i) {
    String net = "10." + (16 + i / 256) + "." + (i % 256);
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(String.format(Locale.ROOT, "00000000-0000-4000-8000-%012x", 0x100000 + i)).setVersion("1"))
        .setDisplayName(String.format(Locale.ROOT, "ni-%04d", i))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL)
        .setActivate(true)
        .setPort(Adapter.newBuilder().setName("uplink"))
        .setIp(IpSpec.newBuilder().setSubnet(net + ".0/24").setGateway(net + ".1"))
        .build();
  }

  private static String awaitConnected(AdminServiceGrpc.AdminServiceBlockingStub admin) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      var devices = admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();
      if (!devices.isEmpty() && devices.get(0).getConnected()) {
        return devices.get(0).getDeviceUuid();
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("the node did not connect within 60 s");
  }

  private static void serveController(Path dataDir) throws Exception {
    try (ControllerServer server = ControllerServer.start(ControllerSettings.ephemeral(dataDir).withPorts("127.0.0.1", 0, 0, -1))) {
      System.out.println("ports " + server.devicePort() + " " + server.adminPort());
      System.out.flush();
      answerMeasures(() -> {
        System.gc();
        Thread.sleep(200);
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      });
    }
  }

  private static void runNode(String controller, Path ca, Path stateDir) throws Exception {
    try (PubSub bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(stateDir.resolve("persist")));
        var agent = ZedAgent.run(ZedAgentSettings.of("MAXCONFIG", controller, ca, stateDir), bus)) {
      System.out.println("started");
      System.out.flush();
      answerMeasures(MaxConfigBenchmark::residentBytes);
    }
  }

  /** VmRSS of this process, as the kernel counts it. */
  private static long residentBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS in /proc/self/status");
  }

  private interface Measure {
    long bytes() throws Exception;
  }

  /** Answers each "measure" line on stdin with "measured N" until "stop" or the end of input. */
  private static void answerMeasures(Measure measure) throws Exception {
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = commands.readLine()) != null && !line.equals("stop"); ) {
      System.out.println("measured " + measure.bytes());
      System.out.flush();
    }
  }

  private static void bench(String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "BENCH %s %.3f %s%n", name, value, unit);
    System.out.flush();
  }

  /** A benchmark child JVM (this class in another mode), with the launcher's heap bound. */
  private static final class Child implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    private Child(Process process) {
      this.process = process;
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    static Child start(String... args) throws IOException {
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElse("java"));
      command.addAll(JVM_OPTS);
      command.addAll(
          List.of(
              "-Dverge.repo.root=" + RepoPaths.root(),
              "-cp",
              System.getProperty("java.class.path"),
              MaxConfigBenchmark.class.getName()));
      command.addAll(List.of(args));
      return new Child(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start());
    }

    String[] measure() throws IOException {
      in.println("measure");
      return expect("measured");
    }

    String[] expect(String word) throws IOException {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.equals(word) || line.startsWith(word + " ")) {
          return line.split(" ");
        }
      }
      throw new IOException("the benchmark child exited before saying '" + word + "'");
    }

    @Override
    public void close() throws InterruptedException {
      in.println("stop");
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
