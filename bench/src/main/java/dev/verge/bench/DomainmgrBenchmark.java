package dev.verge.bench;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.domainmgr.DomainPlanner;
import dev.verge.domainmgr.DomainmgrAgent;
import dev.verge.domainmgr.HostResources;
import dev.verge.domainmgr.QemuCommand;
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
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import dev.verge.zedrouter.ZedrouterAgent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * {@code domainmgr.config_to_lease.{tcg,kvm}}: an app config (kernel boot of the guest image, one
 * VIF on a local NI) published on the bus until the guest prints its first DHCP lease on its
 * serial console, through the real zedrouter and domainmgr in throw-away namespaces.
 * {@code domainmgr.hotplug_to_lease}: a second adapter added to that running app until the guest
 * prints the lease of the hot-plugged NIC. Medians of {@link #RUNS}.
 */
public final class DomainmgrBenchmark {
  static final int RUNS = 3;
  static final Duration WAIT = Duration.ofSeconds(60);
  static final String NI1 = "11111111-0000-4000-8000-000000000001";
  static final String NI2 = "11111111-0000-4000-8000-000000000002";
  /** A fresh app per run: its own domain, console file and QEMU, nothing left over from the last. */
  static String app(int run) {
    return String.format("aaaaaaaa-0000-4000-8000-0000000000%02x", run);
  }

  private DomainmgrBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (!Root.isRoot()) {
      System.out.println("# domainmgr benchmarks need root (namespaces, taps, QEMU): skipped");
      return;
    }
    GuestImage image = GuestImage.ensureBuilt();
    Path scratch = Files.createTempDirectory("verge-dmbench-");
    Files.setPosixFilePermissions(scratch, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    GuestImage hotplug = image.withNicHotplug(scratch.resolve("guest"));
    AtomicReference<QemuCommand.Accel> accel = new AtomicReference<>(QemuCommand.Accel.TCG);
    try (NetTopology topology = NetTopology.create("dmbench")) {
      Netns dev = topology.namespace("dev");
      Netns up = topology.namespace("up");
      topology.veth(dev, "eth0", up, "eth0");
      dev.address("eth0", "192.0.2.10/24");
      new UpstreamHost(up, "eth0", "192.0.2.1/24");
      try (LinuxHost host = LinuxHost.inNamespace(dev.name(), new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")));
          PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
          AgentLoop observer = AgentLoop.create("observer")) {
        bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
            .setPortConfig("controller").addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0")
                .setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true).setCarrier(true).setMtu(1500)
                .addAddresses("192.0.2.10/24").addGateways("192.0.2.1").addDnsServers("192.0.2.1")).build());
        Publication<NetworkInstanceConfig> nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
        nis.publish(NI1, localNi(NI1, "10.1.0.0/24"));
        nis.publish(NI2, localNi(NI2, "10.2.0.0/24"));
        Publication<AppInstanceConfig> apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
        Subscription<NetworkInstanceStatus> niStatus =
            bus.subscribe(ZedrouterTopics.NETWORK_INSTANCE_STATUS, observer, new SubscriptionHandler<>() {});
        Subscription<DomainStatus> status = bus.subscribe(DomainmgrTopics.DOMAIN_STATUS, observer, new SubscriptionHandler<>() {});
        try (AgentNode zedrouter = AgentNode.of(new ZedrouterAgent("bench", scratch.resolve("state")), bus, host, RuntimeSettings.DEFAULT);
            AgentNode domainmgr = AgentNode.of(new DomainmgrAgent(new DomainPlanner.Settings(scratch.resolve("domains"),
                scratch.resolve("images"), HostResources.memoryMb(), HostResources.RESERVED_MEMORY_MB), accel::get),
                bus, host, RuntimeSettings.DEFAULT)) {
          await(() -> niStatus.snapshot().size() == 2 && niStatus.snapshot().values().stream()
              .allMatch(ni -> ni.getState() == NetworkInstanceStatus.State.STATE_ONLINE), "NIs online");
          List<Long> boot = new ArrayList<>();
          List<Long> plug = new ArrayList<>();
          for (int run = 0; run < RUNS; run++) {
            String app = app(run);
            long start = System.nanoTime();
            apps.publish(app, app(app, hotplug, NI1));
            await(() -> console(status, app).contains("VERGE-LEASE eth0"), "lease of eth0");
            boot.add((System.nanoTime() - start) / 1_000_000);
            await(() -> console(status, app).contains("VERGE-READY"), "guest ready");
            start = System.nanoTime();
            apps.publish(app, app(app, hotplug, NI1, NI2));
            await(() -> console(status, app).contains("VERGE-LEASE eth1"), "lease of the hot-plugged eth1");
            plug.add((System.nanoTime() - start) / 1_000_000);
            remove(apps, status, host, app);
          }
          print("domainmgr.config_to_lease.tcg", boot);
          print("domainmgr.hotplug_to_lease", plug);
          var kvmProblem = HostResources.kvmUnusableReason();
          if (kvmProblem.isPresent()) {
            System.out.println("# domainmgr.config_to_lease.kvm: KVM unusable here: " + kvmProblem.get());
          } else {
            accel.set(QemuCommand.Accel.KVM);
            List<Long> kvm = new ArrayList<>();
            for (int run = RUNS; run < 2 * RUNS; run++) {
              String app = app(run);
              long start = System.nanoTime();
              apps.publish(app, app(app, hotplug, NI1));
              await(() -> console(status, app).contains("VERGE-LEASE eth0"), "lease of eth0 under KVM");
              kvm.add((System.nanoTime() - start) / 1_000_000);
              remove(apps, status, host, app);
            }
            print("domainmgr.config_to_lease.kvm", kvm);
          }
        }
      }
    }
  }

  static void print(String name, List<Long> millis) {
    List<Long> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    System.out.println("BENCH " + name + " " + sorted.get(sorted.size() / 2) + " ms");
  }

  /** Removes the app and waits until its QEMU is gone (after the guest's power-off grace). */
  static void remove(Publication<AppInstanceConfig> apps, Subscription<DomainStatus> status, LinuxHost host, String app)
      throws InterruptedException {
    apps.unpublish(app);
    await(() -> !status.snapshot().containsKey(app)
        && host.daemons().status("qemu-" + app).isEmpty(), "domain " + app + " gone");
  }

  static String console(Subscription<DomainStatus> status, String app) {
    DomainStatus domain = status.snapshot().get(app);
    if (domain == null || domain.getConsoleLog().isEmpty()) {
      return "";
    }
    try {
      Path log = Path.of(domain.getConsoleLog());
      return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("domainmgr bench: no " + what + " within " + WAIT.toSeconds() + " s");
      }
      Thread.sleep(5);
    }
  }

  static NetworkInstanceConfig localNi(String uuid, String subnet) {
    return NetworkInstanceConfig.newBuilder().setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
        .setPort(Adapter.newBuilder().setName("eth0")).setIp(IpSpec.newBuilder().setSubnet(subnet)).build();
  }

  static AppInstanceConfig app(String uuid, GuestImage image, String... nis) {
    AppInstanceConfig.Builder app = AppInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1")).setDisplayName("bench")
        .setActivate(true).setMemoryMb(256).setVcpus(1)
        .setBoot(BootSource.newBuilder().setKernel(KernelBoot.newBuilder().setKernel(image.kernel().toString())
            .setInitrd(image.initrd().toString()).setCmdline("console=ttyS0 quiet panic=-1")));
    for (int i = 0; i < nis.length; i++) {
      app.addInterfaces(NetworkAdapter.newBuilder().setName("eth" + i).setNetworkId(nis[i])
          .addAcls(Ace.newBuilder().setId(1).setName("all").addMatches(AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0"))));
    }
    return app.build();
  }
}
