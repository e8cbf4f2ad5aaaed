package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RepoPaths;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The whole node as an operator runs it, driven only through the CLI: a controller and a node
 * (nim, zedrouter, domainmgr, zedagent on the real kernel) as processes in two namespaces joined
 * by the node's DHCP uplink, the example config with an app VM under QEMU. The node is killed with
 * SIGKILL at a random point while it reconciles a pushed change (alone: its dnsmasq, DHCP client
 * and QEMU live on as orphans, as after a crash), 20 times, and started again on its state
 * directory. Each time it must converge on the controller's latest config with exactly what that
 * config had before any crash: the same links, nft tables and daemons (none leaked, none doubled),
 * and the app on the address it always had (no lease given twice). Then the controller goes away
 * for a while: the node keeps everything running, and resyncs by hash without applying again. Then
 * the operator renumbers the network instance, and moves the app to another one: the guest leases
 * its new address each time. Last, the uplink is cut and restored: nim reports it down, the app
 * keeps its network, and the node comes back on the same config without applying it again.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeEndToEndIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SERIAL = "SN-CRASH-0001";
  private static final String CONTROLLER_IP = "203.0.113.1";
  private static final int CRASHES = Integer.getInteger("verge.crash.kills", 20);
  private static final Duration WAIT = Duration.ofSeconds(120);
  /** How long the controller stays away in the outage case (five checks at least). */
  private static final Duration OUTAGE = Duration.ofSeconds(12);
  /** The daemons the node's agents run, by command name; counted in the device namespace (nim's DHCP client runs as {@code busybox udhcpc}). */
  private static final Set<String> DAEMONS = Set.of("dnsmasq", "dhcpcd", "udhcpc", "busybox", "charon", "qemu-system-x86");

  private static NetTopology topo;
  private static Netns ctrlNs;
  private static Netns devNs;
  private static Path work;
  /** The node's state directory: short, for QEMU's QMP socket path under it (at most 107 bytes). */
  private static Path state;
  private static BackgroundProcess controller;
  private static BackgroundProcess node;
  private static String deviceUuid;
  /** What each config looks like on the device once converged from a clean start, by config file. */
  private static final Map<Path, Inventory> converged = new HashMap<>();
  private static Path configA;
  private static Path configB;
  /** The app's address, which every crash and restart must keep. */
  private static String appAddress;
  /** The node status calls since the last crash and their time (each one a JVM). */
  private static final java.util.concurrent.atomic.AtomicLong STATUS_CALLS = new java.util.concurrent.atomic.AtomicLong();
  private static final java.util.concurrent.atomic.AtomicLong STATUS_MS = new java.util.concurrent.atomic.AtomicLong();
  /** How long the node takes from a push to having converged on it: the window the kills fall in. */
  private static Duration reconcileWindow;

  /** What the node made in its namespace, compared as a whole: a leak or a double shows as a difference. */
  record Inventory(Set<String> links, Set<String> nftTables, Map<String, Integer> daemons) {
    static Inventory of(Netns ns) {
      Set<String> links = new TreeSet<>();
      ns.ip("-o", "link", "show").lines()
          .map(l -> l.split(":\\s+")[1].replaceAll("@.*", ""))
          .forEach(links::add);
      Set<String> tables = new TreeSet<>(ns.execOk("nft", "list", "tables").lines().filter(l -> !l.isBlank()).toList());
      Map<String, Integer> daemons = new TreeMap<>();
      ns.processes().values().stream().filter(DAEMONS::contains).forEach(c -> daemons.merge(c, 1, Integer::sum));
      return new Inventory(links, tables, daemons);
    }
  }

  @BeforeAll
  static void startControllerAndNode() throws Exception {
    assumeThat(Root.isRoot()).as("namespaces need root").isTrue();
    topo = NetTopology.create("crash");
    ctrlNs = topo.namespace("ctrl");
    devNs = topo.namespace("dev");
    topo.veth(ctrlNs, "eth0", devNs, "eth0");
    new UpstreamHost(ctrlNs, "eth0", CONTROLLER_IP + "/24").startDhcpAndDns("203.0.113.2", "203.0.113.2", Duration.ofHours(1));
    work = topo.workDir();
    // dnsmasq reads zedrouter's host and option files after dropping root
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(work.resolve("token"), "it-local-api-token-0123456789\n");
    state = Files.createTempDirectory("vgcrash");
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
    DomainmgrDemoSteps.placeGuestImage(state, line -> { });

    configA = RepoPaths.root().resolve("examples/edge-basic.yaml");
    configB = work.resolve("edge-basic-two-nis.yaml");
    Files.writeString(configB, Files.readString(configA).replace("networkInstances:", """
        networkInstances:
          - id: {uuid: "00000000-0000-4000-8000-000000000b02", version: "1"}
            displayName: local-2
            type: TYPE_LOCAL
            activate: true
            port: {name: uplink}
            ip: {subnet: 10.2.0.0/24, gateway: 10.2.0.1, dns: [10.2.0.1], dhcpRange: {start: 10.2.0.10, end: 10.2.0.100}}"""));

    controller = ctrlNs.spawn("controller", java("controller", "serve",
        "--data-dir", work.resolve("controller").toString(), "--listen", CONTROLLER_IP, "--server-name", CONTROLLER_IP).toArray(String[]::new));
    await().atMost(WAIT).until(() -> verge(ctrlNs, "controller", "devices").ok());
    assertThat(verge(ctrlNs, "controller", "onboard", SERIAL).exitCode()).isZero();
    node = startNode(0);
    await().atMost(WAIT).until(() -> vergeJson(ctrlNs, "controller", "devices").toString().contains(SERIAL));
    deviceUuid = vergeJson(ctrlNs, "controller", "devices").path("devices").get(0).path("deviceUuid").asText();
  }

  @AfterAll
  static void stop() throws Exception {
    keepLogs();
    if (topo != null) {
      topo.close(); // kills everything left in the namespaces, orphans included
    }
    if (state != null) {
      try (Stream<Path> files = Files.walk(state)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /**
   * The node's, controller's and daemons' logs and the VM consoles, copied out of the throw-away
   * directories before they go, so a failed run (often in CI) can be read afterwards.
   */
  private static void keepLogs() throws Exception {
    Path kept = Path.of("target", "NodeEndToEndIT-logs");
    for (Path dir : new Path[] {work, state}) {
      if (dir == null || !Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          String name = file.getFileName().toString();
          if (name.endsWith(".log") || name.endsWith(".console") || name.contains("console") || name.equals("leases")) {
            Path target = kept.resolve(dir == work ? "work" : "state").resolve(dir.relativize(file));
            Files.createDirectories(target.getParent());
            Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }
    System.out.println("NodeEndToEndIT: logs kept in " + kept.toAbsolutePath());
  }

  @Test
  @Order(1)
  void fromACleanStartTheNodeConvergesOnEachOfTheTwoConfigs() throws Exception {
    String hashA = apply(configA);
    awaitConverged(hashA, 1);
    converged.put(configA, Inventory.of(devNs));
    appAddress = appAddress(nodeStatus());

    String hashB = apply(configB);
    long start = System.nanoTime();
    awaitConverged(hashB, 2);
    reconcileWindow = Duration.ofNanos(System.nanoTime() - start);
    converged.put(configB, Inventory.of(devNs));

    Inventory a = converged.get(configA);
    Inventory b = converged.get(configB);
    assertThat(a.daemons()).as("config A: one DNS/DHCP server, one uplink DHCP client, one VM")
        .containsEntry("dnsmasq", 1).containsEntry("busybox", 1).containsEntry("qemu-system-x86", 1);
    assertThat(b.daemons()).as("config B has a second network instance").containsEntry("dnsmasq", 2);
    assertThat(b.links()).hasSize(a.links().size() + 1); // its bridge
    assertThat(appAddress(nodeStatus())).isEqualTo(appAddress);
  }

  @Test
  @Order(2)
  @Timeout(value = 20, unit = TimeUnit.MINUTES) // 20 restarts, each with a JVM start and a VM boot under TCG
  void killedWhileReconcilingTwentyTimesItConvergesEachTimeWithNothingLeakedOrDoubled() throws Exception {
    long seed = Long.getLong("verge.crash.seed", System.nanoTime());
    System.out.println("NodeEndToEndIT: seed " + seed + " (-Dverge.crash.seed=" + seed + " repeats the kill points),"
        + " window " + reconcileWindow.toMillis() + " ms");
    Random random = new Random(seed);
    for (int crash = 1; crash <= CRASHES; crash++) {
      Path config = crash % 2 == 1 ? configA : configB;
      STATUS_CALLS.set(0);
      STATUS_MS.set(0);
      long t0 = System.nanoTime();
      String hash = apply(config);
      long t1 = System.nanoTime();
      long delay = (long) (random.nextDouble() * reconcileWindow.toMillis());
      Thread.sleep(delay);
      long pid = node.pid();
      node.crash();
      System.out.println("NodeEndToEndIT: crash " + crash + ": pid " + pid + " killed " + delay + " ms after the push of "
          + config.getFileName() + "; left running: " + Inventory.of(devNs).daemons());
      long t2 = System.nanoTime();
      node = startNode(crash);
      long t3 = System.nanoTime();

      String context = "crash " + crash + " (seed " + seed + ", " + delay + " ms after pushing " + config.getFileName() + ")";
      JsonNode convergedStatus = awaitConverged(hash, config == configA ? 1 : 2);
      long t4 = System.nanoTime();
      // Converged on what it shows; also nothing lingers beyond it: wait out stragglers, then compare.
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
          .untilAsserted(() -> assertThat(Inventory.of(devNs)).as(context).isEqualTo(converged.get(config)));
      long t5 = System.nanoTime();
      assertThat(appAddress(convergedStatus)).as(context + ": the app keeps its address").isEqualTo(appAddress);
      assertNoLeaseGivenTwice(context);
      long t6 = System.nanoTime();
      // where a crash's time goes, for keeping the run within CI's budget
      System.out.println("NodeEndToEndIT: crash " + crash + ": converged and checked in " + ms(t6 - t0) + " ms: push "
          + ms(t1 - t0) + ", wait and kill " + ms(t2 - t1) + ", start " + ms(t3 - t2) + ", converge " + ms(t4 - t3)
          + ", inventory " + ms(t5 - t4) + ", leases " + ms(t6 - t5) + "; " + STATUS_CALLS.get() + " status calls took "
          + STATUS_MS.get() + " ms");
    }
  }

  @Test
  @Order(3)
  void withTheControllerDownTheNodeKeepsRunningItsConfigThenResyncsWithoutReapplying() throws Exception {
    String hash = apply(configA);
    awaitConverged(hash, 1);
    Inventory before = Inventory.of(devNs);
    String appliedLine = "applied config " + hash;
    long appliedBefore = node.output().lines().filter(l -> l.contains(appliedLine)).count();

    controller.close();
    await().atMost(WAIT).until(() -> !nodeStatus().path("connected").asBoolean());
    // a while without it: nothing is torn down, the app keeps its network and address
    long outageStart = System.nanoTime();
    for (int check = 0; check < 5 || System.nanoTime() - outageStart < OUTAGE.toNanos(); check++) {
      awaitConverged(hash, 1);
      assertThat(Inventory.of(devNs)).isEqualTo(before);
      Thread.sleep(500);
    }

    controller = ctrlNs.spawn("controller-again", java("controller", "serve",
        "--data-dir", work.resolve("controller").toString(), "--listen", CONTROLLER_IP, "--server-name", CONTROLLER_IP).toArray(String[]::new));
    await().atMost(WAIT).until(() -> nodeStatus().path("connected").asBoolean());
    await().atMost(WAIT).until(() -> vergeJson(ctrlNs, "controller", "get", "device", "-d", deviceUuid)
        .path("connected").asBoolean());
    assertThat(vergeJson(ctrlNs, "controller", "get", "device", "-d", deviceUuid).path("appliedHash").asText())
        .isEqualTo(hash);
    assertThat(node.output().lines().filter(l -> l.contains(appliedLine)).count())
        .as("resynced by hash: the config is not applied again").isEqualTo(appliedBefore);
    assertThat(Inventory.of(devNs)).isEqualTo(before);
    assertThat(appAddress(nodeStatus())).isEqualTo(appAddress);
  }

  @Test
  @Order(4)
  void anOperatorChangesTheNetworkInstancesSubnetAndTheAppFollows() throws Exception {
    awaitConverged(apply(configA), 1);
    Path renumbered = work.resolve("edge-basic-renumbered.yaml");
    Files.writeString(renumbered, Files.readString(configA).replace("10.1.0.", "10.5.0."));
    String hash = apply(renumbered);

    awaitConverged(hash, 1);
    JsonNode status = nodeStatus();
    assertThat(appAddress(status)).startsWith("10.5.0.");
    assertThat(niField(status, "00000000-0000-4000-8000-000000000b01", "bridgeIp")).isEqualTo("10.5.0.1");
    assertThat(devNs.ip("-4", "-o", "addr", "show")).contains("10.5.0.1/24").doesNotContain("10.1.0.1/24");
  }

  @Test
  @Order(5)
  void anOperatorMovesTheAppToAnotherNetworkInstance() throws Exception {
    awaitConverged(apply(configB), 2);
    Path moved = work.resolve("edge-basic-app-moved.yaml");
    // the app's one VIF now names local-2 (the NIs keep their ids; the app's networkId changes)
    String text = Files.readString(configB);
    int apps = text.indexOf("\napps:");
    Files.writeString(moved, text.substring(0, apps)
        + text.substring(apps).replace("networkId: \"00000000-0000-4000-8000-000000000b01\"",
            "networkId: \"00000000-0000-4000-8000-000000000b02\""));
    String hash = apply(moved);

    awaitConverged(hash, 2);
    assertThat(appAddress(nodeStatus())).startsWith("10.2.0.");
  }

  @Test
  @Order(6)
  void theUplinkCutAndRestoredTheNodeReportsItDownKeepsItsAppAndComesBackWithoutReapplying() throws Exception {
    String hash = nodeStatus().path("appliedHash").asText();
    awaitConverged(hash, 2);
    Inventory before = Inventory.of(devNs);
    String address = appAddress(nodeStatus());
    String appliedLine = "applied config " + hash;
    long appliedBefore = node.output().lines().filter(l -> l.contains(appliedLine)).count();

    ctrlNs.execOk("ip", "link", "set", "eth0", "down"); // the cable pulled at the far end: eth0 loses its carrier
    await().atMost(WAIT).ignoreExceptions().until(() -> !uplink(nodeStatus()).path("up").asBoolean());
    assertThat(appAddress(nodeStatus())).as("the app keeps its network").isEqualTo(address);

    ctrlNs.execOk("ip", "link", "set", "eth0", "up");
    await().atMost(WAIT).ignoreExceptions().until(() -> uplink(nodeStatus()).path("up").asBoolean()
        && nodeStatus().path("connected").asBoolean());
    await().atMost(WAIT).until(() -> vergeJson(ctrlNs, "controller", "get", "device", "-d", deviceUuid)
        .path("connected").asBoolean());
    awaitConverged(hash, 2);
    assertThat(node.output().lines().filter(l -> l.contains(appliedLine)).count())
        .as("the same config: not applied again").isEqualTo(appliedBefore);
    assertThat(Inventory.of(devNs)).isEqualTo(before);
    assertThat(appAddress(nodeStatus())).isEqualTo(address);
  }

  /** nim's report of the uplink port eth0. */
  private static JsonNode uplink(JsonNode status) {
    for (JsonNode port : StatusView.payload(status.path("reported").path("device_network/global")).path("ports")) {
      if (port.path("ifName").asText().equals("eth0")) {
        return port;
      }
    }
    throw new AssertionError("no port eth0 reported");
  }

  private static String niField(JsonNode status, String ni, String field) {
    return StatusView.payload(status.path("reported").path("network_instance/" + ni)).path(field).asText();
  }

  /** Every lease file of the node's DHCP servers: no address held by two clients, no client holding two. */
  private static void assertNoLeaseGivenTwice(String context) throws Exception {
    List<Path> leaseFiles;
    try (Stream<Path> files = Files.walk(state)) {
      leaseFiles = files.filter(f -> f.getFileName().toString().equals("leases")).toList();
    }
    assertThat(leaseFiles).as(context + ": the DHCP servers' lease files").isNotEmpty();
    for (Path file : leaseFiles) {
      // dnsmasq: <expiry> <mac> <ip> <hostname> <client-id>
      List<String[]> leases = Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(l -> l.split(" ")).toList();
      assertThat(leases.stream().map(l -> l[2]).distinct().count()).as(context + ": " + file).isEqualTo(leases.size());
      assertThat(leases.stream().map(l -> l[1]).distinct().count()).as(context + ": " + file).isEqualTo(leases.size());
    }
  }

  private static BackgroundProcess startNode(int run) {
    BackgroundProcess started = devNs.spawn("node-" + run, java("node", "run",
        "--controller", CONTROLLER_IP + ":7443",
        "--ca-cert", work.resolve("controller/pki/ca.crt").toString(),
        "--serial", SERIAL,
        "--state-dir", state.toString(),
        "--bus", "uds", "--bus-dir", work.resolve("bus").toString(),
        "--local-api", "127.0.0.1:8088", "--token-file", work.resolve("token").toString(),
        "--reconnect-min", "200ms", "--reconnect-max", "2s").toArray(String[]::new));
    started.awaitOutput(out -> out.contains("verge node: running"), WAIT);
    return started;
  }

  private static String apply(Path config) throws Exception {
    return vergeJson(ctrlNs, "controller", "apply", "-d", deviceUuid, "-f", config.toString()).path("configHash").asText();
  }

  /**
   * The node runs the config with this hash, reports that many network instances ONLINE, and the
   * app's domain runs with its console showing the planned address leased.
   */
  private static JsonNode awaitConverged(String hash, int networkInstances) throws Exception {
    try {
      return awaitConvergedOnce(hash, networkInstances);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      printWhyNotConverged();
      throw e;
    }
  }

  /** What the node shows when it did not converge: its domain and NI reports, the processes, the VM console, its log. */
  private static void printWhyNotConverged() {
    try {
      JsonNode status = nodeStatus();
      System.out.println("NodeEndToEndIT: not converged; applied " + status.path("appliedHash").asText());
      status.path("reported").fields().forEachRemaining(report -> {
        if (report.getKey().startsWith("domain/") || report.getKey().startsWith("network_instance/")) {
          System.out.println("  " + report.getKey() + ": " + StatusView.payload(report.getValue()));
        }
      });
      System.out.println("  processes: " + devNs.processes());
      DomainmgrDemoSteps.consoleTail(status).forEach(l -> System.out.println("  console: " + l));
    } catch (Exception | AssertionError e) {
      System.out.println("NodeEndToEndIT: no status: " + e);
    }
    List<String> log = node.output().lines().toList();
    log.subList(Math.max(0, log.size() - 60), log.size()).forEach(l -> System.out.println("  node: " + l));
  }

  /** The status that showed it converged. */
  private static JsonNode awaitConvergedOnce(String hash, int networkInstances) {
    java.util.concurrent.atomic.AtomicReference<JsonNode> seen = new java.util.concurrent.atomic.AtomicReference<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).ignoreExceptions().untilAsserted(() -> {
      JsonNode status = nodeStatus();
      seen.set(status);
      assertThat(status.path("appliedHash").asText()).isEqualTo(hash);
      List<String> states = new ArrayList<>();
      status.path("reported").fields().forEachRemaining(report -> {
        if (report.getKey().startsWith("network_instance/")) {
          states.add(StatusView.payload(report.getValue()).path("state").asText());
        }
      });
      assertThat(states).hasSize(networkInstances).containsOnly("STATE_ONLINE");
      assertThat(DomainmgrDemoSteps.runningAppWithLease(status)).isPresent();
    });
    return seen.get();
  }

  /** The app's first VIF address as domainmgr reports it. */
  private static String appAddress(JsonNode status) throws Exception {
    var reports = status.path("reported").fields();
    while (reports.hasNext()) {
      var report = reports.next();
      if (report.getKey().startsWith("domain/")) {
        return StatusView.payload(report.getValue()).path("vifs").path(0).path("ipAddress").asText();
      }
    }
    throw new AssertionError("no domain reported");
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  private static JsonNode nodeStatus() throws Exception {
    long t = System.nanoTime();
    try {
      return vergeJson(devNs, "node", "status", "--token-file", work.resolve("token").toString());
    } finally {
      STATUS_CALLS.incrementAndGet();
      STATUS_MS.addAndGet(ms(System.nanoTime() - t));
    }
  }

  private static ExecResult verge(Netns ns, String... args) {
    List<String> command = new ArrayList<>(java(args));
    if (args.length > 1 && args[0].equals("controller") && !args[1].equals("serve")) {
      command.addAll(List.of("--data-dir", work.resolve("controller").toString()));
    }
    return ns.exec(Duration.ofSeconds(60), command.toArray(String[]::new));
  }

  /**
   * The verge command's JVM with the launcher's settings (./verge: java_opts, and node_java_opts for
   * the node): C1 only and the serial collector, whose threads do not compete with the node, QEMU
   * and the CLI for the two cores.
   */
  private static List<String> java(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(Arrays.asList(args));
    return command;
  }

  private static JsonNode vergeJson(Netns ns, String... args) throws Exception {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("-o", "json"));
    ExecResult result = verge(ns, all.toArray(String[]::new));
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return JSON.readTree(result.stdout());
  }
}
