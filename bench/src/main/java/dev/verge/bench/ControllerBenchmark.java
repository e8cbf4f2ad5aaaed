package dev.verge.bench;

import dev.verge.proto.Certificates;
import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ConfigAck;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Controller benchmarks, over real mutual-TLS loopback connections:
 *
 * <ul>
 *   <li>{@code controller.push_ack.reference_client.latency}: median time from ApplyConfig (one NI changed) to the
 *       device's acknowledgement of the verified config (device = {@link DeviceClient}, which
 *       checks hash, signature and content; applying is a no-op here, the bus comes with zedagent).
 *   <li>{@code controller.fleet1000.*}: 1,000 devices, each with its own certificate and TLS
 *       connection and an open config stream, uploading info and metrics every interval, to a
 *       controller running in a child JVM: heap after GC and CPU (cores used over the steady
 *       window) are the controller's alone; fresh_ratio = devices whose info arrived within two
 *       intervals.
 * </ul>
 */
public final class ControllerBenchmark {
  private static final int PUSH_WARMUP = 30;
  private static final int PUSH_SAMPLES = 100;
  private static final int FLEET_SIZE = 1000;
  private static final Duration INTERVAL = Duration.ofSeconds(2);
  private static final Duration STEADY = Duration.ofSeconds(20);
  private static final String CHILD_MODE = "--fleet-controller";

  private ControllerBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals(CHILD_MODE)) {
      FleetController.serve(Path.of(args[1]));
      return;
    }
    Path dir = Files.createTempDirectory("verge-controller-bench");
    try {
      pushAckLatency(dir.resolve("push"));
      fleet(dir.resolve("fleet"));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static List<ErrorInfo> applyNothing(Object config, Object signed) {
    return List.of();
  }

  private static void pushAckLatency(Path dataDir) throws Exception {
    try (ControllerServer server = ControllerServer.start(ControllerSettings.ephemeral(dataDir).withPorts("127.0.0.1", 0, 0, -1))) {
      ManagedChannel adminChannel = adminChannel(server);
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(adminChannel);
      admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("BENCH-1").build());
      Certificates.Identity identity = Certificates.selfSigned("BENCH-1", false, Duration.ofDays(1));
      try (DeviceClient device = new DeviceClient(DeviceClient.tlsChannel("localhost", server.devicePort(), identity,
          server.controller().caIdentity().certificate()))) {
        device.trustControllerSigner(server.controller().caIdentity().certificate());
        String uuid = device.onboard("BENCH-1").getDeviceUuid();
        BlockingQueue<ConfigAck> acks = new ArrayBlockingQueue<>(16);
        device.connect("", ControllerBenchmark::applyNothing, new DeviceClient.StreamListener() {
          @Override
          public void onAcknowledged(ConfigAck ack) {
            acks.add(ack);
          }
        });
        String base = ConfigExamples.deviceConfigYaml();
        long[] samples = new long[PUSH_SAMPLES];
        for (int i = 0; i < PUSH_WARMUP + PUSH_SAMPLES; i++) {
          // One NI changes: the local NI's DHCP range end moves each round.
          String yaml = base.replace("end: 10.1.0.100", "end: 10.1.0." + (101 + i % 150));
          long start = System.nanoTime();
          var applied = admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(uuid).setYaml(yaml).build());
          ConfigAck ack = acks.poll(10, TimeUnit.SECONDS);
          long elapsed = System.nanoTime() - start;
          if (ack == null || !ack.getAccepted() || !ack.getConfigHash().equals(applied.getConfigHash())) {
            throw new IllegalStateException("push " + i + " was not acknowledged: " + ack);
          }
          if (i >= PUSH_WARMUP) {
            samples[i - PUSH_WARMUP] = elapsed;
          }
        }
        Arrays.sort(samples);
        bench("controller.push_ack.reference_client.latency", samples[samples.length / 2] / 1e6, "ms");
        System.out.printf(Locale.ROOT, "# push_ack (reference client, no bus) p99 %.3f ms over %d pushes%n", samples[samples.length * 99 / 100] / 1e6, PUSH_SAMPLES);
      } finally {
        adminChannel.shutdownNow();
      }
    }
  }

  private static void fleet(Path dataDir) throws Exception {
    try (FleetController controller = FleetController.start(dataDir)) {
      ManagedChannel adminChannel = Grpc.newChannelBuilderForAddress("127.0.0.1", controller.adminPort, InsecureChannelCredentials.create()).build();
      AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(adminChannel);
      OnboardingRequest.Builder serials = OnboardingRequest.newBuilder();
      for (int i = 0; i < FLEET_SIZE; i++) {
        serials.addSerials(serial(i));
      }
      admin.addOnboarding(serials.build());
      X509Certificate ca = Certificates.readCertificate(dataDir.resolve("pki").resolve("ca.crt"));

      ExecutorService setup = Executors.newFixedThreadPool(4);
      List<SimulatedDevice> devices = new ArrayList<>();
      List<Future<SimulatedDevice>> pending = new ArrayList<>();
      for (int i = 0; i < FLEET_SIZE; i++) {
        int index = i;
        pending.add(setup.submit(() -> SimulatedDevice.start(controller.devicePort, ca, index)));
      }
      for (var future : pending) {
        devices.add(future.get(60, TimeUnit.SECONDS));
      }
      setup.shutdown();

      ScheduledExecutorService ticker = Executors.newScheduledThreadPool(8);
      AtomicLong failures = new AtomicLong();
      for (SimulatedDevice device : devices) {
        long phase = ThreadLocalRandom.current().nextLong(INTERVAL.toMillis());
        ticker.scheduleAtFixedRate(() -> {
          try {
            device.report();
          } catch (RuntimeException e) {
            failures.incrementAndGet();
          }
        }, phase, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      }
      Thread.sleep(INTERVAL.toMillis()); // every device has reported once: steady state
      long[] before = controller.measure();
      long wallStart = System.nanoTime();
      Thread.sleep(STEADY.toMillis());
      long now = System.currentTimeMillis();
      List<DeviceRecord> records = admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();
      long[] after = controller.measure();
      long wall = System.nanoTime() - wallStart;
      long fresh = records.stream().filter(r -> r.getLastInfoAtMs() >= now - 2 * INTERVAL.toMillis()).count();
      long connected = records.stream().filter(DeviceRecord::getConnected).count();

      bench("controller.fleet1000.heap", after[0] / (1024.0 * 1024.0), "MB");
      bench("controller.fleet1000.fresh_ratio", fresh / (double) FLEET_SIZE, "ratio");
      bench("controller.fleet1000.cpu", (after[1] - before[1]) / (double) wall, "cores");
      System.out.printf(Locale.ROOT, "# fleet: controller in its own JVM; %d devices connected, %d upload failures, "
          + "info+metrics every %d ms; heap is after GC%n", connected, failures.get(), INTERVAL.toMillis());

      ticker.shutdownNow();
      ticker.awaitTermination(10, TimeUnit.SECONDS);
      devices.parallelStream().forEach(SimulatedDevice::close);
      adminChannel.shutdownNow();
    }
  }

  /**
   * The fleet's controller, in a child JVM so its heap and CPU are measured alone. It prints its
   * ports, then answers each "measure" line on stdin with its heap after GC and its CPU time.
   */
  private static final class FleetController implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    final int devicePort;
    final int adminPort;

    private FleetController(Process process) throws IOException {
      this.process = process;
      this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      String[] ports = expect("ports");
      this.devicePort = Integer.parseInt(ports[1]);
      this.adminPort = Integer.parseInt(ports[2]);
    }

    static FleetController start(Path dataDir) throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          ControllerBenchmark.class.getName(), CHILD_MODE, dataDir.toString())
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      return new FleetController(process);
    }

    /** {heap bytes after GC, process CPU nanoseconds}. */
    long[] measure() throws IOException {
      in.println("measure");
      String[] answer = expect("measured");
      return new long[] {Long.parseLong(answer[1]), Long.parseLong(answer[2])};
    }

    private String[] expect(String word) throws IOException {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.startsWith(word + " ")) {
          return line.split(" ");
        }
      }
      throw new IOException("the fleet controller exited before answering '" + word + "'");
    }

    static void serve(Path dataDir) throws Exception {
      try (ControllerServer server = ControllerServer.start(ControllerSettings.ephemeral(dataDir).withPorts("127.0.0.1", 0, 0, -1));
          BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        System.out.println("ports " + server.devicePort() + " " + server.adminPort());
        System.out.flush();
        for (String line; (line = commands.readLine()) != null && !line.equals("stop"); ) {
          System.gc();
          Thread.sleep(200);
          System.gc();
          long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
          System.out.println("measured " + heap + " " + processCpuNanos());
          System.out.flush();
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      in.println("stop");
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private static String serial(int index) {
    return String.format(Locale.ROOT, "FLEET-%04d", index);
  }

  private static ManagedChannel adminChannel(ControllerServer server) {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", server.adminPort(), InsecureChannelCredentials.create()).build();
  }

  private static long processCpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }

  private static void bench(String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "BENCH %s %.3f %s%n", name, value, unit);
    System.out.flush();
  }

  /** One fleet member: its own certificate, TLS connection and config stream; info and metrics each tick. */
  private static final class SimulatedDevice implements AutoCloseable {
    private final DeviceClient client;
    private final String uuid;
    private long counter;

    private SimulatedDevice(DeviceClient client, String uuid) {
      this.client = client;
      this.uuid = uuid;
    }

    static SimulatedDevice start(int devicePort, X509Certificate ca, int index) {
      Certificates.Identity identity = Certificates.selfSigned(serial(index), false, Duration.ofDays(1));
      DeviceClient client = new DeviceClient(DeviceClient.tlsChannel("localhost", devicePort, identity, ca));
      String uuid = client.onboard(serial(index)).getDeviceUuid();
      client.connect("", ControllerBenchmark::applyNothing, new DeviceClient.StreamListener() {});
      return new SimulatedDevice(client, uuid);
    }

    synchronized void report() {
      counter++;
      long now = System.currentTimeMillis();
      client.uploadInfo(List.of(
          InfoMessage.newBuilder().setAtTimeMs(now).setObjectId(uuid)
              .setDeviceNetwork(DeviceNetworkStatus.newBuilder().setCurrentUplink(counter % 50 == 0 ? "eth1" : "eth0")).build(),
          InfoMessage.newBuilder().setAtTimeMs(now).setObjectId("ni-" + uuid)
              .setNetworkInstance(NetworkInstanceStatus.newBuilder().setState(NetworkInstanceStatus.State.STATE_ONLINE)).build()));
      client.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(now)
          .addInterfaces(InterfaceMetrics.newBuilder().setIfName("eth0").setRxBytes(counter * 1500).setTxBytes(counter * 900))
          .build());
    }

    @Override
    public void close() {
      client.close();
    }
  }
}
