package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.SimWorld;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.TableRef;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.NiUplink;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** zedrouter on the runtime with a sim host: inputs published on the bus, the kernel checked. */
class ZedrouterAgentTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"), l2Port("lan", "eth1"));

  @TempDir Path dir;
  SimWorld world;
  Publication<AppInstanceConfig> apps;
  Publication<DeviceNetwork> deviceNetwork;
  Subscription<NetworkInstanceStatus> niStatus;
  Subscription<AppNetworkStatus> appStatus;
  Subscription<AppVifPlan> vifPlans;
  Subscription<NiUplink> uplinks;

  @BeforeEach
  void world() {
    world = new SimWorld(dir.resolve("sim"));
    // nim's port, as nim would have it: up, with its address
    world.host.kernel().plugNic("eth0", 0);
    world.host.kernel().setUp("eth0", true);
    world.host.kernel().addAddress("eth0", IpPrefix.parse("192.0.2.10/24"));
    world.host.kernel().plugNic("eth1", 0);
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    deviceNetwork = world.bus.publish(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    deviceNetwork.publish("global", PORTS);
    niStatus = world.watch(ZedrouterTopics.NETWORK_INSTANCE_STATUS);
    appStatus = world.watch(ZedrouterTopics.APP_NETWORK_STATUS);
    vifPlans = world.watch(ZedrouterTopics.APP_VIF_PLAN);
    uplinks = world.watch(ZedrouterTopics.NI_UPLINK);
  }

  @AfterEach
  void close() {
    world.close();
  }

  private ZedrouterAgent start() {
    ZedrouterAgent agent = new ZedrouterAgent("node-1", dir.resolve("state"));
    world.start(agent);
    settle();
    return agent;
  }

  /**
   * Settles, then lets one more debounce pass: dnsmasq's readiness arrives on the loop after the
   * reconcile that started it, and the reconcile that records it is one debounce later.
   */
  private void settle() {
    world.settle();
    world.advance(SimWorld.SETTINGS.debounce());
  }

  private NetworkInstanceStatus status(String ni) {
    return niStatus.snapshot().get(ni);
  }

  private String linkName(int index) {
    return world.host.kernel().links().stream().filter(l -> l.index() == index).map(l -> l.name()).findFirst()
        .orElse("none");
  }

  private List<String> defaultGateways(int table) {
    return world.host.kernel().routes(table).stream().filter(r -> r.type() == RouteType.UNICAST
        && r.destination().length() == 0).map(r -> r.gateway().orElseThrow().getHostAddress()).toList();
  }

  private List<String> routes(int table) {
    return world.host.kernel().routes(table).stream().map(Route::toString).sorted().toList();
  }

  @Test
  void aLocalNiComesOnlineWithItsBridgeTableRulesAndNftablesAndNatOutOfTheUplink() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    start();

    NetworkInstanceStatus status = status(NI1);
    assertThat(status.getErrorsList()).isEmpty();
    assertThat(status.getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status.getBridgeName()).isEqualTo("bn1");
    assertThat(status.getBridgeIp()).isEqualTo("10.1.0.1");
    assertThat(status.getSelectedPort()).isEqualTo("eth0");
    assertThat(status.getErrorsList()).isEmpty();
    var bridge = world.host.kernel().link("bn1").orElseThrow();
    assertThat(bridge.kind()).isEqualTo("bridge");
    assertThat(bridge.up()).isTrue();
    assertThat(bridge.mac()).isEqualTo(MacScheme.bridge("node-1", 1));
    assertThat(world.host.kernel().addresses("bn1")).extracting(a -> a.prefix().toString()).containsExactly("10.1.0.1/24");
    assertThat(world.host.kernel().routes(801)).extracting(r -> r.destination() + " " + r.type() + " "
        + r.gateway().map(g -> g.getHostAddress()).orElse("-") + " " + linkName(r.linkIndex()))
        .containsExactlyInAnyOrder(
            "10.1.0.0/24 UNICAST - bn1",
            "192.0.2.0/24 UNICAST - eth0",
            "0.0.0.0/0 UNICAST 192.0.2.1 eth0",
            "0.0.0.0/0 UNREACHABLE - none");
    assertThat(world.host.network().rules(false)).extracting(Object::toString)
        .contains("10000: from 10.1.0.0/24 lookup 801", "11000: from all to 10.1.0.0/24 lookup 801");
    var table = world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1")).orElseThrow();
    assertThat(table.chain("postrouting").orElseThrow().rules()).singleElement()
        .satisfies(r -> assertThat(r.comment()).contains("nat out of eth0"));
    assertThat(world.host.sysctl().get("net.ipv4.ip_forward")).isEqualTo("1");
    assertThat(uplinks.snapshot().get(NI1).getIfName()).isEqualTo("eth0");
    assertThat(uplinks.snapshot().get(NI1).getReason()).isEqualTo("the only port of shared label uplink");
  }

  @Test
  void aBridgeTheLastRunLeftIsAdoptedAndResetToWhatANewBridgeWouldBe() {
    // what a node stopped or killed left on bn1: the NI's address and one of an older subnet, a port,
    // a route through it in the NI's table, VLAN filtering; none of it is in the new run's current state
    var kernel = world.host.kernel();
    kernel.createLink("bn1", new LinkSpec.Bridge(true));
    kernel.setUp("bn1", true);
    kernel.addAddress("bn1", IpPrefix.parse("10.1.0.1/24"));
    kernel.addAddress("bn1", IpPrefix.parse("10.9.0.1/24"));
    kernel.createLink("stale0", new LinkSpec.Dummy());
    kernel.setMaster("stale0", "bn1");
    kernel.addRoute(dev.verge.hostos.RouteRequest.onLink("10.77.0.0/16", "bn1").inTable(801));
    int leftoverIndex = kernel.link("bn1").orElseThrow().index();
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));

    start();

    assertThat(world.runtime.lastOutcome().orElseThrow().failedItems()).isEmpty();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    var bridge = kernel.link("bn1").orElseThrow();
    assertThat(bridge.index()).as("adopted, not deleted and created again").isEqualTo(leftoverIndex);
    assertThat(bridge.up()).isTrue();
    assertThat(bridge.mac()).isEqualTo(MacScheme.bridge("node-1", 1));
    assertThat(kernel.addresses("bn1")).extracting(a -> a.prefix().toString()).containsExactly("10.1.0.1/24");
    assertThat(kernel.link("stale0").orElseThrow().hasMaster()).as("the old port left the bridge").isFalse();
    assertThat(kernel.vlanFiltering("bn1")).isFalse();
    assertThat(routes(801)).noneMatch(r -> r.contains("10.77.0.0"));
    assertThat(defaultGateways(801)).containsExactly("192.0.2.1");
  }

  @Test
  void anNiOnTwoPortsFailsOverWhenItsPortStopsAnsweringItsProbeAndComesBackAfterTheHold() {
    world.host.kernel().setUp("eth1", true);
    world.host.kernel().addAddress("eth1", IpPrefix.parse("198.51.100.10/24"));
    deviceNetwork.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
        port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1")));
    java.util.Set<String> silent = java.util.concurrent.ConcurrentHashMap.newKeySet();
    UplinkProber.Timers timers = new UplinkProber.Timers(java.time.Duration.ofSeconds(3),
        java.time.Duration.ofSeconds(2), 4, 3, java.time.Duration.ofSeconds(30));
    UplinkProbe scripted = (target, done) -> done.accept(silent.contains(target.label())
        ? UplinkProbe.Result.failure("no answer from " + target.destination()) : UplinkProbe.Result.success());
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    world.start(new ZedrouterAgent("node-1", dir.resolve("state"), ZedrouterAgent.FLOW_LOG_INTERVAL, timers,
        host -> scripted));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth0");
    assertThat(defaultGateways(801)).containsExactly("192.0.2.1");

    silent.add("eth0"); // eth0 keeps its carrier and address: only the probe can tell
    world.advance(java.time.Duration.ofSeconds(9));
    settle();
    assertThat(status(NI1).getSelectedPort()).as("three misses are not enough").isEqualTo("eth0");
    world.advance(java.time.Duration.ofSeconds(3));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth1");
    // the failover's own reason stays: the uplink's other DNS servers reach dnsmasq without a restart
    // (whose end rebuilt the intent and renamed the reason "lowest cost ...")
    assertThat(status(NI1).getSelectedPortReason())
        .isEqualTo("failover to eth1: eth0 fails its probe (no answer from /192.0.2.1:0) (was eth0)");
    assertThat(uplinks.snapshot().get(NI1).getIfName()).isEqualTo("eth1");
    assertThat(defaultGateways(801)).containsExactly("198.51.100.1");
    var table = world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1")).orElseThrow();
    assertThat(table.chain("postrouting").orElseThrow().rules()).singleElement()
        .satisfies(r -> assertThat(r.comment()).contains("nat out of eth1"));

    silent.clear();
    world.advance(java.time.Duration.ofSeconds(12));
    settle();
    assertThat(status(NI1).getSelectedPort()).as("not back before the hold").isEqualTo("eth1");
    assertThat(status(NI1).getSelectedPortReason()).contains("anti-flap");
    world.advance(java.time.Duration.ofSeconds(30));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth0");
    assertThat(defaultGateways(801)).containsExactly("192.0.2.1");
  }

  @Test
  void aGatewayThatStopsAnsweringPingsMovesTheNiToTheOtherPortAndTheMetricsCountTheMisses() {
    world.host.kernel().setUp("eth1", true);
    world.host.kernel().addAddress("eth1", IpPrefix.parse("198.51.100.10/24"));
    deviceNetwork.publish("global", ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
        port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1")));
    UplinkProber.Timers timers = new UplinkProber.Timers(java.time.Duration.ofSeconds(3),
        java.time.Duration.ofSeconds(2), 4, 3, java.time.Duration.ofSeconds(30));
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    var metrics = world.watch(ZedrouterTopics.METRICS);
    // the node's own probe: the sim host's pinger decides which gateway answers
    world.start(new ZedrouterAgent("node-1", dir.resolve("state"), ZedrouterAgent.FLOW_LOG_INTERVAL, timers,
        ZedrouterAgent::defaultProbe));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth0");
    java.net.InetAddress gateway0 = IpPrefix.literal("192.0.2.1");
    java.net.InetAddress gateway1 = IpPrefix.literal("198.51.100.1");

    world.advance(java.time.Duration.ofSeconds(3)); // one round of pings that both gateways answer
    settle();
    assertThat(world.host.pinger().requests(gateway0)).isEqualTo(1);

    world.host.pinger().silence(gateway0); // eth0 keeps its carrier and address: only the ping can tell
    world.advance(java.time.Duration.ofSeconds(9));
    settle();
    assertThat(status(NI1).getSelectedPort()).as("three misses are not enough").isEqualTo("eth0");
    world.advance(java.time.Duration.ofSeconds(3));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth1");
    assertThat(status(NI1).getSelectedPortReason()).isEqualTo("failover to eth1: eth0 fails its probe (cannot ping"
        + " 192.0.2.1 from 192.0.2.10 on eth0: no echo reply within 2000 ms (ETIMEDOUT)) (was eth0)");
    assertThat(defaultGateways(801)).containsExactly("198.51.100.1");
    assertThat(world.host.pinger().requests(gateway1)).as("eth1's gateway is pinged too").isGreaterThanOrEqualTo(4);

    world.advance(ZedrouterAgent.METRICS_INTERVAL);
    settle();
    var probes = metrics.snapshot().get(ZedrouterAgent.NAME).getNetworkInstancesList().stream()
        .filter(n -> n.getNetworkUuid().equals(NI1)).findFirst().orElseThrow().getProbes(0);
    assertThat(probes.getCurrentPort()).isEqualTo("eth1");
    assertThat(probes.getCurrentPortReason()).startsWith("failover to eth1: eth0 fails its probe");
    assertThat(probes.getPortsList()).extracting(p -> p.getPort() + " " + p.getIfName() + " " + p.getState()
        + " gateway up " + p.getGatewayUp() + " tcp " + p.getTcpSuccessCount() + "/" + p.getTcpFailureCount())
        .containsExactly("eth0 eth0 DOWN gateway up false tcp 0/0", "eth1 eth1 UP gateway up true tcp 0/0");
    var eth0 = probes.getPorts(0);
    assertThat(eth0.getIcmpFailureCount()).isGreaterThanOrEqualTo(4);
    assertThat(eth0.getIcmpSuccessCount()).as("it answered before it was silenced").isPositive();
    assertThat(eth0.getLastIcmpSuccessMs()).isPositive();
    assertThat(eth0.getLastError()).contains("no echo reply");
    var eth1 = probes.getPorts(1);
    assertThat(eth1.getIcmpSuccessCount()).isGreaterThanOrEqualTo(4);
    assertThat(eth1.getIcmpFailureCount()).isZero();
    assertThat(eth1.getLastRttUs()).isEqualTo(1000);

    world.host.pinger().answer(gateway0);
    world.advance(java.time.Duration.ofSeconds(45));
    settle();
    assertThat(status(NI1).getSelectedPort()).as("back after the hold").isEqualTo("eth0");
  }

  @Test
  void staticRoutesGoIntoTheNisTableAndFollowTheUplink() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink").toBuilder()
        .addStaticRoutes(dev.verge.proto.config.v1.StaticRoute.newBuilder().setDestination("198.51.100.0/24")
            .setGateway("192.0.2.2"))
        .addStaticRoutes(dev.verge.proto.config.v1.StaticRoute.newBuilder().setDestination("172.16.0.0/12")
            .setGateway("10.1.0.5")).build());
    start();
    assertThat(routes801()).contains("198.51.100.0/24 via 192.0.2.2 eth0", "172.16.0.0/12 via 10.1.0.5 bn1");
    // the port loses its address: the router beyond it is out of reach, the app router is not
    deviceNetwork.publish("global", ports(port("eth0", "eth0", 0, "", ""), l2Port("lan", "eth1")));
    settle();
    assertThat(routes801()).contains("172.16.0.0/12 via 10.1.0.5 bn1").noneMatch(r -> r.startsWith("198.51.100.0/24"));
  }

  private List<String> routes801() {
    return world.host.kernel().routes(801).stream().map(r -> r.destination() + " via "
        + r.gateway().map(g -> g.getHostAddress()).orElse("-") + " " + linkName(r.linkIndex())).toList();
  }

  @Test
  void aceCountersAndResolvedHostsSurviveARewriteOfTheNisTable() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "198.51.100.0/24"), ace(2, "host", "example.com"))));
    start();
    TableRef ref = TableRef.of(NftFamily.INET, "zedrouter-bn1");
    var firewall = (dev.verge.hostos.sim.SimFirewall) world.host.firewall();
    firewall.evaluate(dev.verge.hostos.nft.Hook.FORWARD,
        dev.verge.hostos.sim.Packet.tcp("10.1.0.128", 40000, "198.51.100.7", 80).in("bn1").out("eth0"));
    // what dnsmasq adds when the app resolves the name
    firewall.apply(dev.verge.hostos.nft.NftBatch.of(new dev.verge.hostos.nft.NftCommand.SetElements(ref,
        NiFirewall.hostSet("example.com"), List.of(dev.verge.hostos.nft.Value.addr("93.184.216.34")), true)));
    assertThat(firewall.counters(ref).get("ace-nbu1x1-1").packets()).isEqualTo(1);

    // another ACE: the table is rewritten
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "198.51.100.0/24"), ace(2, "host", "example.com"),
        ace(3, "protocol", "udp"))));
    settle();
    assertThat(firewall.table(ref).orElseThrow().counters()).contains("ace-nbu1x1-3");
    assertThat(firewall.counters(ref).get("ace-nbu1x1-1").packets()).as("the count goes on").isEqualTo(1);
    assertThat(firewall.table(ref).orElseThrow().sets()).filteredOn(s -> s.name().equals(NiFirewall.hostSet("example.com")))
        .singleElement().satisfies(s -> assertThat(s.elements()).containsExactly(dev.verge.hostos.nft.Value.addr("93.184.216.34")));
  }

  @Test
  void theAppsDnsRequestsFromItsNisDnsmasqGoToItsFlowLogUnlessTheNiTurnsItOff() {
    var flows = world.watch(ZedrouterTopics.FLOW_LOGS);
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    start();
    var daemons = (dev.verge.hostos.sim.SimDaemons) world.host.daemons();
    daemons.output("dnsmasq-bn1", "dnsmasq[7]: 1 10.1.0.128/4000 query[A] example.com from 10.1.0.128");
    daemons.output("dnsmasq-bn1", "dnsmasq[7]: 1 10.1.0.128/4000 reply example.com is 93.184.216.34");
    settle();
    world.advance(ZedrouterAgent.FLOW_LOG_INTERVAL);
    world.settle();
    var requests = flows.snapshot().values().stream().flatMap(b -> b.getDnsRequestsList().stream()
        .map(r -> b.getScope().getVifName() + " " + r.getHostName() + " " + r.getAddrsList())).toList();
    assertThat(requests).containsExactly("nbu1x1 example.com [93.184.216.34]");

    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink").toBuilder().setDisableFlowlog(true).build());
    settle();
    daemons.output("dnsmasq-bn1", "dnsmasq[7]: 2 10.1.0.128/4001 query[A] example.org from 10.1.0.128");
    settle();
    world.advance(ZedrouterAgent.FLOW_LOG_INTERVAL);
    world.settle();
    assertThat(flows.snapshot().values().stream().flatMap(b -> b.getDnsRequestsList().stream())
        .map(r -> r.getHostName()).toList()).containsExactly("example.com");
  }

  @Test
  void aSlowDnsmasqHoldsUpOnlyItsOwnNi() {
    var daemons = (dev.verge.hostos.sim.SimDaemons) world.host.daemons();
    daemons.holdReadiness("dnsmasq-bn1");
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    start();
    assertThat(status(NI1).getState()).as("not ONLINE before its DHCP server is ready")
        .isEqualTo(NetworkInstanceStatus.State.STATE_INIT);

    world.networkInstances().publish(NI2, local(NI2, "10.2.0.0/24", "uplink"));
    settle();
    assertThat(status(NI2).getState()).as("the loop went on meanwhile").isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_INIT);

    daemons.releaseReadiness("dnsmasq-bn1");
    settle();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void aRefusedChangeIsReportedWhileTheLastGoodNiKeepsRunning() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    start();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);

    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/33", "eth0"));
    settle();

    NetworkInstanceStatus status = status(NI1);
    assertThat(status.getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ERROR);
    assertThat(status.getErrorsList()).singleElement().satisfies(e -> {
      assertThat(e.getReason()).isEqualTo("BAD_SUBNET");
      assertThat(e.getFieldPath()).isEqualTo("ip.subnet");
      assertThat(e.getDescription()).isEqualTo("subnet '10.1.0.0/33' is not an IP prefix");
      assertThat(e.getEntities(0).getId()).isEqualTo(NI1);
    });
    assertThat(status.getBridgeName()).isEqualTo("bn1"); // what runs is still reported
    assertThat(world.host.kernel().addresses("bn1")).extracting(a -> a.prefix().toString()).containsExactly("10.1.0.1/24");

    // another NI is unaffected by the bad one; a good config clears the error
    world.networkInstances().publish(NI2, local(NI2, "10.2.0.0/24", "eth0"));
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    settle();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status(NI2).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    assertThat(status(NI2).getBridgeName()).isEqualTo("bn2");
  }

  @Test
  void anNiThatNeverWorkedIsInErrorAndHasNoBridge() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "wan9"));
    start();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ERROR);
    assertThat(status(NI1).getErrors(0).getReason()).isEqualTo("UNKNOWN_UPLINK_LABEL");
    assertThat(world.host.kernel().links()).noneMatch(l -> l.kind().equals("bridge"));
  }

  @Test
  void theUplinkFollowsNimAndItsRoutesAreWithdrawnWhenThePortLosesItsAddress() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "uplink"));
    start();
    assertThat(routes(801)).hasSize(4);

    deviceNetwork.publish("global", ports(port("eth0", "eth0", 0, "", ""), l2Port("lan", "eth1")));
    settle();
    assertThat(status(NI1).getSelectedPort()).isEmpty();
    assertThat(uplinks.snapshot().get(NI1).getReason()).isEqualTo("no usable port for uplink: eth0 has no address");
    assertThat(world.host.kernel().routes(801)).extracting(r -> r.destination() + " " + r.type())
        .containsExactlyInAnyOrder("10.1.0.0/24 UNICAST", "0.0.0.0/0 UNREACHABLE");
    var table = world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1")).orElseThrow();
    assertThat(table.chain("postrouting").orElseThrow().rules()).isEmpty();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);

    deviceNetwork.publish("global", PORTS);
    settle();
    assertThat(routes(801)).hasSize(4);
    assertThat(status(NI1).getSelectedPort()).isEqualTo("eth0");
  }

  @Test
  void aFlowThatEndsIsLoggedForItsVifWithTheAceThatLetItThroughAndItsCounters() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(7, "ip", "0.0.0.0/0"))));
    start();
    var flowLogs = world.watch(ZedrouterTopics.FLOW_LOGS);
    var conntrack = (dev.verge.hostos.sim.SimConntrack) world.host.conntrack();

    var web = conntrack.track(6, "10.1.0.128", 40000, "192.0.2.1", 80);
    conntrack.update(web.id(), f -> new dev.verge.hostos.FlowEvent.Flow(f.kind(), f.id(), f.protocol(), f.source(),
        f.destination(), f.sourcePort(), f.destinationPort(), 5, 400, 4, 3000, 7));
    var devices = conntrack.track(6, "192.0.2.10", 40001, "192.0.2.1", 443); // the device's own: not logged
    awaitEventsOnTheLoop(3); // conntrack tells on a thread of its own, as the kernel's does
    settle();
    world.advance(java.time.Duration.ofSeconds(3));
    conntrack.destroy(web.id());
    conntrack.destroy(devices.id());
    awaitEventsOnTheLoop(2);
    settle();
    assertThat(flowLogs.snapshot()).as("published at the flush, not per flow").isEmpty();

    world.advance(ZedrouterAgent.FLOW_LOG_INTERVAL);
    assertThat(flowLogs.snapshot()).hasSize(1);
    var batch = flowLogs.snapshot().values().iterator().next();
    assertThat(batch.getScope().getVifName()).isEqualTo("nbu1x1");
    assertThat(batch.getScope().getAppUuid()).isEqualTo(APP1);
    assertThat(batch.getScope().getNetworkUuid()).isEqualTo(NI1);
    assertThat(batch.getFlowsList()).singleElement().satisfies(r -> {
      assertThat(r.getFlow().getSrc() + ":" + r.getFlow().getSrcPort() + " > " + r.getFlow().getDest() + ":"
          + r.getFlow().getDestPort()).isEqualTo("10.1.0.128:40000 > 192.0.2.1:80");
      assertThat(r.getAclId()).isEqualTo(7);
      assertThat(r.getAclName()).isEqualTo("ace7");
      assertThat(r.getInbound()).isFalse();
      assertThat(r.getTxBytes()).isEqualTo(400);
      assertThat(r.getRxBytes()).isEqualTo(3000);
      assertThat(r.getEndTimeMs() - r.getStartTimeMs()).isBetween(3000L, 3100L);
    });
    assertThat(world.host.sysctl().get("net.netfilter.nf_conntrack_acct")).isEqualTo("1");
  }

  @Test
  void anNiWithItsFlowLogOffLogsNoFlows() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0").toBuilder().setDisableFlowlog(true).build());
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(7, "ip", "0.0.0.0/0"))));
    start();
    var flowLogs = world.watch(ZedrouterTopics.FLOW_LOGS);
    var conntrack = (dev.verge.hostos.sim.SimConntrack) world.host.conntrack();
    var web = conntrack.track(6, "10.1.0.128", 40000, "192.0.2.1", 80);
    awaitEventsOnTheLoop(1);
    settle();
    conntrack.destroy(web.id());
    awaitEventsOnTheLoop(1);
    settle();
    world.advance(ZedrouterAgent.FLOW_LOG_INTERVAL);
    assertThat(flowLogs.snapshot()).isEmpty();
  }

  @Test
  void metricsTellEachVifsLinkCountersAndWhatEachAceMatched() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "198.51.100.0/24"), drop(ace(2, "protocol", "tcp",
        "fport", "22")))));
    start();
    world.host.kernel().plugNic("nbu1x1", 0); // domainmgr's tap
    settle();
    var metrics = world.watch(ZedrouterTopics.METRICS);
    var firewall = (dev.verge.hostos.sim.SimFirewall) world.host.firewall();
    // packets through the NI's forward chain, as the kernel would count them
    firewall.evaluate(dev.verge.hostos.nft.Hook.FORWARD,
        dev.verge.hostos.sim.Packet.tcp("10.1.0.128", 40000, "198.51.100.7", 443).in("bn1").out("eth0"));
    firewall.evaluate(dev.verge.hostos.nft.Hook.FORWARD,
        dev.verge.hostos.sim.Packet.tcp("10.1.0.128", 40001, "203.0.113.1", 22).in("bn1").out("eth0"));
    firewall.evaluate(dev.verge.hostos.nft.Hook.FORWARD,
        dev.verge.hostos.sim.Packet.tcp("10.1.0.128", 40002, "203.0.113.1", 80).in("bn1").out("eth0"));

    world.advance(ZedrouterAgent.METRICS_INTERVAL);
    var message = metrics.snapshot().get(ZedrouterAgent.NAME);
    assertThat(message.getNetworkInstancesList()).singleElement().satisfies(ni -> {
      assertThat(ni.getNetworkUuid()).isEqualTo(NI1);
      assertThat(ni.getInterfacesList()).extracting(i -> i.getIfName()).containsExactly("bn1", "nbu1x1");
      var vif = ni.getInterfaces(1);
      assertThat(vif.getAcesList()).extracting(a -> a.getAceId() + " " + a.getName() + " " + a.getPackets())
          .containsExactly("1 ace1 1", "2 ace2 1");
      assertThat(vif.getAclDrops()).as("the drop ACE's match and the implicit drop").isEqualTo(2);
    });
    assertThat(message.getAcl().getTotalDrops()).isEqualTo(2);
  }

  private void awaitEventsOnTheLoop(int count) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
        .until(() -> world.loop.pendingTasks() >= count);
  }

  @Test
  void aSwitchNiEnslavesItsPortAndHasNoAddressNorNat() {
    world.networkInstances().publish(NI1, switchNi(NI1, "lan"));
    start();
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
    int bridge = world.host.kernel().link("bn1").orElseThrow().index();
    assertThat(world.host.kernel().link("eth1").orElseThrow().masterIndex()).isEqualTo(bridge);
    assertThat(world.host.kernel().addresses("bn1")).isEmpty();
    assertThat(world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1"))).isEmpty();
  }

  @Test
  void appsGetVifPlansWithEvesNamesStableMacsAndAddressesFromTheRangeAndTheirTapsGoOnTheBridge() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps.publish(APP1, app(APP1, "web", vif(NI1, ace(1, "ip", "0.0.0.0/0"))));
    apps.publish(APP2, app(APP2, "db", vif(NI1)));
    start();

    var plan1 = vifPlans.snapshot().get(APP1).getVifs(0);
    var plan2 = vifPlans.snapshot().get(APP2).getVifs(0);
    assertThat(plan1.getVifName()).isEqualTo("nbu1x1");
    assertThat(plan2.getVifName()).isEqualTo("nbu1x2");
    assertThat(plan1.getIpAddress()).isEqualTo("10.1.0.128");
    assertThat(plan2.getIpAddress()).isEqualTo("10.1.0.129");
    assertThat(plan1.getBridge()).isEqualTo("bn1");
    assertThat(plan1.getMac()).isEqualTo(MacScheme.localVif(APP1, NI1, 1, 1).toString());
    assertThat(appStatus.snapshot().get(APP1).getVifs(0).getIpAddrsList()).containsExactly("10.1.0.128");
    assertThat(status(NI1).getIpAssignmentsList()).extracting(a -> a.getIpAddrs(0))
        .containsExactlyInAnyOrder("10.1.0.128", "10.1.0.129");

    // the NI's dnsmasq runs with a reservation per VIF
    assertThat(world.host.daemons().status("dnsmasq-bn1")).isPresent();
    var dhcpHosts = world.host.daemons().paths("dnsmasq-bn1").config().resolve("dhcp-hosts");
    assertThat(dhcpHosts.toFile().list()).containsExactlyInAnyOrder(plan1.getMac().replace(':', '-'),
        plan2.getMac().replace(':', '-'));

    // domainmgr creates the tap: zedrouter puts it on the bridge
    world.host.kernel().createLink("nbu1x1", new LinkSpec.Veth("peer-nbu1x1"));
    settle();
    int bridge = world.host.kernel().link("bn1").orElseThrow().index();
    assertThat(world.host.kernel().link("nbu1x1").orElseThrow().masterIndex()).isEqualTo(bridge);
    assertThat(world.host.kernel().link("nbu1x1").orElseThrow().up()).isTrue();
  }

  @Test
  void numbersSurviveARestartSoNamesMacsAndAddressesDoNotMove() {
    world.networkInstances().publish(NI2, local(NI2, "10.2.0.0/24", "eth0"));
    apps.publish(APP2, app(APP2, "db", vif(NI2)));
    start();
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps.publish(APP1, app(APP1, "web", vif(NI1)));
    settle();
    assertThat(status(NI2).getBridgeName()).isEqualTo("bn1");
    assertThat(status(NI1).getBridgeName()).isEqualTo("bn2");
    String mac = vifPlans.snapshot().get(APP1).getVifs(0).getMac();
    world.runtime.close();
    world.loop.runPending();

    // a new agent on the same state directory: sorted by UUID NI1 would come first, but keeps bn2
    ZedrouterAgent again = new ZedrouterAgent("node-1", dir.resolve("state"));
    world.start(again);
    assertThat(again.running().get(NI1).bridge()).isEqualTo("bn2");
    assertThat(again.running().get(NI2).bridge()).isEqualTo("bn1");
    assertThat(vifPlans.snapshot().get(APP1).getVifs(0).getMac()).isEqualTo(mac);
    assertThat(vifPlans.snapshot().get(APP1).getVifs(0).getVifName()).isEqualTo("nbu1x2");
  }

  @Test
  void appErrorsReachTheAppStatusAndOtherAppsAreUnaffected() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    world.networkInstances().publish(NI2, switchNi(NI2, "lan"));
    apps.publish(APP1, app(APP1, "bad",
        vif(NI1, drop(limit(ace(1, "protocol", "tcp"), 10, "s", 5)), ace(2, "fport", "80")),
        vif(NI2, portmap(ace(3, "protocol", "tcp", "lport", "8080"), 80), ace(4, "host", "example.com"))));
    apps.publish(APP2, app(APP2, "good", vif(NI1)));
    start();

    assertThat(appStatus.snapshot().get(APP1).getErrorsList()).extracting(e -> e.getReason() + " " + e.getFieldPath())
        .containsExactly(
            "TWO_ACTIONS interfaces[0].acls[0].actions",
            "PORT_WITHOUT_PROTOCOL interfaces[0].acls[1].matches",
            "PORTMAP_ON_SWITCH interfaces[1].acls[0].actions",
            "HOST_ACL_ON_SWITCH interfaces[1].acls[1].matches[0]");
    assertThat(appStatus.snapshot().get(APP1).getErrors(0).getDescription())
        .isEqualTo("an ACE takes one action, not limit and drop");
    assertThat(vifPlans.snapshot()).doesNotContainKey(APP1);
    assertThat(vifPlans.snapshot().get(APP2).getVifsCount()).isEqualTo(1);
    assertThat(status(NI1).getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void duplicateStaticIpsGoToTheLowerUuidAndTheOtherAppIsTold() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    apps.publish(APP2, app(APP2, "second", vif(NI1).toBuilder().setAddr("10.1.0.10").build()));
    apps.publish(APP1, app(APP1, "first", vif(NI1).toBuilder().setAddr("10.1.0.10").build()));
    start();
    assertThat(vifPlans.snapshot().get(APP1).getVifs(0).getIpAddress()).isEqualTo("10.1.0.10");
    assertThat(appStatus.snapshot().get(APP2).getErrorsList()).extracting(e -> e.getReason() + ": " + e.getDescription())
        .containsExactly("DUPLICATE_STATIC_IP: static IP 10.1.0.10 is already used by another VIF on network instance " + NI1);
  }

  @Test
  void deletingTheNiRemovesBridgeRoutesRulesAndTable() {
    world.networkInstances().publish(NI1, local(NI1, "10.1.0.0/24", "eth0"));
    start();
    world.networkInstances().unpublish(NI1);
    settle();
    assertThat(world.host.kernel().link("bn1")).isEmpty();
    assertThat(world.host.kernel().routes(801)).isEmpty();
    assertThat(world.host.network().rules(false)).noneMatch(r -> r.table() == 801);
    assertThat(world.host.firewall().table(TableRef.of(NftFamily.INET, "zedrouter-bn1"))).isEmpty();
    assertThat(niStatus.snapshot()).doesNotContainKey(NI1);
    assertThat(uplinks.snapshot()).doesNotContainKey(NI1);
  }
}
