package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.sim.Evaluation;
import dev.verge.hostos.sim.Packet;
import dev.verge.hostos.sim.SimFirewall;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.testkit.ManualClock;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch NI's ACLs in its {@code bridge} table, judged frame by frame in the sim firewall (which,
 * as this kernel, refuses conntrack in the bridge family): first match wins, both ways, implicit
 * ARP/DHCP/DNS, implicit drop, per-ACE counters, limits, and sender egress plus receiver ingress
 * between two apps.
 */
class SwitchNiFirewallTest {
  static final DeviceNetwork PORTS = ports(l2Port("lan", "eth1"));
  static final String APP = "192.0.2.21";
  static final String OTHER_APP = "192.0.2.22";
  static final String SERVER = "192.0.2.50";
  static final String ELSEWHERE = "192.0.2.60";

  @TempDir Path dir;
  ManualClock clock = new ManualClock();
  SimFirewall firewall = new SimFirewall(clock);
  NiSpec ni;

  @BeforeEach
  void compile() {
    ni = NiValidator.validate(Map.of(NI2, switchNi(NI2, "lan")), PORTS, Set.of()).get(NI2)
        .accepted().orElseThrow().toSpec(2);
    Ace[] acls = {
        ace(1, "ip", SERVER),
        drop(ace(2, "protocol", "tcp", "fport", "22")),
        ace(3, "protocol", "tcp", "fport", "80"),
        limit(ace(4, "protocol", "icmp"), 2, "s", 1)};
    List<VifPlan> vifs = plan(Map.of(APP1, app(APP1, "web", vif(NI2, acls)), APP2, app(APP2, "bare", vif(NI2))));
    assertThat(vifs).extracting(VifPlan::vifName).containsExactly("nbu1x1", "nbu1x2");
    Table table = NiFirewall.switchNi(ni, vifs);
    assertThat(table.ref()).isEqualTo(NiFirewall.tableRef(ni));
    assertThat(table.ref().family()).isEqualTo(NftFamily.BRIDGE);
    firewall.apply(NftBatch.replaceTable(table));
  }

  private List<VifPlan> plan(Map<String, AppInstanceConfig> apps) {
    Map<String, AppPlanner.AppPlan> plans = AppPlanner.plan(apps, Map.of(NI2, ni), Map.of(), new Allocators(dir));
    assertThat(plans.values()).allSatisfy(p -> assertThat(p.errors()).isEmpty());
    return new ArrayList<>(plans.values().stream().flatMap(p -> p.vifs().stream()).toList());
  }

  private Evaluation frame(Packet packet, String in, String out) {
    return firewall.evaluate(Hook.FORWARD, packet.in(in).out(out).asBridged());
  }

  private Evaluation fromApp(Packet packet) {
    return frame(packet, "nbu1x1", "eth1");
  }

  private Evaluation toApp(Packet packet) {
    return frame(packet, "eth1", "nbu1x1");
  }

  @Test
  void anAllowedFlowPassesBothWaysAndIsCountedPerFrame() {
    Packet request = Packet.tcp(APP, 40000, SERVER, 5000);
    Evaluation out = fromApp(request);
    assertThat(out.accepted()).isTrue();
    assertThat(out.counters()).containsExactly("ace-nbu1x1-1");
    // no conntrack on the bridge: the reply is let in by the same ACE, mirrored
    Evaluation back = toApp(request.reply());
    assertThat(back.accepted()).isTrue();
    assertThat(back.counters()).containsExactly("ace-nbu1x1-1");
    assertThat(firewall.counters(NiFirewall.tableRef(ni)).get("ace-nbu1x1-1").packets()).isEqualTo(2);
  }

  @Test
  void theFirstMatchingAceDecides() {
    assertThat(fromApp(Packet.tcp(APP, 40000, SERVER, 22)).counters()).containsExactly("ace-nbu1x1-1");
    Evaluation ssh = fromApp(Packet.tcp(APP, 40000, ELSEWHERE, 22));
    assertThat(ssh.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(ssh.counters()).containsExactly("ace-nbu1x1-2");
    Packet web = Packet.tcp(APP, 40001, ELSEWHERE, 80);
    assertThat(fromApp(web).counters()).containsExactly("ace-nbu1x1-3");
    assertThat(toApp(web.reply()).counters()).containsExactly("ace-nbu1x1-3");
    // a frame to port 80 of the app is not the app reaching a web server: fport is the far side's port
    Evaluation inbound = toApp(Packet.tcp(ELSEWHERE, 40000, APP, 80));
    assertThat(inbound.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(inbound.counters()).containsExactly("drop-nbu1x1");
  }

  @Test
  void whatNoAceAllowsIsDroppedAndCountedButArpDhcpAndDnsPass() {
    Evaluation other = fromApp(Packet.udp(APP, 5000, ELSEWHERE, 5000));
    assertThat(other.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(other.counters()).containsExactly("drop-nbu1x1");

    // the app without ACEs: only the implicit allows, both ways
    assertThat(frame(Packet.arp(OTHER_APP, SERVER), "nbu1x2", "eth1").matchedComments()).containsExactly("arp");
    assertThat(frame(Packet.arp(SERVER, OTHER_APP), "eth1", "nbu1x2").matchedComments()).containsExactly("arp");
    Packet discover = Packet.udp("0.0.0.0", 68, "255.255.255.255", 67);
    assertThat(frame(discover, "nbu1x2", "eth1").matchedComments()).containsExactly("dhcp");
    assertThat(frame(Packet.udp(SERVER, 67, OTHER_APP, 68), "eth1", "nbu1x2").matchedComments())
        .containsExactly("dhcp");
    Packet dns = Packet.udp(OTHER_APP, 33000, SERVER, 53);
    assertThat(frame(dns, "nbu1x2", "eth1").matchedComments()).containsExactly("dns");
    assertThat(frame(dns.reply(), "eth1", "nbu1x2").matchedComments()).containsExactly("dns");
    assertThat(frame(Packet.tcp(OTHER_APP, 33000, SERVER, 53), "nbu1x2", "eth1").accepted()).isTrue();
    Evaluation web = frame(Packet.tcp(OTHER_APP, 40000, SERVER, 80), "nbu1x2", "eth1");
    assertThat(web.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(web.counters()).containsExactly("drop-nbu1x2");
    // a port that is no VIF (the uplink to itself, say) is not the NI's to judge
    assertThat(frame(Packet.tcp(SERVER, 1, ELSEWHERE, 2), "eth1", "eth1").accepted()).isTrue();
  }

  @Test
  void betweenTwoAppsTheSendersEgressAndTheReceiversIngressBothDecide() {
    // the web app may reach port 80 anywhere, but the bare app lets nothing in
    Evaluation toBare = frame(Packet.tcp(APP, 40000, OTHER_APP, 80), "nbu1x1", "nbu1x2");
    assertThat(toBare.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(toBare.counters()).containsExactly("ace-nbu1x1-3", "drop-nbu1x2");
  }

  @Test
  void aLimitAceDropsWhatExceedsItsRate() {
    List<Evaluation.Outcome> pings = java.util.stream.IntStream.range(0, 4)
        .mapToObj(i -> fromApp(Packet.ping(APP, ELSEWHERE)).outcome()).toList();
    assertThat(pings).containsExactly(Evaluation.Outcome.ACCEPT, Evaluation.Outcome.ACCEPT,
        Evaluation.Outcome.ACCEPT, Evaluation.Outcome.DROP);
    assertThat(firewall.counters(NiFirewall.tableRef(ni)).get("ratedrop-nbu1x1-4").packets()).isEqualTo(1);
  }

  @Test
  void routedTrafficIsNotTheBridgeTablesToJudge() {
    Evaluation routed = firewall.evaluate(Hook.FORWARD, Packet.udp(APP, 5000, ELSEWHERE, 5000).in("nbu1x1").out("eth1"));
    assertThat(routed.accepted()).isTrue();
    assertThat(routed.counters()).isEmpty();
  }

  @Test
  void aOneWayAllowIsRefusedOnASwitchButAOneWayDropIsKept() {
    Ace egressAllow = ace(1, "ip", SERVER).toBuilder().setDir(Ace.Direction.DIRECTION_EGRESS).build();
    Ace ingressDrop = drop(ace(2, "ip", ELSEWHERE)).toBuilder().setDir(Ace.Direction.DIRECTION_INGRESS).build();
    Map<String, AppPlanner.AppPlan> plans = AppPlanner.plan(Map.of(APP1, app(APP1, "web", vif(NI2, egressAllow)),
        APP2, app(APP2, "other", vif(NI2, ingressDrop))), Map.of(NI2, ni), Map.of(), new Allocators(dir));
    assertThat(plans.get(APP1).errors()).extracting(NiError::reason, NiError::fieldPath)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("ACE_DIRECTION_ON_SWITCH", "interfaces[0].acls[0].dir"));
    assertThat(plans.get(APP1).errors().get(0).description()).contains("CONFIG_NF_CONNTRACK_BRIDGE");
    assertThat(plans.get(APP2).errors()).isEmpty();
  }
}
