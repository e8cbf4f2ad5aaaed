package dev.verge.nim;

import static dev.verge.nim.Configs.dhcp;
import static dev.verge.nim.Configs.eth;
import static dev.verge.nim.Configs.staticNet;
import static dev.verge.nim.Configs.staticUplink;
import static dev.verge.nim.Configs.uplink;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteRequest;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.info.v1.ConfigListStatus;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.NimTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** nim on the sim host and virtual time: EVE's dpcmanager scenarios and the faster failover. */
class NimAgentTest {
  static final String NET0 = "00000000-0000-4000-8000-0000000000a0";
  static final String NET1 = "00000000-0000-4000-8000-0000000000a1";

  @TempDir Path dir;
  NimWorld world;

  @AfterEach
  void close() {
    if (world != null) {
      world.close();
    }
  }

  /** eth0 (cost 0) and eth1 (cost 10), both static, to two upstreams. */
  void twoStaticUplinks() {
    world.physicalIo.publish("eth0", eth("eth0"));
    world.physicalIo.publish("eth1", eth("eth1"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.adapters.publish("wan1", staticUplink("wan1", "eth1", 10, NET1, "198.51.100.10"));
  }

  /** The table the device's own traffic looks up (rule 15100), as the port it belongs to. */
  String controllerTable() {
    return world.host.network().rules(false).stream()
        .filter(r -> r.priority() == PortItems.CONTROLLER_RULE_PRIORITY)
        .map(r -> world.host.network().links().stream().filter(l -> PortItems.TABLE_BASE + l.index() == r.table())
            .findFirst().map(l -> l.name()).orElse("table " + r.table()))
        .reduce((a, b) -> a + "," + b).orElse("none");
  }

  List<String> mainDefaults() {
    return world.host.network().routes(RouteRequest.MAIN_TABLE).stream()
        .filter(r -> r.destination().length() == 0)
        .sorted(java.util.Comparator.comparingInt(Route::metric))
        .map(r -> r.gateway().orElseThrow().getHostAddress() + " " + r.metric())
        .toList();
  }

  @Test
  void theDevicesResolverListsTheControllerPortsDnsServersFirstAndFollowsAFailover() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.physicalIo.publish("eth1", eth("eth1"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0, "192.0.2.53"));
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0, "198.51.100.53", "192.0.2.53")
        .toBuilder().setIp(staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0, "198.51.100.53", "192.0.2.53").getIp()
            .toBuilder().addNtp("ntp.example.net").addNtp("198.51.100.123")).build());
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.adapters.publish("wan1", staticUplink("wan1", "eth1", 10, NET1, "198.51.100.10"));
    world.start();
    java.nio.file.Path resolv = new NimSettings(world.stateDir).resolvConf();
    assertThat(java.nio.file.Files.readAllLines(resolv)).filteredOn(l -> l.startsWith("nameserver"))
        .containsExactly("nameserver 192.0.2.53", "nameserver 198.51.100.53");

    java.nio.file.Path ntp = new NimSettings(world.stateDir).timeSources();
    assertThat(java.nio.file.Files.readAllLines(ntp)).filteredOn(l -> l.startsWith("server"))
        .containsExactly("server ntp.example.net iburst", "server 198.51.100.123 iburst");
    assertThat(world.network().getPortsList()).filteredOn(p -> p.getLabel().equals("wan1"))
        .singleElement().satisfies(p -> assertThat(p.getNtpServersList()).containsExactly("ntp.example.net", "198.51.100.123"));

    world.host.kernel().setCarrier("eth0", false);
    world.settle();
    assertThat(world.network().getControllerPort()).isEqualTo("wan1");
    assertThat(java.nio.file.Files.readAllLines(resolv)).filteredOn(l -> l.startsWith("nameserver"))
        .containsExactly("nameserver 198.51.100.53", "nameserver 192.0.2.53");

    // a name that is no host name is the port's error; the last good config keeps running
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0).toBuilder()
        .setIp(staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0).getIp().toBuilder().addNtp("ntp server!")).build());
    world.settle();
    assertThat(world.network().getPortsList()).filteredOn(p -> p.hasError())
        .extracting(p -> p.getLabel() + ": " + p.getError().getDescription())
        .contains("wan1: NTP server 'ntp server!' is neither an address nor a host name");
  }

  @Test
  void theCheapestWorkingPortCarriesControllerTraffic() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.start();

    DeviceNetwork network = world.network();
    assertThat(network.getPortConfig()).isEqualTo("zedagent");
    assertThat(network.getControllerPort()).isEqualTo("wan0");
    assertThat(network.getControllerPortChanges()).isEqualTo(1);
    assertThat(world.host.network().addresses("eth0")).extracting(a -> a.prefix().toString()).contains("192.0.2.10/24");
    assertThat(world.host.network().link("eth0").orElseThrow().up()).isTrue();
    assertThat(mainDefaults()).containsExactly("192.0.2.1 5000", "198.51.100.1 5001");
    int table0 = PortItems.TABLE_BASE + world.host.network().link("eth0").orElseThrow().index();
    assertThat(world.host.network().routes(table0)).extracting(r -> r.destination().toString())
        .containsExactlyInAnyOrder("0.0.0.0/0", "192.0.2.0/24");
    assertThat(world.host.network().rules(false)).extracting(Object::toString)
        .contains("15000: from 192.0.2.10/32 lookup " + table0);
    assertThat(world.host.sysctl().get(IntendedPorts.IGNORE_LINKDOWN)).isEqualTo("1");
    assertThat(controllerTable()).isEqualTo("eth0");
    // Only the cheapest port was tested: one working port is enough (no traffic on the costly one).
    assertThat(world.probe.probed).containsExactly("eth0@192.0.2.10");
  }

  @Test
  void carrierLossMovesControllerTrafficAtOnceAndItReturnsAfterTheHoldDown() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.start();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");

    world.host.kernel().setCarrier("eth0", false);
    world.settle(); // only the debounce passes: the switch is driven by the kernel's event alone

    DeviceNetwork network = world.network();
    assertThat(network.getControllerPort()).isEqualTo("wan1");
    assertThat(network.getControllerPortChanges()).isEqualTo(2);
    assertThat(controllerTable()).isEqualTo("eth1");
    assertThat(mainDefaults()).as("no route changes: no moment without one").containsExactly("192.0.2.1 5000", "198.51.100.1 5001");
    assertThat(world.probe.probed).endsWith("eth1@198.51.100.10"); // the new port was confirmed at once

    world.host.kernel().setCarrier("eth0", true);
    world.settle();
    assertThat(world.network().getControllerPort()).as("hold-down: not back yet").isEqualTo("wan1");
    world.advance(NimTimers.DEFAULT.holdDown().plusMillis(100));
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(world.network().getControllerPortChanges()).isEqualTo(3);
    assertThat(controllerTable()).isEqualTo("eth0");
  }

  @Test
  void aSilentUpstreamIsLeftAfterTwoMissedProbes() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.start();
    world.probe.failNext("eth0", 1, "connect timed out");
    world.advance(NimTimers.DEFAULT.probeInterval());
    assertThat(world.network().getControllerPort()).as("one miss is a blip: the second chance works").isEqualTo("wan0");
    assertThat(world.probe.probed.stream().filter(p -> p.startsWith("eth0@")).toList())
        .as("the miss is re-probed at once").hasSize(3);

    world.probe.fail("eth0", "connect timed out");
    world.advance(NimTimers.DEFAULT.probeInterval());
    assertThat(world.network().getControllerPort()).as("two misses in a row").isEqualTo("wan1");
    // Re-verifying, the port that just failed twice goes last: eth1 is tried first.
    assertThat(world.probe.probed).endsWith("eth0@192.0.2.10", "eth0@192.0.2.10", "eth1@198.51.100.10");
    Subscription<DeviceNetworkStatus> status = world.watch(NimTopics.DEVICE_NETWORK_STATUS);
    world.observer.runPending();
    var wan0 = status.get("global").orElseThrow().getPortsList().stream().filter(p -> p.getLabel().equals("wan0"))
        .findFirst().orElseThrow();
    assertThat(wan0.getError().getDescription()).isEqualTo("connect timed out");

    // The upstream heals: the periodic probe tries the better port and traffic returns.
    world.probe.heal("eth0");
    world.advance(NimTimers.DEFAULT.probeInterval());
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
  }

  @Test
  void whenEveryPortFailsNimParksAndSaysWhy() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.probe.fail("eth0", "connection refused");
    world.probe.fail("eth1", "no route to host");
    world.start();

    assertThat(world.agent.verifier().phase()).isEqualTo(Verifier.Phase.PARKED);
    assertThat(world.network().getControllerPort()).isEmpty();
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");
    Subscription<ConfigListStatus> list = world.watch(NimTopics.CONFIG_LIST_STATUS);
    world.observer.runPending();
    assertThat(list.get("global").orElseThrow().getConfigs(0).getLastError()).isEqualTo(
        "no management port reaches the controller: wan0: connection refused; wan1: no route to host");
    // Parked, not oscillating: the ports stay configured while it waits to retry.
    assertThat(mainDefaults()).hasSize(2);

    world.probe.heal("eth1");
    world.advance(NimTimers.DEFAULT.probeInterval().plusSeconds(1));
    assertThat(world.network().getControllerPort()).isEqualTo("wan1");
  }

  dev.verge.proto.info.v1.PortStatus portStatus(String label) {
    Subscription<DeviceNetworkStatus> status = world.watch(NimTopics.DEVICE_NETWORK_STATUS);
    world.observer.runPending();
    return status.get("global").orElseThrow().getPortsList().stream().filter(p -> p.getLabel().equals(label))
        .findFirst().orElseThrow();
  }

  @Test
  void eachPortsStatusSaysWhenItsLastCheckFailedAndWhenItsLastOneSucceeded() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.probe.fail("eth0", "connection refused");
    long startedAt = world.loop.now().toEpochMilli();
    world.start();
    long verifiedBy = world.loop.now().toEpochMilli();

    var wan0 = portStatus("wan0");
    assertThat(wan0.getLastFailedMs()).as("wall clock of the failed verification").isBetween(startedAt, verifiedBy);
    assertThat(wan0.getLastSucceededMs()).as("never succeeded").isZero();
    assertThat(wan0.getError().getDescription()).isEqualTo("connection refused");
    long failedAt = wan0.getLastFailedMs();
    var wan1 = portStatus("wan1");
    assertThat(wan1.getLastSucceededMs()).as("tested after wan0 failed").isBetween(failedAt, verifiedBy);
    assertThat(wan1.getLastFailedMs()).isZero();

    // eth0's upstream heals: after the hold-down the periodic better-port probe succeeds through it.
    world.probe.heal("eth0");
    world.advance(NimTimers.DEFAULT.holdDown().plus(NimTimers.DEFAULT.probeInterval()).plusSeconds(1));
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    wan0 = portStatus("wan0");
    assertThat(wan0.getLastFailedMs()).as("the failure is kept").isEqualTo(failedAt);
    assertThat(wan0.getLastSucceededMs()).as("not before the hold-down").isGreaterThanOrEqualTo(failedAt + NimTimers.DEFAULT.holdDown().toMillis())
        .isLessThanOrEqualTo(world.loop.now().toEpochMilli());
    assertThat(wan0.hasError()).as("the failure is older than the success").isFalse();
  }

  @Test
  void withoutAControllerConfigTheLastResortRunsDhcpOnEveryEthernet() {
    world = new NimWorld(dir, "eth0", "eth1");
    world.physicalIo.publish("eth1", eth("eth1").toBuilder()
        .setUsage(dev.verge.proto.config.v1.PhysicalIo.Usage.USAGE_DEDICATED).build());
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("lastresort");
    // eth1 belongs to an app: nim leaves it alone.
    assertThat(world.host.simDaemons().status(dev.verge.hostos.internal.UdhcpcClients.daemonName("eth0"))).isPresent();
    assertThat(world.host.simDaemons().status(dev.verge.hostos.internal.UdhcpcClients.daemonName("eth1"))).isEmpty();
    assertThat(world.network().getControllerPort()).isEmpty(); // no lease yet

    world.host.dhcpServer().offer("eth0", new DhcpLease(IpPrefix.parse("203.0.113.50/24"),
        List.of(IpPrefix.literal("203.0.113.1")), List.of(IpPrefix.literal("203.0.113.53")), Optional.empty(),
        Duration.ofHours(1), Optional.empty()));
    world.advance(Duration.ofSeconds(1));
    assertThat(world.host.network().addresses("eth0")).extracting(a -> a.prefix().toString()).contains("203.0.113.50/24");
    assertThat(mainDefaults()).containsExactly("203.0.113.1 5000");
    assertThat(world.network().getControllerPort()).isEqualTo("eth0");
    var port = world.network().getPortsList().get(0);
    assertThat(port.getDnsServersList()).containsExactly("203.0.113.53");
    assertThat(port.getGatewaysList()).containsExactly("203.0.113.1");
  }

  @Test
  void ntpServersOfTheLeaseJoinTheConfiguredOnesInTheSourcesFileAndPortStatus() throws Exception {
    world = new NimWorld(dir, "eth0");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(Configs.DHCP_NET, dhcp().toBuilder()
        .setIp(dhcp().getIp().toBuilder().addNtp("ntp.example.net").addNtp("203.0.113.123")).build());
    world.adapters.publish("wan0", uplink("wan0", "eth0", 0, Configs.DHCP_NET));
    world.start();
    world.host.dhcpServer().offer("eth0", new DhcpLease(IpPrefix.parse("203.0.113.50/24"),
        List.of(IpPrefix.literal("203.0.113.1")), List.of(), Optional.empty(), Duration.ofHours(1), Optional.empty(),
        List.of(IpPrefix.literal("203.0.113.123"), IpPrefix.literal("203.0.113.124"))));
    world.advance(Duration.ofSeconds(1));
    // Configured first; the lease's option 42 after, without repeating a server.
    java.nio.file.Path ntp = new NimSettings(world.stateDir).timeSources();
    assertThat(java.nio.file.Files.readAllLines(ntp)).filteredOn(l -> l.startsWith("server")).containsExactly(
        "server ntp.example.net iburst", "server 203.0.113.123 iburst", "server 203.0.113.124 iburst");
    assertThat(world.network().getPorts(0).getNtpServersList())
        .containsExactly("ntp.example.net", "203.0.113.123", "203.0.113.124");
  }

  @Test
  void aFailingControllerConfigFallsBackToTheLastResortWhenEnabled() {
    world = new NimWorld(dir, "eth0");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.configItems.publish(NimAgent.FALLBACK_ANY_ETH,
        ConfigItem.newBuilder().setKey(NimAgent.FALLBACK_ANY_ETH).setValue("enabled").build());
    world.probe.fail("eth0", "connection refused");
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("lastresort");
    assertThat(world.host.network().addresses("eth0")).isEmpty(); // the static address went with its config

    // The lease comes from an upstream where the controller answers.
    world.probe.heal("eth0");
    world.host.dhcpServer().offer("eth0", new DhcpLease(IpPrefix.parse("203.0.113.50/24"),
        List.of(IpPrefix.literal("203.0.113.1")), List.of(), Optional.empty(), Duration.ofHours(1), Optional.empty()));
    world.advance(Duration.ofSeconds(1));
    assertThat(world.network().getControllerPort()).isEqualTo("eth0");
    assertThat(world.agent.verifier().currentIndex()).isEqualTo(1);
  }

  @Test
  void aDhcpPortWaitsForItsLeaseThenFailsWithThePreciseReason() {
    world = new NimWorld(dir, "eth0");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(Configs.DHCP_NET, dhcp());
    world.adapters.publish("wan0", uplink("wan0", "eth0", 0, Configs.DHCP_NET));
    world.start();
    assertThat(world.agent.verifier().phase()).isEqualTo(Verifier.Phase.VERIFYING);
    world.advance(NimTimers.DEFAULT.addressWait().minusSeconds(2));
    assertThat(world.agent.verifier().phase()).as("still within 5 x TD").isEqualTo(Verifier.Phase.VERIFYING);
    world.advance(Duration.ofSeconds(3));
    assertThat(world.agent.verifier().phase()).isEqualTo(Verifier.Phase.PARKED);
    assertThat(world.agent.verifier().entries().get(0).lastError()).isEqualTo(
        "no management port reaches the controller: wan0: no IP address on eth0 (waiting for a DHCP lease)");
  }

  @Test
  void vlanAndBondPortsAreBuiltOnTheSim() {
    world = new NimWorld(dir, "eth0", "eth1", "eth2");
    for (String nic : List.of("eth0", "eth1", "eth2")) {
      world.physicalIo.publish(nic, eth(nic));
    }
    world.vlans.publish("v100", Configs.vlan("v100", "eth0.100", "eth0", 100));
    world.vlans.publish("v200", Configs.vlan("v200", "bond0.200", "bond0", 200));
    world.bonds.publish("bond0", Configs.bond("bond0", "bond0", BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth1", "eth2"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0));
    world.adapters.publish("m100", staticUplink("m100", "v100", 0, NET0, "192.0.2.10"));
    world.adapters.publish("m200", staticUplink("m200", "v200", 5, NET1, "198.51.100.10"));
    world.start();

    var net = world.host.network();
    assertThat(net.link("eth0.100").orElseThrow().kind()).isEqualTo("vlan");
    assertThat(net.link("bond0").orElseThrow().kind()).isEqualTo("bond");
    assertThat(net.link("bond0.200").orElseThrow().kind()).isEqualTo("vlan");
    int bondIndex = net.link("bond0").orElseThrow().index();
    assertThat(net.link("eth1").orElseThrow().masterIndex()).isEqualTo(bondIndex);
    assertThat(net.link("eth2").orElseThrow().masterIndex()).isEqualTo(bondIndex);
    assertThat(net.addresses("bond0.200")).extracting(a -> a.prefix().toString()).contains("198.51.100.10/24");
    assertThat(net.addresses("bond0")).isEmpty(); // the bond itself carries no IP
    assertThat(world.network().getControllerPort()).isEqualTo("m100");
    assertThat(world.network().getPortsList()).extracting(p -> p.getLabel() + ":" + p.getKind())
        .containsExactly("eth0:ethernet", "eth1:ethernet", "eth2:ethernet", "bond0:bond", "m200:vlan", "m100:vlan");
    // the status names the member the bond sends through: the primary (first) one, then the other
    assertThat(portStatus("bond0").getBond().getActiveMember()).isEqualTo("eth1");
    assertThat(portStatus("bond0").getBond().getMembersList()).containsExactly("eth1", "eth2");
    world.host.kernel().setCarrier("eth1", false);
    world.settle();
    assertThat(portStatus("bond0").getBond().getActiveMember()).isEqualTo("eth2");
  }

  @Test
  void aBadNewConfigIsReportedAndTheLastGoodOneKeepsRunning() {
    world = new NimWorld(dir, "eth0");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.start();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");

    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "203.0.113.9"));
    world.settle();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(world.host.network().addresses("eth0")).extracting(a -> a.prefix().toString()).contains("192.0.2.10/24");
    assertThat(world.network().getPortsList()).filteredOn(p -> p.hasError())
        .extracting(p -> p.getLabel() + ": " + p.getError().getDescription())
        .containsExactly("wan0: static IP 203.0.113.9 is outside its subnet 192.0.2.0/24");
  }

  @Test
  void theOverrideFileUnderTheStateDirIsUsedWithoutAControllerConfig() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    java.nio.file.Path file = new NimSettings(world.stateDir).overrideFile();
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.writeString(file, """
        {"device_io": [{"type": "TYPE_ETHERNET", "phy_label": "eth1", "logical_label": "eth1"}],
         "networks": [{"id": {"uuid": "n1"}, "ip": {"dhcp": "DHCP_TYPE_STATIC", "subnet": "198.51.100.0/24",
                       "gateway": "198.51.100.1"}}],
         "system_adapters": [{"name": "site", "lower_layer_name": "eth1", "network_uuid": "n1",
                              "addr": "198.51.100.77", "uplink": true}]}
        """);
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("override");
    assertThat(world.network().getControllerPort()).isEqualTo("site");
    assertThat(world.host.network().addresses("eth1")).extracting(a -> a.prefix().toString()).contains("198.51.100.77/24");

    // A controller config arrives: it is newer, so it is tried first, and it works.
    twoStaticUplinks();
    world.settle();
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
  }

  @Test
  void afterARestartTheConfigThatFailedIsNotTriedBeforeTheOneThatWorked() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    java.nio.file.Path file = new NimSettings(world.stateDir).overrideFile();
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.writeString(file, """
        {"device_io": [{"type": "TYPE_ETHERNET", "phy_label": "eth1", "logical_label": "eth1"}],
         "networks": [{"id": {"uuid": "n1"}, "ip": {"dhcp": "DHCP_TYPE_STATIC", "subnet": "198.51.100.0/24",
                       "gateway": "198.51.100.1"}}],
         "system_adapters": [{"name": "site", "lower_layer_name": "eth1", "network_uuid": "n1",
                              "addr": "198.51.100.77", "uplink": true}]}
        """);
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.probe.fail("eth0", "connection refused");
    world.start();
    // The controller's config is newer, so it was tried first; it failed, the override file works.
    assertThat(world.probe.probed).anyMatch(p -> p.startsWith("eth0@"));
    assertThat(world.network().getPortConfig()).isEqualTo("override");
    assertThat(world.network().getControllerPort()).isEqualTo("site");

    world.advance(Duration.ofSeconds(30));
    world.probe.probed.clear();
    world.restart();
    assertThat(world.network().getPortConfig()).isEqualTo("override");
    assertThat(world.network().getControllerPort()).isEqualTo("site");
    assertThat(world.probe.probed).as("the config that failed 30 s ago is not waited on again")
        .noneMatch(p -> p.startsWith("eth0@"));
    Subscription<ConfigListStatus> listStatus = world.watch(NimTopics.CONFIG_LIST_STATUS);
    world.settle();
    ConfigListStatus list = listStatus.get(NimAgent.GLOBAL).orElseThrow();
    assertThat(list.getConfigs(0).getKey()).as("the controller's config kept its rank").isEqualTo("zedagent");
    assertThat(list.getConfigs(0).getLastError()).contains("connection refused");

    // After the cooldown the better config is tried again, and a changed controller config at once.
    world.probe.heal("eth0");
    world.advance(NimTimers.DEFAULT.testBetterInterval());
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");
  }

  @Test
  void aNodeRestartedOnABadNewestControllerConfigFallsBackToTheOlderOneWithoutTheController() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.physicalIo.publish("eth1", eth("eth1"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.start();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");

    // The controller moves its uplink to eth1, from where it cannot be reached: nim falls back.
    world.probe.fail("eth1", "connection refused");
    world.adapters.unpublish("wan0");
    world.adapters.publish("wan1", staticUplink("wan1", "eth1", 0, NET1, "198.51.100.10"));
    world.advance(NimTimers.DEFAULT.addressWait().plusSeconds(5));
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(world.agent.verifier().currentIndex()).isEqualTo(1);

    // The node restarts with the controller unreachable: the bus has only the newest (bad) config.
    world.advance(Duration.ofSeconds(30));
    world.restart();
    world.advance(NimTimers.DEFAULT.addressWait().plusSeconds(5));
    assertThat(world.network().getControllerPort()).as("the older config, kept on disk, works again").isEqualTo("wan0");
    assertThat(world.host.network().addresses("eth0")).extracting(a -> a.prefix().toString()).contains("192.0.2.10/24");
    Subscription<ConfigListStatus> listStatus = world.watch(NimTopics.CONFIG_LIST_STATUS);
    world.settle();
    ConfigListStatus list = listStatus.get(NimAgent.GLOBAL).orElseThrow();
    assertThat(list.getConfigsList()).extracting(c -> c.getKey() + " " + c.getPortsList())
        .containsExactly("zedagent [wan1]", "zedagent [wan0]");
    assertThat(list.getCurrentIndex()).isEqualTo(1);
    assertThat(list.getConfigs(0).getLastError()).contains("connection refused");
  }

  @Test
  void aRestartDoesNotMakeTheControllerConfigNewerThanItWas() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");

    // An operator drops an override file, stamped after the controller's config arrived.
    long stamped = world.loop.now().toEpochMilli() + 10_000;
    java.nio.file.Path file = new NimSettings(world.stateDir).overrideFile();
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.writeString(file, """
        {"config_timestamp_ms": "%d",
         "device_io": [{"type": "TYPE_ETHERNET", "phy_label": "eth1", "logical_label": "eth1"}],
         "networks": [{"id": {"uuid": "n1"}, "ip": {"dhcp": "DHCP_TYPE_STATIC", "subnet": "198.51.100.0/24",
                       "gateway": "198.51.100.1"}}],
         "system_adapters": [{"name": "site", "lower_layer_name": "eth1", "network_uuid": "n1",
                              "addr": "198.51.100.77", "uplink": true}]}
        """.formatted(stamped));
    world.advance(Duration.ofSeconds(20));
    world.restart();
    assertThat(world.network().getPortConfig()).as("the override is newer than the controller's config").isEqualTo("override");
  }

  @Test
  void aLocalOverrideChangesOnlyPortsThatAllowItAndIsRevertedWhenCleared() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.adapters.publish("wan1", staticUplink("wan1", "eth1", 10, NET1, "198.51.100.10").toBuilder()
        .setAllowLocalModifications(true).build());
    world.start();
    var local = world.bus.publish(dev.verge.topics.ZedagentTopics.LOCAL_PORT_OVERRIDE,
        dev.verge.pubsub.Durability.VOLATILE);
    local.publish("override", dev.verge.proto.config.v1.DeviceConfig.newBuilder()
        .addNetworks(staticNet("local1", "198.51.100.0/24", "198.51.100.1", 1400))
        .addNetworks(staticNet("local0", "192.0.2.0/24", "192.0.2.1", 0))
        .addSystemAdapters(staticUplink("wan1", "", 0, "local1", "198.51.100.99"))
        .addSystemAdapters(staticUplink("wan0", "", 0, "local0", "192.0.2.99"))
        .build());
    world.settle();
    assertThat(world.host.network().addresses("eth1")).extracting(a -> a.prefix().toString())
        .contains("198.51.100.99/24").doesNotContain("198.51.100.10/24");
    assertThat(world.host.network().link("eth1").orElseThrow().mtu()).isEqualTo(1400);
    // wan0 does not allow local modifications: unchanged, and the refusal is reported.
    assertThat(world.host.network().addresses("eth0")).extracting(a -> a.prefix().toString()).contains("192.0.2.10/24");
    assertThat(world.network().getPortsList()).filteredOn(p -> p.getLabel().equals("wan0") && p.hasError())
        .extracting(p -> p.getError().getDescription())
        .containsExactly("local override refused: port 'wan0' does not allow local modifications");

    local.unpublish("override");
    world.settle();
    assertThat(world.host.network().addresses("eth1")).extracting(a -> a.prefix().toString())
        .contains("198.51.100.10/24").doesNotContain("198.51.100.99/24");
  }

  /** A port config file as a console operator or a USB stick leaves it: one static port on eth1. */
  void writePortFile(java.nio.file.Path file, String address) throws Exception {
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.writeString(file, """
        {"device_io": [{"type": "TYPE_ETHERNET", "phy_label": "eth1", "logical_label": "eth1"}],
         "networks": [{"id": {"uuid": "n1"}, "ip": {"dhcp": "DHCP_TYPE_STATIC", "subnet": "198.51.100.0/24",
                       "gateway": "198.51.100.1"}}],
         "system_adapters": [{"name": "site", "lower_layer_name": "eth1", "network_uuid": "n1",
                              "addr": "%s", "uplink": true}]}
        """.formatted(address));
  }

  List<String> listKeys() {
    return world.agent.verifier().entries().stream().map(e -> e.config().key()).toList();
  }

  /** wan0 on eth0 only, then the controller moves the device to wan1 on eth1 only. */
  void controllerMovesToEth1() {
    world.physicalIo.publish("eth0", eth("eth0"));
    world.physicalIo.publish("eth1", eth("eth1"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.networks.publish(NET1, staticNet(NET1, "198.51.100.0/24", "198.51.100.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.start();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    world.adapters.unpublish("wan0");
    world.adapters.publish("wan1", staticUplink("wan1", "eth1", 0, NET1, "198.51.100.10"));
    world.settle();
  }

  @Test
  void aNewControllerConfigThatFailsFallsBackToTheOneBeforeItUntilItWorks() {
    // EVE's DPCFallback: the controller config that worked stays behind the new one as its fallback.
    world = new NimWorld(dir, "eth0", "eth1");
    world.probe.fail("eth1", "connection refused");
    controllerMovesToEth1();
    assertThat(listKeys()).containsExactly("zedagent", "zedagent");
    assertThat(world.agent.verifier().currentIndex()).isEqualTo(1);
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(world.agent.verifier().reason()).endsWith("zedagent is tried again in 600 s");

    // The new config's upstream heals: test-better takes it, and the old one is dropped (compression).
    world.probe.heal("eth1");
    world.advance(NimTimers.DEFAULT.testBetterInterval());
    assertThat(world.network().getControllerPort()).isEqualTo("wan1");
    assertThat(world.agent.verifier().currentIndex()).isZero();
    assertThat(listKeys()).containsExactly("zedagent");
  }

  @Test
  void aBetterConfigThatKeepsFailingIsRetriedLessAndLessOftenBounded() {
    world = new NimWorld(dir, "eth0", "eth1");
    world.probe.fail("eth1", "connection refused");
    controllerMovesToEth1();
    Duration interval = NimTimers.DEFAULT.testBetterInterval();
    List<Long> attemptsAt = new ArrayList<>();
    long start = world.loop.now().toEpochMilli();
    for (int minute = 0; minute < 330; minute++) { // attempts due at 10, 30, 70, 150, 230, 310 minutes
      int before = eth1Probes();
      world.advance(Duration.ofMinutes(1));
      if (eth1Probes() > before) {
        attemptsAt.add((world.loop.now().toEpochMilli() - start) / 60_000);
      }
    }
    // 10, 20, 40, 80 minutes, then every 80 minutes (8 x the interval): less often, never never.
    List<Long> gaps = new ArrayList<>();
    for (int i = 1; i < attemptsAt.size(); i++) {
      gaps.add(attemptsAt.get(i) - attemptsAt.get(i - 1));
    }
    long m = interval.toMinutes();
    assertThat(attemptsAt.get(0)).isEqualTo(m);
    assertThat(gaps.subList(0, 5)).containsExactly(2 * m, 4 * m, 8 * m, 8 * m, 8 * m);
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
  }

  int eth1Probes() {
    return (int) world.probe.probed.stream().filter(p -> p.startsWith("eth1@")).count();
  }

  @Test
  void aManualConfigOutranksTheControllersAndFallbackNeverGoesPastIt() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0));
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.configItems.publish(NimAgent.FALLBACK_ANY_ETH,
        ConfigItem.newBuilder().setKey(NimAgent.FALLBACK_ANY_ETH).setValue("enabled").build());
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");

    // The operator's file (stamped 1980, older than everything) still goes first: it arrived last.
    world.probe.fail("eth1", "connection refused");
    writePortFile(new NimSettings(world.stateDir).manualFile(), "198.51.100.77");
    world.advance(NimAgent.FILE_SCAN);
    assertThat(listKeys()).containsExactly("manual", "zedagent", "lastresort");
    assertThat(world.probe.probed).endsWith("eth1@198.51.100.77");
    // It fails, yet nim does not fall back past it to the controller's config: it parks on it.
    assertThat(world.agent.verifier().phase()).isEqualTo(Verifier.Phase.PARKED);
    assertThat(world.network().getPortConfig()).isEqualTo("manual");

    world.probe.heal("eth1");
    world.advance(NimTimers.DEFAULT.probeInterval().plusSeconds(1));
    assertThat(world.network().getControllerPort()).isEqualTo("site");

    // A newer controller config outranks the manual one; once it works the manual one is dropped.
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.11"));
    world.settle();
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(listKeys()).containsExactly("zedagent", "lastresort");
    world.advance(NimAgent.FILE_SCAN.multipliedBy(3));
    assertThat(listKeys()).as("the same manual file does not come back").containsExactly("zedagent", "lastresort");
  }

  @Test
  void aNewControllerConfigOutranksAnOverrideFileStampedInTheFuture() throws Exception {
    world = new NimWorld(dir, "eth0", "eth1");
    java.nio.file.Path file = new NimSettings(world.stateDir).overrideFile();
    writePortFile(file, "198.51.100.77");
    long future = world.loop.now().toEpochMilli() + java.util.concurrent.TimeUnit.DAYS.toMillis(365);
    java.nio.file.Files.writeString(file, java.nio.file.Files.readString(file).replaceFirst("\\{",
        "{\"config_timestamp_ms\": \"" + future + "\","));
    world.start();
    assertThat(world.network().getPortConfig()).isEqualTo("override");

    twoStaticUplinks();
    world.settle();
    assertThat(listKeys()).containsExactly("zedagent", "override");
    assertThat(world.network().getPortConfig()).isEqualTo("zedagent");
  }

  @Test
  void backupPortsAreProbedWhileIdleAndMeteredOnesMuchMoreRarely() {
    world = new NimWorld(dir, "eth0", "eth1", "eth2");
    twoStaticUplinks(); // wan1 on eth1 has cost 10: metered
    world.physicalIo.publish("eth2", eth("eth2"));
    world.networks.publish("n2", staticNet("n2", "203.0.113.0/24", "203.0.113.1", 0));
    world.adapters.publish("wan2", staticUplink("wan2", "eth2", 0, "n2", "203.0.113.10")); // free backup
    world.start();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    world.probe.probed.clear();
    world.advance(Duration.ofMinutes(10).minusSeconds(1));
    long free = world.probe.probed.stream().filter(p -> p.startsWith("eth2@")).count();
    long metered = world.probe.probed.stream().filter(p -> p.startsWith("eth1@")).count();
    assertThat(free).as("every 30 s").isBetween(19L, 21L);
    assertThat(metered).as("every 5 minutes").isEqualTo(2);

    // The free backup went dead silently: a carrier loss on wan0 goes to the metered one that works.
    world.probe.fail("eth2", "connect timed out");
    world.advance(Duration.ofSeconds(31));
    long changes = world.network().getControllerPortChanges();
    world.host.kernel().setCarrier("eth0", false);
    world.settle();
    assertThat(world.network().getControllerPort()).isEqualTo("wan1");
    assertThat(world.network().getControllerPortChanges()).as("straight to wan1, not via the dead wan2").isEqualTo(changes + 1);
  }

  @Test
  void perPortCountersAndProbeResultsArePublishedAsMetrics() {
    world = new NimWorld(dir, "eth0", "eth1");
    twoStaticUplinks();
    world.start();
    var metrics = world.watch(NimTopics.METRICS);
    world.host.kernel().countTraffic("eth0", new dev.verge.hostos.LinkStats(7, 5, 7000, 5000, 1, 2, 3, 4, 0, 0));
    world.probe.failNext("eth0", 1, "connect timed out");
    world.advance(NimAgent.METRICS_INTERVAL);
    world.loop.execute(world.agent::publishMetrics); // a snapshot now: the timer's may precede the tick's probes
    world.settle();

    var message = metrics.get(NimAgent.NAME).orElseThrow(() -> new AssertionError("no nim metrics"));
    var eth0 = message.getInterfacesList().stream().filter(i -> i.getIfName().equals("eth0")).findFirst().orElseThrow();
    assertThat(List.of(eth0.getLabel(), eth0.getRxPackets(), eth0.getTxPackets(), eth0.getRxBytes(), eth0.getTxBytes(),
        eth0.getRxErrors(), eth0.getTxErrors(), eth0.getRxDrops(), eth0.getTxDrops()))
        .containsExactly("wan0", 7L, 5L, 7000L, 5000L, 1L, 2L, 3L, 4L);
    var probes = message.getControllerProbes();
    assertThat(probes.getCurrentPort()).isEqualTo("wan0");
    var wan0 = probes.getPortsList().stream().filter(p -> p.getPort().equals("wan0")).findFirst().orElseThrow();
    long eth0Probes = world.probe.probed.stream().filter(p -> p.startsWith("eth0@")).count();
    assertThat(wan0.getFailureCount()).isEqualTo(1);
    assertThat(wan0.getSuccessCount()).isEqualTo(eth0Probes - 1);
    assertThat(wan0.getLastRttUs()).isEqualTo(3000); // the fake probe's 3 ms
    assertThat(wan0.getRemoteHostUp()).isTrue();
    var wan1 = probes.getPortsList().stream().filter(p -> p.getPort().equals("wan1")).findFirst().orElseThrow();
    assertThat(wan1.getSuccessCount()).as("the backup's standby probe").isEqualTo(1);
  }

  @Test
  void aPortsProxyIsReportedAndItsControllerTestGoesThroughIt() {
    world = new NimWorld(dir, "eth0");
    world.physicalIo.publish("eth0", eth("eth0"));
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0).toBuilder()
        .setProxy(dev.verge.proto.config.v1.ProxyConfig.newBuilder().addProxies("http://192.0.2.3:3128")
            .addExceptions(".corp.example")).build());
    world.adapters.publish("wan0", staticUplink("wan0", "eth0", 0, NET0, "192.0.2.10"));
    world.start();
    assertThat(world.probe.requests).isNotEmpty().allSatisfy(r ->
        assertThat(r.proxy()).contains(new Port.Proxy("192.0.2.3", 3128, List.of(".corp.example"))));
    Subscription<DeviceNetworkStatus> status = world.watch(NimTopics.DEVICE_NETWORK_STATUS);
    world.observer.runPending();
    var wan0 = status.get(NimAgent.GLOBAL).orElseThrow().getPorts(0);
    assertThat(wan0.getProxy()).isEqualTo("http://192.0.2.3:3128");
    assertThat(wan0.getProxyExceptionsList()).containsExactly(".corp.example");

    // A proxy URL that does not parse: the port's precise error, the last good config keeps running.
    world.networks.publish(NET0, staticNet(NET0, "192.0.2.0/24", "192.0.2.1", 0).toBuilder()
        .setProxy(dev.verge.proto.config.v1.ProxyConfig.newBuilder().addProxies("http://proxy example")).build());
    world.settle();
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
    assertThat(world.network().getPortsList()).filteredOn(p -> p.hasError())
        .extracting(p -> p.getLabel() + ": " + p.getError().getDescription())
        .containsExactly("wan0: proxy URL 'http://proxy example' does not parse: Illegal character in authority at index 7");
  }

  @Test
  void aWifiPortIsReportedWithItsSsidsAndNoRadio() {
    world = new NimWorld(dir, "eth0", "wlan0");
    twoStaticUplinks();
    world.physicalIo.publish("wlan0", eth("wlan0").toBuilder().setType(dev.verge.proto.config.v1.PhysicalIo.Type.TYPE_WLAN).build());
    world.networks.publish("wifi", dhcp().toBuilder().setId(dev.verge.proto.common.v1.UuidAndVersion.newBuilder().setUuid("wifi"))
        .setWireless(PortConfigReaderTest.wifi(PortConfigReaderTest.psk("site-wifi", "correct horse"))).build());
    world.adapters.publish("air", uplink("air", "wlan0", 20, "wifi"));
    world.start();
    Subscription<DeviceNetworkStatus> status = world.watch(NimTopics.DEVICE_NETWORK_STATUS);
    world.observer.runPending();
    var air = status.get(NimAgent.GLOBAL).orElseThrow().getPortsList().stream().filter(p -> p.getLabel().equals("air"))
        .findFirst().orElseThrow();
    assertThat(air.getWireless().getType()).isEqualTo("wifi");
    assertThat(air.getWireless().getNetworksList()).containsExactly("site-wifi");
    assertThat(air.getWireless().getRadio()).isEqualTo("no radio is driven on this device: config and status only");
    assertThat(air.toString()).doesNotContain("correct horse");
    assertThat(world.network().getControllerPort()).isEqualTo("wan0");
  }
}
