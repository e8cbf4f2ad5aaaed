package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.sim.Evaluation;
import dev.verge.hostos.sim.Packet;
import dev.verge.hostos.sim.SimFirewall;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EVE's {@code eidset} (the far side is one of the NI's own endpoints) and {@code adapter} (the
 * traffic's device port, by label) matches: compiled, judged by the sim firewall, refused precisely
 * where they mean nothing.
 */
class AclMatchTypesTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
      port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1"), l2Port("lan", "eth2"));
  static final String WEB = "10.1.0.128"; // APP1's VIF nbu1x1
  static final String PEER = "10.1.0.129"; // APP2's VIF nbu1x2

  @TempDir Path dir;
  SimFirewall firewall = new SimFirewall();

  private NiSpec ni(dev.verge.proto.config.v1.NetworkInstanceConfig config, String uuid) {
    return NiValidator.validate(Map.of(uuid, config), PORTS, Set.of()).get(uuid).accepted().orElseThrow().toSpec(1);
  }

  private Map<String, AppPlanner.AppPlan> plan(NiSpec ni, Map<String, AppInstanceConfig> apps) {
    return AppPlanner.plan(apps, Map.of(ni.uuid(), ni), Map.of(), new Allocators(dir));
  }

  private List<VifPlan> vifs(Map<String, AppPlanner.AppPlan> plans) {
    assertThat(plans.values()).allSatisfy(p -> assertThat(p.errors()).isEmpty());
    return plans.values().stream().flatMap(p -> p.vifs().stream()).toList();
  }

  private Evaluation forward(Packet packet) {
    return firewall.evaluate(Hook.FORWARD, packet);
  }

  @Test
  void eidsetLetsAnNisAppsTalkAndAdapterMatchesTheUplinkPort() {
    NiSpec ni = ni(local(NI1, "10.1.0.0/24", "uplink"), NI1); // eth0 in use, eth1 the other candidate
    Ace[] web = {
        ace(1, "eidset", ""),
        drop(ace(2, "adapter", "eth0", "protocol", "tcp", "fport", "22")),
        ace(3, "adapter", "uplink"),
        ace(4, "adapter", "eth1")};
    List<VifPlan> vifs = vifs(plan(ni, Map.of(APP1, app(APP1, "web", vif(NI1, web)),
        APP2, app(APP2, "peer", vif(NI1, ace(1, "eidset", ""))))));
    Table table = NiFirewall.localNi(ni, vifs);
    firewall.apply(NftBatch.replaceTable(table));

    // eidset: the NI's own apps, whichever way
    Evaluation toPeer = forward(Packet.tcp(WEB, 40000, PEER, 5000).in("bn1").out("bn1"));
    assertThat(toPeer.accepted()).isTrue();
    assertThat(toPeer.counters()).containsExactly("ace-nbu1x1-1");
    assertThat(forward(Packet.tcp("198.51.100.7", 40000, PEER, 5000).in("eth0").out("bn1")).counters())
        .containsExactly("drop-nbu1x2");
    assertThat(forward(Packet.tcp(PEER, 40000, "198.51.100.7", 5000).in("bn1").out("eth0")).counters())
        .as("the peer's eidset ACE lets it reach no one outside the NI").containsExactly("drop-nbu1x2");

    // adapter: by the port the traffic leaves by
    Evaluation ssh = forward(Packet.tcp(WEB, 40000, "203.0.113.5", 22).in("bn1").out("eth0"));
    assertThat(ssh.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(ssh.counters()).containsExactly("ace-nbu1x1-2");
    assertThat(forward(Packet.tcp(WEB, 40000, "203.0.113.5", 443).in("bn1").out("eth0")).counters())
        .containsExactly("ace-nbu1x1-3");
    assertThat(forward(Packet.tcp("203.0.113.5", 443, WEB, 40000).in("eth0").out("bn1").withCtState(Packet.CtState.NEW))
        .counters()).as("ingress: the port it came in by").containsExactly("ace-nbu1x1-3");
    // ACE 4 names the other candidate, not in use: it is left out until a failover makes it the uplink
    assertThat(comments(table)).doesNotContain("ace 4 ace4");
    NiSpec failedOver = ni.withUplink(new UplinkChoice("uplink", ni.uplink().candidates(),
        Optional.of(PORTS.getPorts(1)), "eth0 is down"));
    Table after = NiFirewall.localNi(failedOver, vifs);
    assertThat(comments(after)).contains("ace 4 ace4").doesNotContain("ace 2 ace2");
    firewall.apply(NftBatch.replaceTable(after));
    assertThat(forward(Packet.tcp(WEB, 40000, "203.0.113.5", 22).in("bn1").out("eth1")).counters())
        .containsExactly("ace-nbu1x1-3");
  }

  @Test
  void aPortMapWithAnAdapterAppliesOnlyOnThatPort() {
    NiSpec ni = ni(local(NI1, "10.1.0.0/24", "uplink"), NI1);
    Ace onEth0 = portmap(ace(1, "protocol", "tcp", "lport", "8080", "adapter", "eth0"), 80);
    Ace onEth1 = portmap(ace(2, "protocol", "tcp", "lport", "8081", "adapter", "eth1"), 81);
    Table table = NiFirewall.localNi(ni, vifs(plan(ni, Map.of(APP1, app(APP1, "web", vif(NI1, onEth0, onEth1))))));
    assertThat(comments(table)).contains("portmap ace-nbu1x1-1").doesNotContain("portmap ace-nbu1x1-2");
  }

  private static List<String> comments(Table table) {
    return table.chains().stream().flatMap(c -> c.rules().stream()).flatMap(r -> r.comment().stream()).toList();
  }

  @Test
  void eidsetAndAdapterAreRefusedWhereTheyMeanNothing() {
    NiSpec local = ni(local(NI1, "10.1.0.0/24", "eth0"), NI1);
    Map<String, AppPlanner.AppPlan> plans = plan(local, Map.of(
        APP1, app(APP1, "a", vif(NI1, ace(1, "adapter", "wlan0"), ace(2, "eidset", "", "host", "example.com")))));
    assertThat(plans.get(APP1).errors()).extracting(e -> e.reason() + " " + e.fieldPath() + " " + e.description())
        .containsExactly(
            "UNKNOWN_ACE_ADAPTER interfaces[0].acls[0].matches[0] adapter 'wlan0' is no port of network instance "
                + NI1 + " (its ports: eth0)",
            "EIDSET_WITH_HOST interfaces[0].acls[1].matches an ACE matches eidset or host, not both (the far side is"
                + " either one of the NI's endpoints or the named host)");

    NiSpec airGapped = ni(local(NI1, "10.1.0.0/24", ""), NI1);
    assertThat(plan(airGapped, Map.of(APP1, app(APP1, "a", vif(NI1, ace(1, "adapter", "eth0"))))).get(APP1).errors())
        .extracting(NiError::description).singleElement().asString().endsWith("(it is air-gapped)");

    NiSpec sw = ni(switchNi(NI2, "lan"), NI2);
    Map<String, AppPlanner.AppPlan> onSwitch = AppPlanner.plan(Map.of(APP1, app(APP1, "a",
        vif(NI2, ace(1, "eidset", ""), ace(2, "adapter", "lan")))), Map.of(NI2, sw), Map.of(), new Allocators(dir));
    assertThat(onSwitch.get(APP1).errors()).extracting(NiError::reason).containsExactly("EIDSET_ON_SWITCH");
  }

  @Test
  void onASwitchNiAdapterMatchesFramesToAndFromItsPort() {
    NiSpec sw = ni(switchNi(NI2, "lan"), NI2);
    List<VifPlan> vifs = AppPlanner.plan(Map.of(APP1, app(APP1, "a", vif(NI2, ace(1, "adapter", "lan")))),
        Map.of(NI2, sw), Map.of(), new Allocators(dir)).get(APP1).vifs();
    firewall.apply(NftBatch.replaceTable(NiFirewall.switchNi(sw, vifs)));
    Packet out = Packet.udp("192.0.2.5", 5000, "192.0.2.9", 5000).asBridged();
    assertThat(forward(out.in("nbu1x1").out("eth2")).counters()).containsExactly("ace-nbu1x1-1");
    assertThat(forward(out.reply().in("eth2").out("nbu1x1")).counters()).containsExactly("ace-nbu1x1-1");
    assertThat(forward(out.in("nbu1x1").out("nbu1x9")).counters()).containsExactly("drop-nbu1x1");
  }
}
