package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.Value;
import dev.verge.hostos.sim.Evaluation;
import dev.verge.hostos.sim.Packet;
import dev.verge.hostos.sim.SimFirewall;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.testkit.ManualClock;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EVE's ACL semantics, checked by sending packets through the compiled ruleset in the sim
 * firewall: first match wins, allow/drop/limit, ip/host/protocol/port matches, port maps, the
 * implicit allows to the NI's own services and the implicit drop.
 */
class NiFirewallTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"));
  static final String WEB = "10.1.0.128"; // APP1's VIF nbu1x1
  static final String BARE = "10.1.0.129"; // APP2's VIF nbu1x2, no ACEs

  @TempDir Path dir;
  ManualClock clock = new ManualClock();
  SimFirewall firewall = new SimFirewall(clock);
  Table table;

  @BeforeEach
  void compile() {
    NiSpec ni = NiValidator.validate(Map.of(NI1, local(NI1, "10.1.0.0/24", "eth0")), PORTS, Set.of()).get(NI1)
        .accepted().orElseThrow().toSpec(1);
    Ace[] acls = {
        ace(1, "ip", "198.51.100.0/24"),
        drop(ace(2, "protocol", "tcp", "fport", "22")),
        ace(3, "protocol", "tcp", "fport", "443"),
        limit(ace(4, "protocol", "icmp"), 2, "s", 1),
        ace(5, "host", "example.com"),
        portmap(ace(6, "protocol", "tcp", "lport", "8080"), 80)};
    Map<String, AppInstanceConfig> apps = Map.of(APP1, app(APP1, "web", vif(NI1, acls)), APP2, app(APP2, "bare", vif(NI1)));
    Map<String, AppPlanner.AppPlan> plans = AppPlanner.plan(apps, Map.of(NI1, ni), Map.of(), new Allocators(dir));
    assertThat(plans.values()).allSatisfy(p -> assertThat(p.errors()).isEmpty());
    List<VifPlan> vifs = plans.values().stream().flatMap(p -> p.vifs().stream()).toList();
    assertThat(vifs).extracting(v -> v.vifName() + " " + v.ip().orElseThrow().getHostAddress())
        .containsExactly("nbu1x1 " + WEB, "nbu1x2 " + BARE);
    table = NiFirewall.localNi(ni, vifs);
    firewall.apply(NftBatch.replaceTable(table));
  }

  private Evaluation forward(Packet packet) {
    return firewall.evaluate(Hook.FORWARD, packet);
  }

  private static Packet out(Packet p) {
    return p.in("bn1").out("eth0");
  }

  @Test
  void theFirstMatchingAceDecidesAndIsCounted() {
    // ACE 1 allows the whole prefix, so ssh there passes although ACE 2 drops ssh
    Evaluation ssh = forward(out(Packet.tcp(WEB, 40000, "198.51.100.7", 22)));
    assertThat(ssh.accepted()).isTrue();
    assertThat(ssh.counters()).containsExactly("ace-nbu1x1-1");
    assertThat(ssh.packet().ctMark()).isEqualTo(1); // the deciding ACE, for flow logs

    Evaluation sshElsewhere = forward(out(Packet.tcp(WEB, 40000, "203.0.113.5", 22)));
    assertThat(sshElsewhere.accepted()).isFalse();
    assertThat(sshElsewhere.counters()).containsExactly("ace-nbu1x1-2");

    assertThat(forward(out(Packet.tcp(WEB, 40000, "203.0.113.5", 443))).counters()).containsExactly("ace-nbu1x1-3");
    Evaluation other = forward(out(Packet.udp(WEB, 40000, "203.0.113.5", 443)));
    assertThat(other.accepted()).isFalse();
    assertThat(other.counters()).containsExactly("drop-nbu1x1");
  }

  @Test
  void repliesOfAnAllowedFlowPassAndOnlyTheFirstPacketWalksTheAces() {
    Evaluation first = forward(out(Packet.tcp(WEB, 40000, "203.0.113.5", 443)));
    Packet established = first.packet().withCtState(Packet.CtState.ESTABLISHED);
    Evaluation next = forward(established);
    assertThat(next.accepted()).isTrue();
    assertThat(next.counters()).isEmpty();
    assertThat(next.matchedComments()).contains("established");

    Evaluation reply = forward(first.packet().reply());
    assertThat(reply.accepted()).isTrue();
    assertThat(reply.matchedComments()).contains("established");
  }

  @Test
  void aLimitAceLetsRatePlusBurstPassThenDropsAndCountsTheRest() {
    Packet ping = out(Packet.ping(WEB, "203.0.113.5"));
    List<Boolean> verdicts = new java.util.ArrayList<>();
    Evaluation last = null;
    for (int i = 0; i < 4; i++) {
      last = forward(i == 0 ? ping : ping.withCtState(Packet.CtState.ESTABLISHED).withCtMark((int) (4 | NiFirewall.MARK_LIMITED)));
      verdicts.add(last.accepted());
    }
    assertThat(verdicts).containsExactly(true, true, true, false);
    assertThat(last.counters()).containsExactly("ratedrop-nbu1x1-4");
    clock.advance(Duration.ofSeconds(1));
    assertThat(forward(ping).accepted()).isTrue();
  }

  @Test
  void aHostAceAllowsOnlyWhatTheNisDnsPutInItsSet() {
    Packet toHost = out(Packet.udp(WEB, 40000, "93.184.216.34", 5000));
    assertThat(forward(toHost).accepted()).isFalse();
    firewall.apply(NftBatch.of(new NftCommand.SetElements(NiFirewall.tableRef("bn1"), NiFirewall.hostSet("example.com"),
        List.of(Value.addr("93.184.216.34")), true)));
    Evaluation allowed = forward(toHost);
    assertThat(allowed.accepted()).isTrue();
    assertThat(allowed.counters()).containsExactly("ace-nbu1x1-5");
    assertThat(forward(out(Packet.udp(WEB, 40000, "93.184.216.35", 5000))).accepted()).isFalse();
  }

  @Test
  void aVifWithoutAcesReachesOnlyDhcpDnsAndMetadataOnItsNi() {
    assertThat(forward(out(Packet.tcp(BARE, 40000, "198.51.100.7", 80))).counters()).containsExactly("drop-nbu1x2");
    assertThat(forward(out(Packet.ping(BARE, "203.0.113.5"))).accepted()).isFalse();

    assertThat(firewall.evaluate(Hook.INPUT, Packet.udp("0.0.0.0", 68, "255.255.255.255", 67).in("bn1")).accepted()).isTrue();
    assertThat(firewall.evaluate(Hook.INPUT, Packet.udp(BARE, 5353, "10.1.0.1", 53).in("bn1")).accepted()).isTrue();
    assertThat(firewall.evaluate(Hook.INPUT, Packet.tcp(BARE, 5353, "10.1.0.1", 53).in("bn1")).accepted()).isTrue();
    assertThat(firewall.evaluate(Hook.INPUT, Packet.tcp(BARE, 40000, "10.1.0.1", 22).in("bn1")).accepted()).isFalse();
    assertThat(firewall.evaluate(Hook.INPUT, Packet.tcp(BARE, 40000, "10.1.0.1", 80).in("bn1")).accepted()).isFalse();

    Evaluation metadata = firewall.evaluate(Hook.PREROUTING, Packet.tcp(BARE, 40000, "169.254.169.254", 80).in("bn1"));
    assertThat(metadata.packet().destination().getHostAddress()).isEqualTo("10.1.0.1");
    assertThat(firewall.evaluate(Hook.INPUT, metadata.packet().withCtStatus("dnat")).accepted()).isTrue();
  }

  @Test
  void synsThroughTheNiHaveTheirMssClampedToTheRouteMtuBothWays() {
    // an uplink of MTU 1400 (say PPPoE): the app's SYN leaves with an MSS that fits it
    Evaluation syn = forward(out(Packet.tcp(WEB, 40000, "203.0.113.5", 443)).withRouteMtu(1400));
    assertThat(syn.accepted()).isTrue();
    assertThat(syn.packet().tcpMss()).isEqualTo(1360);
    // the upstream's SYN-ACK towards the app gets the same treatment
    Evaluation synAck = forward(syn.packet().reply().withTcp(1460, "syn", "ack").withRouteMtu(1400));
    assertThat(synAck.packet().tcpMss()).isEqualTo(1360);
    // traffic of other interfaces is not this NI's business
    assertThat(forward(Packet.tcp("192.0.2.7", 40000, "203.0.113.5", 443).in("eth1").out("eth0").withRouteMtu(1400))
        .packet().tcpMss()).isEqualTo(Packet.ETHERNET_MSS);
  }

  @Test
  void aSpoofedSourceOnTheBridgeIsDropped() {
    assertThat(forward(out(Packet.tcp("10.1.0.200", 40000, "198.51.100.7", 80))).accepted()).isFalse();
  }

  @Test
  void trafficOutOfTheUplinkIsMasqueradedAndOnlyThat() {
    Evaluation nat = firewall.evaluate(Hook.POSTROUTING, Packet.tcp(WEB, 40000, "198.51.100.7", 80).in("bn1").out("eth0"));
    assertThat(nat.nat()).extracting(n -> n.kind().nftName()).containsExactly("masquerade");
    assertThat(firewall.evaluate(Hook.POSTROUTING, Packet.tcp(WEB, 40000, "198.51.100.7", 80).in("bn1").out("eth1")).nat())
        .isEmpty();
  }

  @Test
  void aPortMapTranslatesTheUplinksPortToTheAppAndOnlyMappedTrafficGetsIn() {
    Evaluation dnat = firewall.evaluate(Hook.PREROUTING, Packet.tcp("203.0.113.9", 5555, "192.0.2.10", 8080).in("eth0"));
    assertThat(dnat.packet().destination().getHostAddress()).isEqualTo(WEB);
    assertThat(dnat.packet().destinationPort()).isEqualTo(80);
    Evaluation in = forward(dnat.packet().withCtStatus("dnat").out("bn1"));
    assertThat(in.accepted()).isTrue();
    assertThat(in.counters()).containsExactly("ace-nbu1x1-6");

    // the same port reached without the map (say, routed from upstream) is not let in
    Evaluation direct = forward(Packet.tcp("203.0.113.9", 5555, WEB, 80).in("eth0").out("bn1"));
    assertThat(direct.accepted()).isFalse();
    assertThat(direct.counters()).containsExactly("drop-nbu1x1");
    // an ACE applies both ways (ACE 1's prefix may connect in), as in EVE, unless its direction says otherwise
    assertThat(forward(Packet.tcp("198.51.100.7", 5555, WEB, 80).in("eth0").out("bn1")).counters())
        .containsExactly("ace-nbu1x1-1");
  }

  @Test
  void anAppOfTheNiReachesAMappedPortAtTheDevicesAddressThroughTheDevice() {
    Evaluation dnat = firewall.evaluate(Hook.PREROUTING, Packet.tcp(BARE, 40000, "192.0.2.10", 8080).in("bn1"));
    assertThat(dnat.packet().destination().getHostAddress()).isEqualTo(WEB);
    assertThat(dnat.packet().destinationPort()).isEqualTo(80);
    // back out onto the same bridge: the source becomes the gateway, so WEB answers through the device
    Evaluation snat = firewall.evaluate(Hook.POSTROUTING, dnat.packet().withCtStatus("dnat").out("bn1"));
    assertThat(snat.nat()).extracting(n -> n.kind().nftName()).containsExactly("masquerade");
    // without the map the device's address is nothing of the app's: no translation
    assertThat(firewall.evaluate(Hook.PREROUTING, Packet.tcp(BARE, 40000, "192.0.2.10", 8081).in("bn1"))
        .packet().destination().getHostAddress()).isEqualTo("192.0.2.10");
    // traffic between apps of the NI that was not translated is bridged, never masqueraded
    assertThat(firewall.evaluate(Hook.POSTROUTING, Packet.tcp(BARE, 40000, WEB, 80).in("bn1").out("bn1")).nat())
        .isEmpty();
  }

  @Test
  void anAppOfAnotherNiReachesAMappedPortAtTheDevicesAddressAsAMarkedFlowAndNothingElseOfTheApp() {
    Evaluation dnat = firewall.evaluate(Hook.PREROUTING, Packet.tcp("10.2.0.128", 40000, "192.0.2.10", 8080).in("bn2"));
    assertThat(dnat.packet().destination().getHostAddress()).isEqualTo(WEB);
    assertThat(dnat.packet().mark()).as("routed by the hairpin table").isEqualTo((int) NiFirewall.MARK_HAIRPIN);
    Evaluation in = forward(dnat.packet().withCtStatus("dnat").out("bn1"));
    assertThat(in.accepted()).isTrue();
    assertThat(in.counters()).containsExactly("ace-nbu1x1-6");
    assertThat(in.packet().ctMark()).as("the flow keeps the bit for its replies")
        .isEqualTo((int) (6 | NiFirewall.MARK_HAIRPIN));
    // later packets and replies of the flow get the bit back before routing
    Evaluation reply = firewall.evaluate(Hook.PREROUTING, Packet.tcp(WEB, 80, "10.2.0.128", 40000).in("bn1")
        .withCtState(Packet.CtState.ESTABLISHED).withCtMark(in.packet().ctMark()));
    assertThat(reply.packet().mark()).isEqualTo((int) NiFirewall.MARK_HAIRPIN);
    // the other NI's app reaching the app directly, without the map, is dropped
    Evaluation direct = forward(Packet.tcp("10.2.0.128", 40000, WEB, 80).in("bn2").out("bn1"));
    assertThat(direct.accepted()).isFalse();
    // from upstream the map is unmarked: it needs no hairpin route
    assertThat(firewall.evaluate(Hook.PREROUTING, Packet.tcp("203.0.113.9", 5555, "192.0.2.10", 8080).in("eth0"))
        .packet().mark()).isZero();
  }

  @Test
  void theRulesetHasOneChainPairPerVifAndVerdictMapsSoCostDoesNotGrowWithVifs() {
    assertThat(table.chains()).extracting(c -> c.name())
        .containsExactly("forward", "input", "prerouting", "postrouting", "hairpin-route", "eg-nbu1x1", "in-nbu1x1", "eg-nbu1x2", "in-nbu1x2");
    assertThat(table.maps()).extracting(m -> m.name() + " " + m.elements().size()).containsExactly("egress 2", "ingress 2");
    assertThat(IpPrefix.parse("10.1.0.0/24").contains(IpPrefix.literal(WEB))).isTrue();
  }

  @Test
  void anAcesDirectionIsHonouredUnlikeEve() {
    NiSpec ni = NiValidator.validate(Map.of(NI1, local(NI1, "10.1.0.0/24", "eth0")), PORTS, Set.of()).get(NI1)
        .accepted().orElseThrow().toSpec(1);
    Ace egressOnly = ace(7, "ip", "203.0.113.0/24").toBuilder().setDir(Ace.Direction.DIRECTION_EGRESS).build();
    Ace ingressOnly = ace(8, "ip", "198.51.100.0/24").toBuilder().setDir(Ace.Direction.DIRECTION_INGRESS).build();
    var plans = AppPlanner.plan(Map.of(APP1, app(APP1, "web", vif(NI1, egressOnly, ingressOnly))), Map.of(NI1, ni),
        Map.of(), new Allocators(dir.resolve("dir")));
    SimFirewall fw = new SimFirewall(clock);
    fw.apply(NftBatch.replaceTable(NiFirewall.localNi(ni, plans.get(APP1).vifs())));

    assertThat(fw.evaluate(Hook.FORWARD, out(Packet.tcp(WEB, 40000, "203.0.113.5", 80))).counters())
        .containsExactly("ace-nbu1x1-7");
    assertThat(fw.evaluate(Hook.FORWARD, Packet.tcp("203.0.113.5", 40000, WEB, 80).withCtStatus("dnat").in("eth0")
        .out("bn1")).counters()).containsExactly("drop-nbu1x1");
    assertThat(fw.evaluate(Hook.FORWARD, out(Packet.tcp(WEB, 40000, "198.51.100.5", 80))).counters())
        .containsExactly("drop-nbu1x1");
    assertThat(fw.evaluate(Hook.FORWARD, Packet.tcp("198.51.100.5", 40000, WEB, 80).in("eth0").out("bn1")).counters())
        .containsExactly("ace-nbu1x1-8");
  }
}
