package dev.verge.cli;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.GuestImage;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AceMatch;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BootSource;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.KernelBoot;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The demo's domainmgr step: a device with one uplink to an upstream (192.0.2.1, no route back),
 * a local NI on it, and an app whose config boots the guest image of images/guest. zedrouter plans
 * the VIF, domainmgr creates its tap and runs the VM under QEMU; the guest's serial console shows
 * its DHCP lease and a ping to the upstream through NAT. Root only: the sim runs no VMs.
 */
final class DomainmgrDemoSteps {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String NI = "11111111-0000-4000-8000-0000000000d1";
  static final String APP = "aaaaaaaa-0000-4000-8000-0000000000d1";

  private final BiConsumer<String, String> heading;
  private final Consumer<String> show;

  DomainmgrDemoSteps(BiConsumer<String, String> heading, Consumer<String> show) {
    this.heading = heading;
    this.show = show;
  }

  void run(Path work) throws Exception {
    heading.accept("An app VM on a local network instance", "domainmgr boots the guest under QEMU on zedrouter's VIF");
    if (!Root.isRoot()) {
      show.accept("skipped: booting a VM needs root (taps and namespaces); the sim runs no VMs");
      return;
    }
    GuestImage image = GuestImage.ensureBuilt();
    // a short directory: QEMU's QMP socket lives under it, and a Unix socket path has 107 bytes
    Path dir = Files.createTempDirectory("vg-dm");
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try {
      runIn(dir, image);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /**
   * Puts the built guest where the applied example's relative boot paths point: the node's image
   * store ({@code <state-dir>/domainmgr/images}), as {@code guest/}, linked rather than copied.
   */
  static void placeGuestImage(Path nodeStateDir, Consumer<String> show) throws java.io.IOException {
    GuestImage image = GuestImage.ensureBuilt();
    Path store = Files.createDirectories(nodeStateDir.resolve("domainmgr").resolve("images"));
    Path guest = store.resolve("guest");
    Files.deleteIfExists(guest);
    Files.createSymbolicLink(guest, image.kernel().getParent().toAbsolutePath());
    show.accept("guest image of images/guest placed in the node's image store: " + guest + " -> " + image.kernel().getParent());
  }

  /**
   * The applied config's app as domainmgr reports it in {@code verge node status -o json}, once its
   * domain runs and its console shows each VIF holding the IP zedrouter planned; empty until then.
   */
  static java.util.Optional<java.util.List<String>> runningAppWithLease(com.fasterxml.jackson.databind.JsonNode status)
      throws java.io.IOException {
    for (var domain : StatusView.payloads(status, "domain")) {
      String console = domain.path("consoleLog").asText();
      if (!domain.path("state").asText().equals("STATE_RUNNING") || console.isEmpty() || !Files.exists(Path.of(console))) {
        return java.util.Optional.empty();
      }
      String text = new String(Files.readAllBytes(Path.of(console)), StandardCharsets.UTF_8);
      java.util.List<String> lines = new java.util.ArrayList<>();
      lines.add("domain " + domain.path("domainName").asText() + " RUNNING under " + domain.path("accel").asText()
          + ", restarts " + domain.path("restarts").asInt() + ", console " + console);
      for (var vif : domain.path("vifs")) {
        if (vif.path("ipAddress").asText().isEmpty()) {
          // a switch NI without a DHCP server on its segment: no address is planned, none to wait for
          lines.add("vif " + vif.path("name").asText() + " " + vif.path("vifName").asText()
              + " on an L2 segment without DHCP: no address");
          continue;
        }
        String lease = " mac=" + vif.path("mac").asText() + " " + vif.path("ipAddress").asText() + "/";
        java.util.Optional<String> line = text.lines().filter(l -> l.contains("VERGE-ADDR") && l.contains(lease)).findFirst();
        if (line.isEmpty()) {
          return java.util.Optional.empty();
        }
        lines.add("vif " + vif.path("name").asText() + " " + vif.path("vifName").asText() + " on its NI, guest console: "
            + line.get().strip());
      }
      return java.util.Optional.of(lines);
    }
    return java.util.Optional.empty();
  }

  /** The last lines of each reported domain's console, to show why a guest did not get as far as expected. */
  static java.util.List<String> consoleTail(com.fasterxml.jackson.databind.JsonNode status) throws java.io.IOException {
    java.util.List<String> tail = new java.util.ArrayList<>();
    for (var domain : StatusView.payloads(status, "domain")) {
      Path console = Path.of(domain.path("consoleLog").asText("/nonexistent"));
      if (Files.isRegularFile(console)) {
        java.util.List<String> lines = new String(Files.readAllBytes(console), StandardCharsets.UTF_8).lines().toList();
        tail.addAll(lines.subList(Math.max(0, lines.size() - 8), lines.size()));
      }
    }
    return tail;
  }

  private void runIn(Path dir, GuestImage image) throws Exception {
    try (NetTopology topology = NetTopology.create("demodm")) {
      Netns dev = topology.namespace("dev");
      Netns up = topology.namespace("up");
      topology.veth(dev, "eth0", up, "eth0");
      dev.address("eth0", "192.0.2.10/24");
      new UpstreamHost(up, "eth0", "192.0.2.1/24");
      try (LinuxHost host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys")));
          PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
          AgentLoop observer = AgentLoop.create("demo-observer")) {
        bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
            .setPortConfig("controller").addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0")
                .setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true).setCarrier(true).setMtu(1500)
                .addAddresses("192.0.2.10/24").addGateways("192.0.2.1").addDnsServers("192.0.2.1")).build());
        bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE).publish(NI, NetworkInstanceConfig.newBuilder()
            .setId(UuidAndVersion.newBuilder().setUuid(NI).setVersion("1")).setDisplayName("local-vm")
            .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
            .setPort(Adapter.newBuilder().setName("eth0")).setIp(IpSpec.newBuilder().setSubnet("10.1.0.0/24")).build());
        Subscription<DomainStatus> status =
            bus.subscribe(DomainmgrTopics.DOMAIN_STATUS, observer, new SubscriptionHandler<>() {});
        // zedrouter and domainmgr as a node finds them (ServiceLoader), on this demo's own state
        java.util.List<AgentProvider> providers = AgentNode.providers().stream()
            .filter(p -> p.name().equals("zedrouter") || p.name().equals("domainmgr")).toList();
        NodeSettings settings = new NodeSettings(dir.resolve("state"), "demo-vm", "", "", null, java.util.Optional.empty(),
            "", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(30));
        try (AgentNode node = AgentNode.start(providers, settings, bus, host, RuntimeSettings.DEFAULT)) {
          show.accept("zedrouter and domainmgr on a device namespace, state in " + dir);
          if (providers.size() != 2) {
            throw new IllegalStateException("zedrouter and domainmgr must both be on the classpath, found " + providers);
          }
          long start = System.nanoTime();
          bus.publish(ZedagentTopics.APPS, Durability.VOLATILE).publish(APP, AppInstanceConfig.newBuilder()
              .setId(UuidAndVersion.newBuilder().setUuid(APP).setVersion("1")).setDisplayName("guest")
              .setActivate(true).setMemoryMb(256).setVcpus(1)
              .setBoot(BootSource.newBuilder().setKernel(KernelBoot.newBuilder().setKernel(image.kernel().toString())
                  .setInitrd(image.initrd().toString()).setCmdline("console=ttyS0 quiet panic=-1 verge.check=ping:192.0.2.1")))
              .addInterfaces(NetworkAdapter.newBuilder().setName("eth0").setNetworkId(NI)
                  .addAcls(Ace.newBuilder().setId(1).setName("all").addMatches(AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0"))))
              .build());
          show.accept("app config published: kernel boot of " + image.kernel().getFileName() + ", one VIF on local-vm 10.1.0.0/24");
          String console = awaitConsole(status, "VERGE-CHECK");
          DomainStatus domain = status.snapshot().get(APP);
          show.accept("domain " + domain.getState().name().replace("STATE_", "") + " under " + domain.getAccel()
              + ", VIF " + domain.getVifs(0).getVifName() + " mac " + domain.getVifs(0).getMac()
              + " planned IP " + domain.getVifs(0).getIpAddress());
          show.accept("guest console (" + domain.getConsoleLog() + "), after " + (System.nanoTime() - start) / 1_000_000 + " ms:");
          console.lines().filter(l -> l.contains("VERGE-")).map(l -> "  " + l.strip()).forEach(show);
          if (!console.contains("VERGE-CHECK OK")) {
            throw new IllegalStateException("the guest could not ping the upstream: " + console.lines()
                .filter(l -> l.contains("VERGE-CHECK")).findFirst().orElse(""));
          }
        }
      }
    }
  }

  private static String awaitConsole(Subscription<DomainStatus> status, String marker) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      DomainStatus domain = status.snapshot().get(APP);
      if (domain != null && !domain.getConsoleLog().isEmpty()) {
        try {
          Path log = Path.of(domain.getConsoleLog());
          String text = Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
          if (text.contains(marker)) {
            return text;
          }
        } catch (java.io.IOException e) {
          // not written yet
        }
      }
      Thread.sleep(50);
    }
    DomainStatus domain = status.snapshot().get(APP);
    throw new IllegalStateException("no " + marker + " on the guest console within " + WAIT.toSeconds() + " s"
        + (domain == null ? "" : "; domain " + domain.getState() + " " + domain.getErrorsList()));
  }
}
