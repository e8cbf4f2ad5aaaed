package dev.verge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.proto.AtomicFiles;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.Exec;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RepoPaths;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.topics.ZedagentTopics;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code verge demo}: a controller and an edge node, each its own process, shown at work.
 *
 * <p>As root the controller lives in an "upstream" network namespace and the node in a "device"
 * namespace, joined by a veth that is the node's uplink: the node reaches its controller over
 * real (namespaced) networking. Without root both run on loopback. Everything the demo creates
 * is removed when it ends, also on Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run a controller and an edge node in throw-away namespaces and show them at work.")
final class DemoCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SERIAL = "VERGE-DEMO-0001";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Option(names = "--keep-going", description = "Leave the controller and node running until Ctrl-C.")
  boolean keepGoing;

  @Option(names = "--once", description = "Run every step once without waiting for anyone, then stop and clean up; "
      + "exit 0 only if every step did what it shows (what CI runs). The default, unless --keep-going.")
  boolean once;

  /** Where the demo's processes run: a namespace (root) or this machine's own stack. */
  private record Host(String name, Netns ns, NetTopology topo, String address) {
    BackgroundProcess spawnVerge(String processName, String... args) {
      if (ns != null) {
        return ns.spawnJava(processName, VergeCommand.class.getName(), args);
      }
      return topo.spawnHere(processName, javaCommand(args).toArray(String[]::new));
    }

    ExecResult verge(String... args) {
      List<String> command = javaCommand(args);
      if (ns != null) {
        return ns.exec(Duration.ofSeconds(60), command.toArray(String[]::new));
      }
      return Exec.run(command, Duration.ofSeconds(60));
    }

    ExecResult run(String... command) {
      return ns != null ? ns.exec(command) : Exec.run(command);
    }
  }

  private static List<String> javaCommand(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(Arrays.asList(args));
    return command;
  }

  private int step;
  /** The node's process, whose last log lines a failed step shows. */
  private BackgroundProcess node;
  private DemoFailure failed;
  private List<String> nodeLogTail = List.of();
  /** The controller's namespace, whose end of the node's eth0 the demo cuts (root only). */
  private Netns upstream;
  private NetTopology topo;
  private VpnDemoStep vpn;
  private Host ctrl;
  private Host edge;
  private Path work;
  private int adminPort;
  private int metricsPort;
  private int devicePort;
  private int localApiPort;

  @Override
  public Integer call() throws Exception {
    if (once && keepGoing) {
      System.err.println("demo: --once and --keep-going exclude each other");
      return 2;
    }
    vpn = new VpnDemoStep(this::heading, this::show);
    try (NetTopology topo = NetTopology.create("demo"); VpnDemoStep closesBeforeTheTopology = vpn) {
      work = topo.workDir();
      this.topo = topo;
      try {
        setUp(topo);
        run();
      } catch (DemoFailure e) {
        failed = e; // told after the clean-up; the node's log goes with the topology, so it is read now
        nodeLogTail = node == null ? List.of() : node.output().lines().toList();
      }
    }
    if (failed != null) {
      System.out.println();
      System.out.println("demo FAILED: " + failed.getMessage());
      System.out.println("the node's last log lines:");
      nodeLogTail.subList(Math.max(0, nodeLogTail.size() - 40), nodeLogTail.size()).forEach(l -> System.out.println("    " + l));
      return 1;
    }
    return leftBehind().isEmpty() ? 0 : 1;
  }

  /**
   * What outlived the demo's clean-up, said as it is printed: the VPN step's charons, and the
   * namespaces (a TUN device goes with its namespace once no charon holds it).
   */
  private List<String> leftBehind() {
    List<String> left = new ArrayList<>();
    vpn.charonPids().stream().filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .forEach(pid -> left.add("charon pid " + pid));
    List<String> namespaces = NetTopology.listNamespaces();
    topo.namespaceNames().stream().filter(namespaces::contains).forEach(ns -> left.add("namespace " + ns));
    if (!left.isEmpty()) {
      System.out.println("demo FAILED: outlived the demo: " + String.join(", ", left));
    } else if (!vpn.charonPids().isEmpty()) {
      System.out.println("Cleaned up: charon pids " + vpn.charonPids() + " ended, the namespaces "
          + topo.namespaceNames().stream().map(n -> n.substring(n.lastIndexOf('-') + 1)).toList()
          + " and the TUN devices in them are gone.");
    }
    return left;
  }

  private void setUp(NetTopology topo) throws IOException {
    System.out.println("Verge demo: a controller pushes signed config to an edge node that dials out to it.");
    if (Root.isRoot()) {
      Netns upstream = topo.namespace("upstream");
      Netns upstream2 = topo.namespace("upstream2");
      Netns device = topo.namespace("device");
      topo.veth(upstream, "eth0", device, "eth0");
      topo.veth(upstream2, "eth0", device, "eth1");
      // The node's uplinks are DHCP (examples/edge-site.yaml; before any config, nim's last resort
      // is DHCP too): each upstream runs a real DHCP server; the first one is the controller's own.
      new UpstreamHost(upstream, "eth0", "203.0.113.1/24")
          .startDhcpAndDns("203.0.113.2", "203.0.113.2", Duration.ofHours(1));
      new UpstreamHost(upstream2, "eth0", "100.64.0.1/24")
          .startDhcpAndDns("100.64.0.2", "100.64.0.2", Duration.ofHours(1));
      // The second upstream is another provider (carrier-grade NAT space, as an LTE backup would be):
      // it reaches the controller's network over a transit link.
      topo.veth(upstream, "eth1", upstream2, "eth1");
      upstream.address("eth1", "192.0.2.1/30").route("100.64.0.0/24", "192.0.2.2");
      // the controller's address also on loopback, so that it still answers over the transit link
      // when the demo cuts eth0 (a down link takes its addresses' local routes with it)
      upstream.ip("addr", "add", "203.0.113.1/32", "dev", "lo");
      upstream2.address("eth1", "192.0.2.2/30").defaultRoute("192.0.2.1").forwarding();
      this.upstream = upstream;
      ctrl = new Host("upstream namespace " + upstream.name(), upstream, topo, "203.0.113.1");
      edge = new Host("device namespace " + device.name(), device, topo, "203.0.113.2");
      devicePort = 7443;
      adminPort = 7444;
      metricsPort = 7445;
      localApiPort = 8088;
      System.out.println("Running as root: the controller is in " + upstream.name() + " (203.0.113.1), the node in "
          + device.name() + ", with two uplinks: eth0 to " + upstream.name() + " and eth1 to a second provider, "
          + upstream2.name() + " (100.64.0.1), which routes to the controller;");
      System.out.println("the node's nim leases each port's address by DHCP from the dnsmasq of its upstream.");
    } else {
      ctrl = new Host("this machine (loopback)", null, topo, "127.0.0.1");
      edge = ctrl;
      devicePort = freePort();
      adminPort = freePort();
      metricsPort = freePort();
      localApiPort = freePort();
      System.out.println("Not root: no network namespaces, so controller and node talk over loopback.");
      System.out.println("(Run as root to see the node reach its controller over a real uplink.)");
    }
    writeLocalApiToken(work.resolve("local-api.token"));
  }

  /** A random local API token, readable by its owner only (it grants the device's override). */
  static void writeLocalApiToken(Path file) throws IOException {
    byte[] secret = new byte[24];
    new SecureRandom().nextBytes(secret);
    String token = "demo-" + HexFormat.of().formatHex(secret) + "\n";
    AtomicFiles.writeSecret(file, token.getBytes(StandardCharsets.US_ASCII));
  }

  private void run() throws Exception {
    heading("Start the controller", "device API over mutual TLS, admin API on loopback");
    BackgroundProcess controller = startController();
    show(controller.output().lines().filter(l -> l.contains("controller serving")).findFirst().orElse(""));

    heading("Allow a device serial to onboard", "only known serials may join the fleet");
    expectOk(admin("onboard", SERIAL));
    show("verge controller onboard " + SERIAL);

    heading("Start the edge node", "it creates its own key, dials out, and onboards with its serial");
    node =
        edge.spawnVerge(
            "node", "node", "run",
            "--controller", ctrl.address() + ":" + devicePort,
            "--ca-cert", work.resolve("controller/pki/ca.crt").toString(),
            "--serial", SERIAL,
            "--state-dir", work.resolve("node").toString(),
            "--bus", "uds", "--bus-dir", work.resolve("bus").toString(),
            "--local-api", "127.0.0.1:" + localApiPort,
            "--token-file", work.resolve("local-api.token").toString(),
            "--metrics-interval", "2s",
            // The outage below is short: redial within seconds, well inside the demo's waits.
            "--reconnect-max", "5s");
    node.awaitOutput(out -> out.contains("verge node: running"), WAIT);
    await("the device to onboard", () -> devices().toString().contains(SERIAL));
    JsonNode device = devices().path("devices").get(0);
    String uuid = device.path("deviceUuid").asText();
    show("device " + uuid + " onboarded, certificate " + device.path("certFingerprint").asText().substring(0, 16) + "...");

    // as root the site of two uplinks, a local and a switch NI and an app on both; on the sim one uplink
    String example = Root.isRoot() ? "examples/edge-site.yaml" : "examples/edge-basic.yaml";
    heading("Apply a config", example + (Root.isRoot()
        ? ": two uplinks, a local and a switch network instance, an app VM with a VIF on each"
        : ": an uplink, a local network instance, an app"));
    if (Root.isRoot()) {
      // dnsmasq reads zedrouter's DHCP host and option files after dropping root: the path must be traversable
      Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      DomainmgrDemoSteps.placeGuestImage(work.resolve("node"), this::show);
    }
    Path config = RepoPaths.root().resolve(example);
    JsonNode applied = adminJson("apply", "-d", uuid, "-f", config.toString());
    String hash = applied.path("configHash").asText();
    show("stored as version " + applied.path("version").asText() + ", hash " + hash.substring(0, 16) + "..., pushed="
        + applied.path("pushed").asBoolean());
    await("the device to acknowledge it", () -> deviceRecord(uuid).path("appliedHash").asText().equals(hash));
    show("the device verified the signature and acknowledged hash " + hash.substring(0, 16) + "...");

    heading("What the node's agents now see on the bus", "the config split per object, persisted");
    showBus();

    heading("The config as the device understands it", "a dependency graph: port -> network instance -> VIF -> app");
    ExecResult graph = edge.verge("node", "graph", "--local-api", "127.0.0.1:" + localApiPort,
        "--token-file", work.resolve("local-api.token").toString());
    graph.stdout().lines().filter(l -> l.contains("->")).limit(8)
        .forEach(l -> show(l.strip().replaceAll("\\s*\\[.*", "")));
    show("(full DOT: verge node graph; SVG: verge node graph --format svg -o config.svg)");

    heading("The node's agents", "each on the agent runtime: its health, runs and failed items (verge node status)");
    await("zedagent to report itself running", () ->
        nodeStatus().path("agents").path("zedagent").path("state").asText().equals("running"));
    ExecResult status = edge.verge("node", "status", "--local-api", "127.0.0.1:" + localApiPort,
        "--token-file", work.resolve("local-api.token").toString());
    expectOk(status).stdout().lines().dropWhile(l -> !l.startsWith("AGENT")).forEach(this::show);
    show("(an agent's dependency graph: verge node graph --agent NAME [--intended])");

    if (edge.ns() != null) {
      showUplink();
    }

    heading("The network instances", "zedrouter's bridges, NAT and DHCP for the apps (verge node status)");
    ZedrouterDemoStep.show(nodeStatus(), this::show);

    heading("The app's VM", "domainmgr boots the example's guest on its VIF; the console shows its lease");
    if (Root.isRoot()) {
      List<List<String>> app = new ArrayList<>();
      try {
        await("the app's domain to run and its guest to get its lease",
            () -> DomainmgrDemoSteps.runningAppWithLease(nodeStatus()).map(app::add).isPresent());
      } catch (DemoFailure e) {
        ExecResult apps = edge.verge("node", "status", "--local-api", "127.0.0.1:" + localApiPort,
            "--token-file", work.resolve("local-api.token").toString());
        apps.stdout().lines().dropWhile(l -> !l.startsWith("APPS")).takeWhile(l -> !l.isBlank()).forEach(this::show);
        DomainmgrDemoSteps.consoleTail(nodeStatus()).forEach(l -> show("console: " + l));
        throw e;
      }
      app.get(0).forEach(this::show);
      showAclDrop();
    } else {
      show("skipped: booting a VM needs root (taps and namespaces)");
    }

    if (upstream != null) {
      cutAndRestoreTheUplink();
    }

    heading("Reject bad input at the controller", "an overlapping subnet, with the exact field path");
    Path bad = work.resolve("overlapping.yaml");
    Files.writeString(bad, Files.readString(config).replace("networkInstances:", """
        networkInstances:
          - id: {uuid: "00000000-0000-4000-8000-000000000b02", version: "1"}
            displayName: local-2
            type: TYPE_LOCAL
            activate: true
            port: {name: uplink}
            ip: {subnet: 10.1.0.128/25, gateway: 10.1.0.129}"""));
    ExecResult refused = admin("apply", "-d", uuid, "-f", bad.toString());
    show("exit " + refused.exitCode() + ": " + (refused.stdout() + refused.stderr()).strip().replace("\n", "\n    "));
    if (refused.ok()) {
      throw new DemoFailure("the controller accepted an overlapping subnet");
    }

    heading("Lose the controller", "the node keeps running on its persisted, verified config");
    controller.close();
    await("the node to notice", () -> !nodeStatus().path("connected").asBoolean());
    JsonNode alone = nodeStatus();
    show("node connected=" + alone.path("connected").asBoolean() + ", still running config " + alone.path("appliedHash").asText().substring(0, 16) + "...");

    heading("The controller comes back", "the node reconnects with its config hash; nothing is re-sent");
    controller = startController();
    await("the node to reconnect", () -> nodeStatus().path("connected").asBoolean());
    long applies = node.output().lines().filter(l -> l.contains("applied config " + hash)).count();
    show("reconnected after " + nodeStatus().path("reconnects").asInt() + " attempt(s); the config was applied " + applies + " time(s) in total");

    heading("Local override on site", "an operator with the device token changes the uplink's cost");
    Path override = work.resolve("override.json");
    Files.writeString(override, "{\"systemAdapters\":[{\"name\":\"eth0\",\"lowerLayerName\":\"eth0\",\"uplink\":true,\"cost\":10}]}");
    ExecResult set = edge.verge("node", "override", "--local-api", "127.0.0.1:" + localApiPort,
        "--token-file", work.resolve("local-api.token").toString(), "--file", override.toString());
    show("verge node override --file override.json -> " + set.stdout().strip());
    show("audit log: " + Files.readAllLines(work.resolve("node/local-api-audit.log")).stream()
        .filter(l -> l.contains("port-override")).findFirst().orElse("(none)"));

    heading("Fleet telemetry at the controller", "info reported by the device, Prometheus metrics");
    await("the device's info to reach the controller", () -> adminJson("get", "info", "-d", uuid).path("items").size() > 0);
    for (JsonNode item : adminJson("get", "info", "-d", uuid).path("items")) {
      JsonNode applyStatus = item.path("configApply");
      show("info " + item.path("objectId").asText()
          + (applyStatus.isMissingNode() ? "" : ": config " + applyStatus.path("configHash").asText().substring(0, 16) + "... accepted=" + applyStatus.path("accepted").asBoolean()));
    }
    ExecResult metrics = ctrl.run("curl", "-s", "-m", "5", "http://127.0.0.1:" + metricsPort + "/metrics");
    metrics.stdout().lines().filter(l -> l.startsWith("verge_") && !l.startsWith("#")).limit(6).forEach(this::show);

    try {
      vpn.run(topo, ctrl.ns(), edge.ns(), config, work, new VpnDemoStep.Demo() {
        @Override
        public void apply(Path file) throws Exception {
          String applied = adminJson("apply", "-d", uuid, "-f", file.toString()).path("configHash").asText();
          DemoCommand.await("the device to acknowledge " + file.getFileName(),
              () -> deviceRecord(uuid).path("appliedHash").asText().equals(applied));
        }

        @Override
        public JsonNode nodeStatus() throws Exception {
          return DemoCommand.this.nodeStatus();
        }

        @Override
        public String nodeStatusText() {
          return expectOk(edge.verge("node", "status", "--local-api", "127.0.0.1:" + localApiPort,
              "--token-file", work.resolve("local-api.token").toString())).stdout();
        }

        @Override
        public void await(String what, Callable<Boolean> check) {
          DemoCommand.await(what, check::call);
        }
      });
    } catch (IllegalStateException e) {
      throw new DemoFailure("vpn: " + e.getMessage());
    }

    try {
      new NimDemoSteps(this::heading, this::show).run(work);
    } catch (IllegalStateException e) {
      throw new DemoFailure("nim: " + e.getMessage());
    }

    try {
      new DomainmgrDemoSteps(this::heading, this::show).run(work);
    } catch (IllegalStateException e) {
      throw new DemoFailure("domainmgr: " + e.getMessage());
    }

    System.out.println();
    System.out.println("Demo complete" + (Root.isRoot() ? "" : " (on loopback and the sim host: run as root for the real kernel)")
        + ": onboarding, a signed push and its acknowledgement, validation, a controller outage and");
    System.out.println("resume, the local override, telemetry, " + (Root.isRoot() ? "a VPN tunnel to a remote site, " : "")
        + "nim's uplink failover, zedrouter's network instances and");
    System.out.println("domainmgr's app VM all ran" + (Root.isRoot() ? " on the real kernel in throw-away namespaces." : "."));
    if (keepGoing) {
      System.out.println("Still running (--keep-going); state in " + work + ". Ctrl-C to stop and clean up.");
      Thread.currentThread().join();
    }
  }

  private BackgroundProcess startController() {
    BackgroundProcess controller =
        ctrl.spawnVerge(
            "controller", "controller", "serve",
            "--data-dir", work.resolve("controller").toString(),
            "--listen", ctrl.address(), "--server-name", ctrl.address(),
            "--port", String.valueOf(devicePort), "--admin-port", String.valueOf(adminPort),
            "--metrics-port", String.valueOf(metricsPort));
    controller.awaitOutput(out -> out.contains("controller serving"), WAIT);
    return controller;
  }

  private void showBus() throws Exception {
    try (PubSub bus = PubSub.unixSockets(PubSubConfig.defaults().withSocketDir(work.resolve("bus")));
        AgentLoop loop = AgentLoop.create("demo")) {
      Subscription<SystemAdapter> ports = bus.subscribe(ZedagentTopics.SYSTEM_ADAPTERS, loop, new SubscriptionHandler<>() {});
      Subscription<NetworkInstanceConfig> nis = bus.subscribe(ZedagentTopics.NETWORK_INSTANCES, loop, new SubscriptionHandler<>() {});
      Subscription<AppInstanceConfig> apps = bus.subscribe(ZedagentTopics.APPS, loop, new SubscriptionHandler<>() {});
      await("the bus to synchronise", () -> ports.isSynchronized() && nis.isSynchronized() && apps.isSynchronized());
      ports.snapshot().forEach((k, v) -> show(ZedagentTopics.SYSTEM_ADAPTERS + " " + k + ": uplink=" + v.getUplink() + " cost=" + v.getCost()));
      nis.snapshot().forEach((k, v) -> show(ZedagentTopics.NETWORK_INSTANCES + " " + k + ": " + v.getDisplayName() + " " + v.getType() + " " + v.getIp().getSubnet()));
      apps.snapshot().forEach((k, v) -> show(ZedagentTopics.APPS + " " + k + ": " + v.getDisplayName() + ", " + v.getInterfacesCount() + " VIF(s)"));
    }
  }

  private ExecResult admin(String... args) {
    List<String> all = new ArrayList<>(List.of("controller"));
    all.addAll(Arrays.asList(args));
    all.addAll(List.of("--admin", "127.0.0.1:" + adminPort));
    return ctrl.verge(all.toArray(String[]::new));
  }

  private JsonNode adminJson(String... args) throws IOException {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(List.of("-o", "json"));
    return JSON.readTree(expectOk(admin(all.toArray(String[]::new))).stdout());
  }

  private JsonNode devices() throws IOException {
    return adminJson("devices");
  }

  private JsonNode deviceRecord(String uuid) throws IOException {
    return adminJson("get", "device", "-d", uuid);
  }

  private JsonNode nodeStatus() throws IOException {
    ExecResult result = edge.verge("node", "status", "-o", "json", "--local-api", "127.0.0.1:" + localApiPort,
        "--token-file", work.resolve("local-api.token").toString());
    return JSON.readTree(expectOk(result).stdout());
  }

  /** The app's ACL at work: its guest pings the upstream at boot, a flow no ACE allows, dropped and counted. */
  private void showAclDrop() throws IOException {
    heading("An ACL drop, counted", "the guest pings 203.0.113.1; its VIF allows only example.com and port 8080: dropped");
    List<String> drops = new ArrayList<>();
    await("the dropped ping in zedrouter's metrics", () -> {
      drops.clear();
      List<JsonNode> networkInstances = new ArrayList<>();
      nodeStatus().path("metrics").forEach(agentMetrics -> agentMetrics.path("networkInstances").forEach(networkInstances::add));
      for (JsonNode ni : networkInstances) {
        for (JsonNode vif : ni.path("interfaces")) {
          if (vif.path("aclDrops").asLong() > 0) {
            List<String> aces = new ArrayList<>();
            vif.path("aces").forEach(a -> aces.add(a.path("name").asText() + " " + a.path("packets").asLong()));
            drops.add(vif.path("ifName").asText() + ": " + vif.path("aclDrops").asLong()
                + " packet(s) dropped by the implicit drop at the end of its ACL; ACE counters: " + String.join(", ", aces));
          }
        }
      }
      // and the guest has given up (its three pings went unanswered)
      return !drops.isEmpty() && DomainmgrDemoSteps.consoleTail(nodeStatus()).stream().anyMatch(l -> l.contains("VERGE-CHECK"));
    });
    drops.forEach(this::show);
    DomainmgrDemoSteps.consoleTail(nodeStatus()).stream().filter(l -> l.contains("VERGE-CHECK"))
        .forEach(l -> show("guest console: " + l.strip()));
  }

  /**
   * Failover on the real node: the controller's end of eth0 goes down; nim moves controller
   * traffic to eth1, zedrouter moves the local NI's NAT, zedagent re-dials over eth1; then back.
   */
  private void cutAndRestoreTheUplink() throws IOException {
    heading("Cut the active uplink", "the upstream's end of eth0 goes down; the node moves to eth1 and keeps its controller");
    long cut = System.nanoTime();
    upstream.ip("link", "set", "eth0", "down");
    await("nim to move controller traffic to eth1", () -> deviceNetwork().path("currentUplink").asText().equals("eth1"));
    long nimMoved = millisSince(cut);
    await("local-1's NAT to move to eth1", () -> niUplink("local-1").equals("eth1"));
    long niMoved = millisSince(cut);
    await("the node's controller session to run over eth1",
        () -> controllerSessionsFrom().contains("100.64.0.2") && nodeStatus().path("connected").asBoolean());
    long controllerBack = millisSince(cut);
    show(String.format(java.util.Locale.ROOT, "nim: controller traffic on eth1 %d ms after the cut (EVE waits for its 300 s timer)",
        nimMoved));
    show(String.format(java.util.Locale.ROOT, "zedrouter: local-1 NATs out of eth1 %d ms after the cut", niMoved));
    show(String.format(java.util.Locale.ROOT, "zedagent: connected to the controller again over eth1 %d ms after the cut"
        + " (its TCP session from 100.64.0.2)", controllerBack));
    ZedrouterDemoStep.show(nodeStatus(), this::show);

    heading("Restore it", "after its hold-down and a successful probe, the node returns to the preferred eth0");
    long back = System.nanoTime();
    upstream.ip("link", "set", "eth0", "up");
    await("nim to return to eth0", () -> deviceNetwork().path("currentUplink").asText().equals("eth0"));
    long nimBack = millisSince(back);
    await("the node to be connected to the controller", () -> nodeStatus().path("connected").asBoolean());
    show(String.format(java.util.Locale.ROOT, "nim: back on eth0 %d ms after the link came back; the controller session"
        + " runs from %s", nimBack, String.join(", ", controllerSessionsFrom())));
    // zedrouter's anti-flap: an NI goes back to a better port only once it has answered for 120 s without a break
    show("zedrouter: local-1 stays on " + niUplink("local-1") + " until eth0 has answered its probes for 120 s"
        + " without a break (anti-flap), then returns");
  }

  /**
   * The local addresses of the node's established TCP sessions to the controller (ss in its
   * namespace); a session over a cut link may linger there until TCP gives it up.
   */
  private List<String> controllerSessionsFrom() {
    return edge.run("ss", "-Htn", "state", "established", "dst", ctrl.address() + ":" + devicePort).stdout().lines()
        .map(l -> l.trim().split("\\s+"))
        .filter(f -> f.length >= 4)
        // "[::ffff:100.64.0.2]:57846" for the JVM's dual-stack sockets
        .map(f -> f[2].substring(0, f[2].lastIndexOf(':')).replace("[", "").replace("]", "").replaceFirst("^::ffff:", ""))
        .toList();
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** The port a network instance (by display name) sends its traffic out of, as zedrouter reports it. */
  private String niUplink(String displayName) throws IOException {
    return StatusView.payloads(nodeStatus(), "network_instance").stream()
        .filter(ni -> ni.path("displayName").asText().equals(displayName))
        .map(ni -> ni.path("selectedPort").asText()).findFirst().orElse("");
  }

  /** nim's uplink as `verge node status` reports it: its lease and why it carries controller traffic. */
  private void showUplink() throws IOException {
    heading("The uplink", "nim: eth0 by DHCP, verified to reach the controller before it carries its traffic");
    await("nim to carry controller traffic on eth0", () -> deviceNetwork().path("currentUplink").asText().equals("eth0"));
    JsonNode network = deviceNetwork();
    for (JsonNode port : network.path("ports")) {
      List<String> addresses = new ArrayList<>();
      port.path("ipAddrs").forEach(a -> addresses.add(a.asText()));
      show(port.path("label").asText() + " (" + port.path("dhcpType").asText().replace("client", "DHCP") + ") "
          + (addresses.isEmpty() ? "no address" : String.join(",", addresses))
          + " via " + port.path("defaultRouters").path(0).asText("-")
          + (port.path("label").asText().equals(network.path("currentUplink").asText()) ? " <- controller traffic" : "")
          + (port.has("error") ? ": " + port.path("error").path("description").asText() : ""));
    }
    show("why: " + StatusView.payload(nodeStatus().path("reported").path("config_list/global")).path("reason").asText());
  }

  /** nim's device network status as zedagent reports it (unwrapped from its info message). */
  private JsonNode deviceNetwork() throws IOException {
    return StatusView.payload(nodeStatus().path("reported").path("device_network/global"));
  }

  private static ExecResult expectOk(ExecResult result) {
    if (!result.ok()) {
      List<String> command = result.command();
      List<String> args = command.subList(command.indexOf(VergeCommand.class.getName()) + 1, command.size());
      throw new DemoFailure("verge " + String.join(" ", args) + " failed: "
          + (result.stdout() + result.stderr()).strip());
    }
    return result;
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static void await(String what, Check check) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        if (check.holds()) {
          return;
        }
      } catch (Exception e) {
        // not there yet
      }
      if (System.nanoTime() > deadline) {
        throw new DemoFailure("timed out waiting for " + what);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DemoFailure("interrupted");
      }
    }
  }

  private void heading(String title, String why) {
    System.out.println();
    System.out.printf("%d. %s  (%s)%n", ++step, title, why);
  }

  private void show(String line) {
    System.out.println("    " + line);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** A demo step that did not do what it shows. */
  private static final class DemoFailure extends RuntimeException {
    DemoFailure(String message) {
      super(message);
    }
  }
}
