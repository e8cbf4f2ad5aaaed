package dev.verge.domainmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.GuestImage;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BootSource;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.KernelBoot;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.proto.info.v1.DomainVif;
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
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import dev.verge.zedrouter.ZedrouterAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * domainmgr and the real zedrouter on the real kernel in throw-away namespaces: a device
 * ({@code dev}) with its uplink to an upstream host ({@code up}, 192.0.2.1, no route back to the
 * NIs' subnets), two local NIs on that uplink, and the guest image of images/guest booted by
 * domainmgr under QEMU (TCG here unless KVM is usable) with one VIF on each NI.
 */
class DomainmgrIT {
  static final Duration BOOT = Duration.ofSeconds(120);
  static final Duration WAIT = Duration.ofSeconds(20);
  static final String NI1 = "11111111-0000-4000-8000-000000000001";
  static final String NI2 = "11111111-0000-4000-8000-000000000002";
  static final String APP1 = "aaaaaaaa-0000-4000-8000-000000000001";

  @TempDir Path dir;
  NetTopology topology;
  Netns device;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode zedrouter;
  AgentNode domainmgr;
  Publication<AppInstanceConfig> apps;
  Subscription<DomainStatus> status;
  GuestImage image;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    image = GuestImage.ensureBuilt();
    // dnsmasq reads its host directories after dropping root: the path to them must be traversable
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("dm");
    device = topology.namespace("dev");
    Netns up = topology.namespace("up");
    topology.veth(device, "eth0", up, "eth0");
    device.address("eth0", "192.0.2.10/24");
    new UpstreamHost(up, "eth0", "192.0.2.1/24");

    host = topology.own(LinuxHost.inNamespace(device.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
    bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE).publish("global", DeviceNetwork.newBuilder()
        .setPortConfig("controller").addPorts(Port.newBuilder().setLabel("eth0").setIfName("eth0")
            .setUsage(Port.Usage.USAGE_MANAGEMENT).setUp(true).setCarrier(true).setMtu(1500)
            .addAddresses("192.0.2.10/24").addGateways("192.0.2.1").addDnsServers("192.0.2.1")).build());
    Publication<NetworkInstanceConfig> nis = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    nis.publish(NI1, localNi(NI1, "10.1.0.0/24"));
    nis.publish(NI2, localNi(NI2, "10.2.0.0/24"));
    apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    status = bus.subscribe(DomainmgrTopics.DOMAIN_STATUS, observer, new SubscriptionHandler<>() {});
    zedrouter = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state")), bus, host, RuntimeSettings.DEFAULT));
    domainmgr = topology.own(AgentNode.of(DomainmgrAgent.forHost(dir.resolve("state").resolve("domainmgr")), bus, host,
        RuntimeSettings.DEFAULT));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  static NetworkInstanceConfig localNi(String uuid, String subnet) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName("ni-" + uuid.substring(uuid.length() - 1))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL).setActivate(true)
        .setPort(Adapter.newBuilder().setName("eth0"))
        .setIp(IpSpec.newBuilder().setSubnet(subnet))
        .build();
  }

  /** The guest of images/guest with one adapter per NI; it pings {@code check} once it has its leases. */
  AppInstanceConfig guest(String uuid, String check, String... nis) {
    return guest(image, uuid, check, nis);
  }

  static AppInstanceConfig guest(GuestImage image, String uuid, String check, String... nis) {
    AppInstanceConfig.Builder app = AppInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName("guest").setActivate(true).setMemoryMb(256).setVcpus(1)
        .setBoot(BootSource.newBuilder().setKernel(KernelBoot.newBuilder().setKernel(image.kernel().toString())
            .setInitrd(image.initrd().toString()).setCmdline("console=ttyS0 quiet panic=-1" + (check.isEmpty() ? "" : " verge.check=" + check))));
    for (int i = 0; i < nis.length; i++) {
      app.addInterfaces(NetworkAdapter.newBuilder().setName("eth" + i).setNetworkId(nis[i])
          // let everything out: the test is about the VIFs, not the ACLs
          .addAcls(dev.verge.proto.config.v1.Ace.newBuilder().setId(1).setName("all")
              .addMatches(dev.verge.proto.config.v1.AceMatch.newBuilder().setType("ip").setValue("0.0.0.0/0"))));
    }
    return app.build();
  }

  private String console(DomainStatus domain) throws Exception {
    if (domain.getConsoleLog().isEmpty()) {
      return ""; // no VM yet (waiting for zedrouter's VIF plan)
    }
    Path log = Path.of(domain.getConsoleLog());
    // the console carries raw bytes (escape sequences, a half-written line): decode leniently
    return Files.exists(log) ? new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.UTF_8) : "";
  }

  @Test
  void guestWithTwoVifsGetsALeaseOnEachAndPingsUpstreamThroughNatThenStopsClean() throws Exception {
    apps.publish(APP1, guest(APP1, "ping:192.0.2.1", NI1, NI2));

    await().atMost(WAIT).until(() -> status.snapshot().containsKey(APP1)
        && status.snapshot().get(APP1).getState() == DomainStatus.State.STATE_RUNNING);
    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getErrorsList()).isEmpty();
    List<String> taps = domain.getVifsList().stream().map(DomainVif::getVifName).toList();
    assertThat(taps).hasSize(2);
    long pid = host.daemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid();

    await().atMost(BOOT).until(() -> console(status.snapshot().get(APP1)).contains("VERGE-READY"));
    String console = console(domain);
    for (DomainVif vif : domain.getVifsList()) {
      // the guest's NIC has the planned MAC and holds the lease zedrouter reserved for it
      assertThat(console).containsPattern("VERGE-ADDR eth\\d mac=" + vif.getMac() + " " + vif.getIpAddress() + "/24");
    }
    assertThat(console).contains("VERGE-CHECK OK ping:192.0.2.1");

    apps.unpublish(APP1);
    await().atMost(WAIT).until(() -> !status.snapshot().containsKey(APP1));
    await().atMost(WAIT).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    for (String tap : taps) {
      await().atMost(WAIT).until(() -> device.exec("ip", "link", "show", tap).exitCode() != 0);
    }
  }

  /**
   * A restart (a stopped or killed node): the taps stay in the kernel, the new domainmgr waits for
   * zedrouter's VIF plans instead of deleting them, adopts them as they are (a stale address
   * dropped) and the new QEMU's guest gets its lease through them.
   */
  @Test
  void aRestartedDomainmgrAdoptsTheTapsItLeftAndTheGuestGetsItsLeaseAgain() throws Exception {
    apps.publish(APP1, guest(APP1, "ping:192.0.2.1", NI1));
    await().atMost(WAIT).until(() -> status.snapshot().containsKey(APP1)
        && status.snapshot().get(APP1).getState() == DomainStatus.State.STATE_RUNNING);
    String tap = status.snapshot().get(APP1).getVifs(0).getVifName();
    await().atMost(WAIT).until(() -> device.exec("ip", "-o", "link", "show", tap).stdout().contains("master bn1"));
    String index = device.execOk("cat", "/sys/class/net/" + tap + "/ifindex").strip();
    Path console = Path.of(status.snapshot().get(APP1).getConsoleLog());
    domainmgr.close();
    zedrouter.close();
    host.close(); // ends the QEMU as a restarted node's supervisor would
    Files.deleteIfExists(console);
    device.execOk("ip", "addr", "add", "10.9.9.9/24", "dev", tap);

    host = topology.own(LinuxHost.inNamespace(device.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    zedrouter = topology.own(AgentNode.of(new ZedrouterAgent("node-it", dir.resolve("state")), bus, host, RuntimeSettings.DEFAULT));
    domainmgr = topology.own(AgentNode.of(DomainmgrAgent.forHost(dir.resolve("state").resolve("domainmgr")), bus, host,
        RuntimeSettings.DEFAULT));

    await().atMost(BOOT).until(() -> Files.exists(console)
        && Files.readString(console, java.nio.charset.StandardCharsets.ISO_8859_1).contains("VERGE-CHECK OK ping:192.0.2.1"));
    assertThat(device.execOk("cat", "/sys/class/net/" + tap + "/ifindex").strip()).as("adopted, not made again")
        .isEqualTo(index);
    assertThat(device.ipv4Addresses(tap)).isEmpty();
    assertThat(device.execOk("ip", "-o", "link", "show", tap)).contains("master bn1");
  }

  /**
   * The guest's user data by both of cloud-init's ways: its init prints the cidata seed disk's
   * user-data between marker lines, then fetches it from zedrouter's metadata server at EVE's
   * OpenStack path (through the 169.254.169.254 DNAT of its NI).
   */
  @Test
  void theGuestGetsItsUserDataFromTheSeedDiskAndFromTheMetadataServer() throws Exception {
    String userData = "#cloud-config\nruncmd:\n  - echo hello from the edge\n";
    String url = "http://169.254.169.254/openstack/latest/user_data";
    apps.publish(APP1, guest(APP1, "wget:" + url, NI1).toBuilder().setUserData(userData).build());

    await().atMost(BOOT).until(() -> status.snapshot().containsKey(APP1)
        && console(status.snapshot().get(APP1)).contains("VERGE-READY"));
    String console = console(status.snapshot().get(APP1)).replace("\r\n", "\n");
    assertThat(console).contains("VERGE-SEED /dev/vda instance-id: " + APP1 + " local-hostname: guest ");
    assertThat(console).contains("VERGE-USER-DATA-BEGIN\n" + userData + "VERGE-USER-DATA-END\n");
    // the guest prints the body with its newlines as spaces
    assertThat(console).contains("VERGE-CHECK OK wget:" + url + " " + userData.replace('\n', ' '));
    assertThat(status.snapshot().get(APP1).getErrorsList()).isEmpty();
  }

  @Test
  void anAdapterAddedToARunningAppIsHotPluggedAndGetsALeaseWithoutARestart() throws Exception {
    GuestImage hotplug = image.withNicHotplug(dir.resolve("guest"));
    apps.publish(APP1, guest(hotplug, APP1, "", NI1));
    await().atMost(BOOT).until(() -> status.snapshot().containsKey(APP1)
        && console(status.snapshot().get(APP1)).contains("VERGE-READY"));
    long pid = host.daemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid();

    apps.publish(APP1, guest(hotplug, APP1, "", NI1, NI2));

    await().atMost(WAIT).until(() -> status.snapshot().get(APP1).getVifsCount() == 2
        && status.snapshot().get(APP1).getVifs(1).getReady());
    DomainVif added = status.snapshot().get(APP1).getVifs(1);
    await().atMost(WAIT).until(() -> console(status.snapshot().get(APP1))
        .contains("VERGE-LEASE eth1 " + added.getIpAddress() + "/"));
    assertThat(console(status.snapshot().get(APP1))).contains("VERGE-HOTPLUG eth1");
    assertThat(host.daemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid()).isEqualTo(pid);
    assertThat(status.snapshot().get(APP1).getRestarts()).isZero();
  }

  @Test
  void badAppsGetPreciseErrorsWhileAGoodOneRuns() throws Exception {
    String unknownNi = "11111111-0000-4000-8000-0000000000ff";
    String app2 = "aaaaaaaa-0000-4000-8000-000000000002";
    String app3 = "aaaaaaaa-0000-4000-8000-000000000003";
    apps.publish(APP1, guest(APP1, "", NI1));
    apps.publish(app2, guest(app2, "", unknownNi));
    apps.publish(app3, guest(app3, "", NI2).toBuilder().setMemoryMb(64 * 1024 * 1024).build());

    await().atMost(WAIT).until(() -> status.snapshot().keySet().containsAll(List.of(APP1, app2, app3))
        && status.snapshot().get(APP1).getState() == DomainStatus.State.STATE_RUNNING
        && status.snapshot().get(app3).getState() == DomainStatus.State.STATE_ERROR);
    assertThat(status.snapshot().get(app2).getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(status.snapshot().get(app2).getErrorsList()).extracting(e -> e.getReason())
        .containsAnyOf("NO_VIF_PLAN", "UNKNOWN_NETWORK_INSTANCE");
    assertThat(status.snapshot().get(app3).getErrors(0).getReason()).isEqualTo("INSUFFICIENT_MEMORY");
    assertThat(status.snapshot().get(app3).getErrors(0).getDescription())
        .startsWith("memory 67108864 MiB is more than the host can give: ");
    assertThat(host.daemons().status(VmConfigurator.daemonName(app2))).isEmpty();
    assertThat(host.daemons().status(VmConfigurator.daemonName(app3))).isEmpty();
    await().atMost(BOOT).until(() -> console(status.snapshot().get(APP1)).contains("VERGE-LEASE eth0"));
  }
}
