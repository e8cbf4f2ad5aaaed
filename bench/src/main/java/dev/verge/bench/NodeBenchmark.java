package dev.verge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.cli.StatusView;
import dev.verge.cli.VergeCommand;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.GuestImage;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BootSource;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.IpRange;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.KernelBoot;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.netlab.RepoPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The whole node as an operator runs it ({@code verge node run}: nim, zedrouter, domainmgr and
 * zedagent in one JVM, started by images/jvm/node-java as the launcher and the systemd unit start
 * it), on the real kernel in a namespace, fed by a controller process through its DHCP uplink. The
 * node's first run writes its class-data archive as it stops; what a device runs from then on is
 * measured:
 *
 * <ul>
 *   <li>{@code node.rss}: the node's resident set with 10 local NIs and 10 app VMs of 2 VIFs each
 *       configured and running (their QEMU, dnsmasq and DHCP client processes not counted), after
 *       the restarts below, converged and settled (the first run's is printed beside it);
 *   <li>{@code node.start_to_first_reconcile}: that node stopped and started again on its persisted
 *       config, from the process start to the first reconcile of nim, zedrouter and domainmgr having
 *       finished (median of {@link #RESTARTS}; the controller is reachable throughout).
 * </ul>
 */
public final class NodeBenchmark {
  static final int NETWORK_INSTANCES = 10;
  static final int APPS = 10;
  static final int RESTARTS = 3;
  private static final Duration WAIT = Duration.ofSeconds(180);
  private static final String SERIAL = "SN-NODEBENCH";
  private static final String CONTROLLER_IP = "203.0.113.1";
  private static final List<String> AGENTS_WITH_A_RECONCILER = List.of("nim", "zedrouter", "domainmgr");
  private static final Pattern RECONCILED = Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .* agent (\\w+): reconciled");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The node's JVM settings as the launcher, the systemd unit and the OCI image give them (a java argument file). */
  static final Path NODE_JVM_FILE = RepoPaths.root().resolve("images/jvm/node.jvm");
  /** How the launcher and the systemd unit start the node: java @node.jvm with its class-data archive. */
  static final Path NODE_JAVA = RepoPaths.root().resolve("images/jvm/node-java");
  /** The node as the launcher runs it: the product jar, not the bench's. */
  static final Path NODE_JAR = RepoPaths.root().resolve("cli/target/verge.jar");
  /**
   * Options added after the node's own ({@code VERGE_BENCH_NODE_JVM="..."} or
   * {@code -Dverge.bench.node.jvm="..."}), to measure others: a later option wins, and
   * {@code -XX:NativeMemoryTracking=summary} prints where the resident set goes.
   */
  static final List<String> EXTRA_JVM_OPTS = Arrays.stream(System.getProperty("verge.bench.node.jvm",
      System.getenv().getOrDefault("VERGE_BENCH_NODE_JVM", "")).split(" ")).filter(o -> !o.isBlank()).toList();

  /** The node's JVM options, from the one file that defines them (comments dropped, as java does). */
  static List<String> nodeJvmOptions() throws java.io.IOException {
    List<String> options = new ArrayList<>();
    for (String line : Files.readAllLines(NODE_JVM_FILE)) {
      String option = line.replaceAll("#.*", "").strip();
      if (!option.isEmpty()) {
        options.add(option);
      }
    }
    return options;
  }

  private NodeBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (!Root.isRoot()) {
      System.out.println("# node benchmarks need root (namespaces, bridges, QEMU): skipped");
      return;
    }
    GuestImage.ensureBuilt();
    if (!Files.isRegularFile(NODE_JAR) || !Files.isRegularFile(NODE_JVM_FILE)) {
      throw new IllegalStateException("the node is measured as launched: " + NODE_JAR + " and " + NODE_JVM_FILE
          + " must exist (./verge bench builds the jar)");
    }
    // short: QEMU's QMP socket lives under the state directory (a Unix socket path has 107 bytes)
    Path state = Files.createTempDirectory("vgnb");
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (NetTopology topo = NetTopology.create("nodebench")) {
      run(topo, state);
    } finally {
      try (Stream<Path> files = Files.walk(state)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private static void run(NetTopology topo, Path state) throws Exception {
    Netns ctrl = topo.namespace("ctrl");
    Netns dev = topo.namespace("dev");
    topo.veth(ctrl, "eth0", dev, "eth0");
    new UpstreamHost(ctrl, "eth0", CONTROLLER_IP + "/24").startDhcpAndDns("203.0.113.2", "203.0.113.2", Duration.ofHours(1));
    Path work = topo.workDir();
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path token = work.resolve("token");
    Files.writeString(token, "bench-local-api-token-0123456789\n");
    Path store = Files.createDirectories(state.resolve("domainmgr/images"));
    Files.createSymbolicLink(store.resolve("guest"), GuestImage.ensureBuilt().kernel().getParent().toAbsolutePath());

    ctrl.spawnJava("controller", VergeCommand.class.getName(), "controller", "serve",
        "--data-dir", work.resolve("controller").toString(), "--listen", CONTROLLER_IP, "--server-name", CONTROLLER_IP);
    await("the controller", () -> verge(ctrl, work, "controller", "devices").ok());
    expectOk(verge(ctrl, work, "controller", "onboard", SERIAL));

    BackgroundProcess node = startNode(dev, work, state, token, 0);
    await("the device to onboard", () -> verge(ctrl, work, "controller", "devices").stdout().contains(SERIAL));
    String uuid = json(verge(ctrl, work, "controller", "devices", "-o", "json")).path("devices").get(0).path("deviceUuid").asText();
    Path config = work.resolve("node-bench.json");
    Files.writeString(config, ConfigCodec.toJson(config(uuid)));
    expectOk(verge(ctrl, work, "controller", "apply", "-d", uuid, "-f", config.toString()));
    await("10 NIs ONLINE and 10 domains RUNNING", () -> converged(dev, token));
    Thread.sleep(5_000); // settle: the first metrics and status uploads, lazy class loading
    // the jar's first run on this machine: it writes the class-data archive as it stops (images/jvm/node-java)
    double firstRunRss = rssBytes(node.pid()) / (1024.0 * 1024.0);
    Map<String, Integer> threadsOfFirstRun = threads(node.pid());

    long[] samples = new long[RESTARTS];
    for (int i = 0; i < RESTARTS; i++) {
      keepLog(node);
      // a clean stop, as systemctl stop gives it (TimeoutStopSec=30s); the first one writes the class-data archive
      System.out.printf(Locale.ROOT, "# stop %d: %d ms%n", i + 1, node.stop(Duration.ofSeconds(30)).toMillis());
      LocalDateTime start = LocalDateTime.now(ZoneId.systemDefault());
      node = startNode(dev, work, state, token, i + 1);
      BackgroundProcess running = node;
      await("every agent's first reconcile", () -> firstReconciles(running.output(), start.toLocalDate()).size()
          == AGENTS_WITH_A_RECONCILER.size());
      LocalDateTime last = firstReconciles(node.output(), start.toLocalDate()).values().stream()
          .max(Comparator.naturalOrder()).orElseThrow();
      samples[i] = Duration.between(start, last).toMillis();
      System.out.printf(Locale.ROOT, "# restart %d: %d ms to %s%n", i + 1, samples[i],
          firstReconciles(node.output(), start.toLocalDate()));
      await("the node to converge again", () -> converged(dev, token));
    }

    // the node as it runs from then on: restarted on its persisted config, converged, settled
    Thread.sleep(5_000);
    long rss = rssBytes(node.pid());
    Map<String, Integer> daemons = new TreeMap<>();
    dev.processes().values().forEach(c -> daemons.merge(c, 1, Integer::sum));
    bench("node.rss", rss / (1024.0 * 1024.0), "MB");
    System.out.printf(Locale.ROOT, "# node.rss: the node (images/jvm/node-java: %s, with its class-data archive)"
        + " with %d local NIs and %d apps of 2 VIFs running, after its %d restarts on the persisted config;"
        + " not counted, processes in its namespace: %s%n",
        String.join(" ", nodeJvmOptions()) + (EXTRA_JVM_OPTS.isEmpty() ? "" : " + " + String.join(" ", EXTRA_JVM_OPTS)),
        NETWORK_INSTANCES, APPS, RESTARTS, daemons);
    System.out.printf(Locale.ROOT, "# node.rss of the jar's first run on this machine (it writes the archive as it"
        + " stops): %.1f MB%n", firstRunRss);
    System.out.println("# node threads: " + threads(node.pid()) + " (first run: " + threadsOfFirstRun.get("total") + ")");
    if (EXTRA_JVM_OPTS.stream().anyMatch(o -> o.startsWith("-XX:NativeMemoryTracking"))) {
      // where the resident set goes, when asked for: -Dverge.bench.node.jvm="... -XX:NativeMemoryTracking=summary"
      Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          Long.toString(node.pid()), "VM.native_memory", "summary").redirectErrorStream(true).start();
      new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
          .filter(l -> l.contains("committed=")).forEach(l -> System.out.println("# nmt " + l.strip()));
    }
    keepLog(node);
    node.close();
    Arrays.sort(samples);
    bench("node.start_to_first_reconcile", samples[RESTARTS / 2], "ms");
    System.out.printf(Locale.ROOT, "# node.start_to_first_reconcile: median of %d restarts on the persisted config"
        + " (process start, i.e. JVM start included)%n", RESTARTS);
  }

  /** 10 local NIs; 10 apps, app i with VIFs on NI i and NI i+1, booting the guest image. */
  static DeviceConfig config(String device) throws Exception {
    DeviceConfig.Builder config = ConfigCodec.parseDeviceConfig(
        Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml")), ConfigCodec.Format.YAML).toBuilder()
        .clearNetworkInstances().clearApps();
    config.setId(config.getId().toBuilder().setUuid(device));
    for (int i = 0; i < NETWORK_INSTANCES; i++) {
      String net = "10.10." + i;
      config.addNetworkInstances(NetworkInstanceConfig.newBuilder()
          .setId(id("00000000-0000-4000-8000-0000000b%04x", i)).setDisplayName("ni-" + i)
          .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
          .setPort(Adapter.newBuilder().setName("uplink"))
          .setIp(IpSpec.newBuilder().setSubnet(net + ".0/24").setGateway(net + ".1").addDns(net + ".1")
              .setDhcpRange(IpRange.newBuilder().setStart(net + ".10").setEnd(net + ".100"))));
    }
    for (int i = 0; i < APPS; i++) {
      AppInstanceConfig.Builder app = AppInstanceConfig.newBuilder()
          .setId(id("00000000-0000-4000-8000-0000000c%04x", i)).setDisplayName("app-" + i)
          .setActivate(true).setMemoryMb(96).setVcpus(1)
          .setBoot(BootSource.newBuilder().setKernel(KernelBoot.newBuilder()
              .setKernel("guest/vmlinuz").setInitrd("guest/initrd.img").setCmdline("console=ttyS0")));
      for (int vif = 0; vif < 2; vif++) {
        app.addInterfaces(NetworkAdapter.newBuilder().setName("eth" + vif)
            .setNetworkId(String.format(Locale.ROOT, "00000000-0000-4000-8000-0000000b%04x", (i + vif) % NETWORK_INSTANCES)));
      }
      config.addApps(app);
    }
    return config.build();
  }

  private static UuidAndVersion id(String format, int i) {
    return UuidAndVersion.newBuilder().setUuid(String.format(Locale.ROOT, format, i)).setVersion("1").build();
  }

  private static boolean converged(Netns dev, Path token) throws Exception {
    JsonNode status = json(dev.exec(Duration.ofSeconds(60), vergeCommand("node", "status", "-o", "json",
        "--token-file", token.toString()).toArray(String[]::new)));
    int online = 0;
    int running = 0;
    var reports = status.path("reported").fields();
    while (reports.hasNext()) {
      var report = reports.next();
      String payloadState = StatusView.payload(report.getValue()).path("state").asText();
      if (report.getKey().startsWith("network_instance/") && payloadState.equals("STATE_ONLINE")) {
        online++;
      }
      if (report.getKey().startsWith("domain/") && payloadState.equals("STATE_RUNNING")) {
        running++;
      }
    }
    return online == NETWORK_INSTANCES && running == APPS;
  }

  /** The time of each agent's first "reconciled" log line since the process started. */
  static Map<String, LocalDateTime> firstReconciles(String log, LocalDate day) {
    Map<String, LocalDateTime> first = new TreeMap<>();
    for (String line : log.split("\n")) {
      Matcher m = RECONCILED.matcher(line);
      if (m.find() && AGENTS_WITH_A_RECONCILER.contains(m.group(2))) {
        first.putIfAbsent(m.group(2), LocalDateTime.of(day, LocalTime.parse(m.group(1))));
      }
    }
    return first;
  }

  private static BackgroundProcess startNode(Netns dev, Path work, Path state, Path token, int run) {
    List<String> command = new ArrayList<>();
    // as the launcher runs it: glibc's malloc keeps at most 2 arenas (not 8 per core) for the node's
    // many threads; the class-data archive in a directory of the bench's own, made by the first run
    command.addAll(List.of("env", "MALLOC_ARENA_MAX=2", "VERGE_NODE_CDS_DIR=" + work.resolve("cds"),
        "JAVA=" + Path.of(System.getProperty("java.home"), "bin", "java")));
    command.add(NODE_JAVA.toString());
    command.addAll(EXTRA_JVM_OPTS);
    command.addAll(List.of("-jar", NODE_JAR.toString(), "node", "run", "--controller", CONTROLLER_IP + ":7443",
        "--ca-cert", work.resolve("controller/pki/ca.crt").toString(), "--serial", SERIAL,
        "--state-dir", state.toString(), "--local-api", "127.0.0.1:8088", "--token-file", token.toString()));
    BackgroundProcess node = dev.spawn("node-" + run, command.toArray(String[]::new));
    node.awaitOutput(out -> out.contains("verge node: running"), WAIT);
    return node;
  }

  /** Thread names with their numbering dropped (pool-3-thread-2: pool-thread), counted: who owns the stacks. */
  static Map<String, Integer> threads(long pid) throws Exception {
    Map<String, Integer> byName = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        String name = Files.readString(task.resolve("comm")).strip().replaceAll("[-#]?\\d+", "");
        byName.merge(name, 1, Integer::sum);
      }
    }
    byName.put("total", byName.values().stream().mapToInt(Integer::intValue).sum());
    return byName;
  }

  /** With VERGE_BENCH_NODE_LOG=DIR, the node's log is kept there (the topology's directory goes at the end). */
  private static void keepLog(BackgroundProcess node) throws Exception {
    String dir = System.getenv("VERGE_BENCH_NODE_LOG");
    if (dir != null) {
      Path kept = Files.createDirectories(Path.of(dir)).resolve(node.name() + ".log");
      Files.copy(node.logFile(), kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      System.out.println("# node log: " + kept);
    }
  }

  private static long rssBytes(long pid) throws Exception {
    Optional<String> line = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith("VmRSS:")).findFirst();
    return Long.parseLong(line.orElseThrow().replaceAll("\\D", "")) * 1024;
  }

  private static List<String> vergeCommand(String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        VergeCommand.class.getName()));
    command.addAll(Arrays.asList(args));
    return command;
  }

  private static ExecResult verge(Netns ns, Path work, String... args) {
    List<String> command = vergeCommand(args);
    if (args.length > 1 && args[0].equals("controller")) {
      command.addAll(List.of("--data-dir", work.resolve("controller").toString()));
    }
    return ns.exec(Duration.ofSeconds(60), command.toArray(String[]::new));
  }

  private static ExecResult expectOk(ExecResult result) {
    if (!result.ok()) {
      throw new IllegalStateException(String.join(" ", result.command()) + " failed: " + result.stdout() + result.stderr());
    }
    return result;
  }

  private static JsonNode json(ExecResult result) throws Exception {
    return JSON.readTree(expectOk(result).stdout());
  }

  private static void await(String what, Check check) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        if (check.holds()) {
          return;
        }
      } catch (Exception e) {
        // not yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static void bench(String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "BENCH %s %.1f %s%n", name, value, unit);
  }
}
