package dev.verge.domainmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.GuestImage;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.PlannedVif;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A macvtap VIF in bridge mode on the real kernel: the guest's NIC sits on the device's {@code eth1}
 * and asks the DHCP server on the far side of that link ({@code lan}, 198.51.100.1) for a lease. The
 * server is not the parent's own address on purpose: a macvtap cannot talk to its lower device's
 * own stack. zedrouter does not plan macvtaps for any NI kind yet, so the test publishes the VIF
 * plan zedrouter would.
 */
class DomainmgrMacvtapIT {
  static final String APP = "aaaaaaaa-0000-4000-8000-0000000000a1";
  static final String NI = "11111111-0000-4000-8000-0000000000a1";
  static final String MAC = "02:16:3e:aa:00:01";

  @TempDir Path dir;
  NetTopology topology;
  Netns device;
  LinuxHost host;
  PubSub bus;
  AgentLoop observer;
  AgentNode domainmgr;
  BackgroundProcess dnsmasq;

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    topology = NetTopology.create("dmv");
    device = topology.namespace("dev");
    Netns lan = topology.namespace("lan");
    topology.veth(device, "eth1", lan, "eth0");
    dnsmasq = new UpstreamHost(lan, "eth0", "198.51.100.1/24")
        .startDhcpAndDns("198.51.100.50", "198.51.100.60", Duration.ofMinutes(10));
    host = topology.own(LinuxHost.inNamespace(device.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    observer = topology.own(AgentLoop.create("observer"));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  @Test
  void aMacvtapVifInBridgeModeGetsALeaseFromTheLinkBeyondItsParentAndGoesWithTheApp() throws Exception {
    GuestImage image = GuestImage.ensureBuilt();
    AppInstanceConfig app = DomainmgrIT.guest(image, APP, "ping:198.51.100.1", NI);
    Publication<AppInstanceConfig> apps = bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    apps.publish(APP, app);
    bus.publish(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE).publish(APP, AppVifPlan.newBuilder()
        .setAppUuid(APP).addVifs(PlannedVif.newBuilder().setVifName("mvt-a1").setNetworkInstance(NI)
            .setKind(PlannedVif.Kind.KIND_MACVTAP).setMac(MAC).setParentLink("eth1").setMtu(1500)).build());
    Subscription<DomainStatus> status = bus.subscribe(DomainmgrTopics.DOMAIN_STATUS, observer, new SubscriptionHandler<>() {});
    domainmgr = topology.own(AgentNode.of(DomainmgrAgent.forHost(dir.resolve("state")), bus, host, RuntimeSettings.DEFAULT));

    await().atMost(DomainmgrIT.WAIT).untilAsserted(() -> assertThat(status.snapshot().get(APP))
        .as("domain status").isNotNull().extracting(DomainStatus::getState).isEqualTo(DomainStatus.State.STATE_RUNNING));
    assertThat(status.snapshot().get(APP).getErrorsList()).isEmpty();
    assertThat(device.ip("-d", "link", "show", "mvt-a1")).contains("macvtap mode bridge").contains(MAC);
    long pid = host.daemons().status(VmConfigurator.daemonName(APP)).orElseThrow().pid();

    Path console = Path.of(status.snapshot().get(APP).getConsoleLog());
    await().atMost(DomainmgrIT.BOOT).until(() -> Files.exists(console) && Files.readString(console,
        java.nio.charset.StandardCharsets.ISO_8859_1).contains("VERGE-READY"));
    String log = Files.readString(console, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(log).containsPattern("VERGE-ADDR eth0 mac=" + MAC + " 198\\.51\\.100\\.(5\\d|60)/24");
    assertThat(log).contains("VERGE-CHECK OK ping:198.51.100.1");


    apps.unpublish(APP);
    await().atMost(DomainmgrIT.WAIT).until(() -> !status.snapshot().containsKey(APP));
    await().atMost(DomainmgrIT.WAIT).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    await().atMost(DomainmgrIT.WAIT).until(() -> device.exec("ip", "link", "show", "mvt-a1").exitCode() != 0);
  }
}
