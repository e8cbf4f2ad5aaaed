package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.nft.BaseChain;
import dev.verge.hostos.nft.Chain;
import dev.verge.hostos.nft.DataType;
import dev.verge.hostos.nft.Field;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.MapElement;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.NftJson;
import dev.verge.hostos.nft.NftMap;
import dev.verge.hostos.nft.NftSet;
import dev.verge.hostos.nft.Rule;
import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import dev.verge.hostos.nft.Value;
import dev.verge.testkit.ManualClock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The sim firewall's evaluation of each construct, and the checks it makes on batches. */
class SimFirewallTest {
  private static final TableRef FW = TableRef.of(NftFamily.INET, "fw");
  private final ManualClock clock = new ManualClock();
  private final SimFirewall firewall = new SimFirewall(clock);

  private static Rule rule(String comment, Stmt... statements) {
    return Rule.commented(comment, statements);
  }

  private static Chain forward(BaseChain.Policy policy, Rule... rules) {
    return Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, policy), List.of(rules));
  }

  private void install(Table table) {
    firewall.apply(NftBatch.replaceTable(table));
  }

  private Evaluation forwardTcp(String source, int port) {
    return firewall.evaluate(Hook.FORWARD, Packet.tcp(source, 40000, "192.0.2.9", port).in("lan0").out("wan0"));
  }

  @Test
  void aJumpReturnsToTheRuleAfterItAndAGotoDoesNot() {
    install(Table.of(NftFamily.INET, "fw")
        .withCounter("after-jump")
        .withChain(Chain.regular("sub", List.of(rule("sub-count")))) // ends: back to the caller
        .withChain(Chain.regular("to-drop", List.of(rule("in-goto", Stmt.match(Field.TCP_DPORT, Value.num(99)),
            Stmt.DROP))))
        .withChain(forward(BaseChain.Policy.DROP,
            rule("jump", Stmt.match(Field.TCP_DPORT, Value.num(22)), Stmt.jump("sub")),
            rule("goto", Stmt.match(Field.TCP_DPORT, Value.num(80)), Stmt.goTo("to-drop")),
            rule("after", Stmt.counter("after-jump"), Stmt.ACCEPT))));

    Evaluation jumped = forwardTcp("10.0.0.2", 22);
    assertThat(jumped.outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    assertThat(jumped.matchedComments()).containsExactly("jump", "after");
    assertThat(jumped.counters()).containsExactly("after-jump");

    // After the goto'd chain ends, the base chain's policy applies: "after" is never reached.
    Evaluation went = forwardTcp("10.0.0.2", 80);
    assertThat(went.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(went.trace()).extracting(Evaluation.Step::action).containsExactly("goto to-drop", "policy drop");
  }

  @Test
  void aReturnInTheBaseChainAppliesThePolicyAndOneInASubchainGoesBack() {
    install(Table.of(NftFamily.INET, "fw")
        .withChain(Chain.regular("sub", List.of(rule("back", Stmt.RETURN), rule("never", Stmt.DROP))))
        .withChain(forward(BaseChain.Policy.DROP,
            rule("jump", Stmt.jump("sub")),
            rule("early-return", Stmt.match(Field.TCP_DPORT, Value.num(1)), Stmt.RETURN),
            rule("accept", Stmt.ACCEPT))));
    assertThat(forwardTcp("10.0.0.2", 2).matchedComments()).containsExactly("jump", "back", "accept");
    Evaluation returned = forwardTcp("10.0.0.2", 1);
    assertThat(returned.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(returned.trace()).extracting(Evaluation.Step::action)
        .containsExactly("jump sub", "return", "return", "policy drop");
  }

  @Test
  void aVerdictMapHitDecidesAndAMissGoesOnToTheNextRule() {
    install(Table.of(NftFamily.INET, "fw")
        .withMap(new NftMap("ports", List.of(DataType.INET_SERVICE), DataType.VERDICT,
            java.util.Set.of(dev.verge.hostos.nft.SetFlag.INTERVAL), List.of(
                MapElement.of(Value.num(22), new Stmt.Accept()),
                MapElement.of(new Value.Range(Value.num(6000), Value.num(6010)), new Stmt.Drop()))))
        .withChain(forward(BaseChain.Policy.ACCEPT,
            rule("vmap", Stmt.vmap(Field.TCP_DPORT, "ports")),
            rule("fallback", Stmt.Reject.tcpReset()))));
    assertThat(forwardTcp("10.0.0.2", 22).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    assertThat(forwardTcp("10.0.0.2", 6005).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    Evaluation missed = forwardTcp("10.0.0.2", 23);
    assertThat(missed.outcome()).isEqualTo(Evaluation.Outcome.REJECT);
    assertThat(missed.matchedComments()).containsExactly("fallback");
  }

  @Test
  void intervalSetsMatchPrefixesAndRangesAndNotInvertsTheLookup() {
    install(Table.of(NftFamily.INET, "fw")
        .withSet(NftSet.intervals("nets", DataType.IPV4_ADDR, Value.prefix("10.1.0.0/16"),
            new Value.Range(Value.addr("192.0.2.10"), Value.addr("192.0.2.20"))))
        .withChain(forward(BaseChain.Policy.DROP,
            rule("in-set", Stmt.match(Field.IP_SADDR, Value.set("nets")), Stmt.ACCEPT),
            rule("not-in-set", Stmt.notMatch(Field.IP_SADDR, Value.set("nets")),
                Stmt.match(Field.TCP_DPORT, Value.num(443)), Stmt.ACCEPT))));
    assertThat(forwardTcp("10.1.255.3", 22).matchedComments()).containsExactly("in-set");
    assertThat(forwardTcp("192.0.2.20", 22).matchedComments()).containsExactly("in-set");
    assertThat(forwardTcp("192.0.2.21", 22).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(forwardTcp("10.2.0.1", 443).matchedComments()).containsExactly("not-in-set");
  }

  @Test
  void concatenatedKeysWildcardInterfacesAndAnonymousSetsMatch() {
    install(Table.of(NftFamily.INET, "fw")
        .withSet(new NftSet("pairs", List.of(DataType.IPV4_ADDR, DataType.INET_SERVICE), java.util.Set.of(),
            List.of(Value.concat(Value.addr("10.0.0.2"), Value.num(22)))))
        .withChain(forward(BaseChain.Policy.DROP,
            rule("pair", Stmt.match(Field.concat(Field.IP_SADDR, Field.TCP_DPORT), Value.set("pairs")), Stmt.ACCEPT),
            rule("vifs", Stmt.match(Field.IIFNAME, Value.name("nbu1x*")),
                Stmt.match(Field.TCP_DPORT, Value.anonSet(Value.num(80), Value.num(8080))), Stmt.ACCEPT))));
    assertThat(forwardTcp("10.0.0.2", 22).matchedComments()).containsExactly("pair");
    assertThat(forwardTcp("10.0.0.3", 22).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    Packet fromVif = Packet.tcp("10.0.0.3", 1000, "192.0.2.9", 8080).in("nbu1x2.1").out("wan0");
    assertThat(firewall.evaluate(Hook.FORWARD, fromVif).matchedComments()).containsExactly("vifs");
    assertThat(firewall.evaluate(Hook.FORWARD, fromVif.in("eth0")).outcome()).isEqualTo(Evaluation.Outcome.DROP);
  }

  @Test
  void aPortRuleDoesNotMatchAnotherProtocolEvenNegated() {
    install(Table.of(NftFamily.INET, "fw").withChain(forward(BaseChain.Policy.ACCEPT,
        rule("not-ssh", Stmt.notMatch(Field.TCP_DPORT, Value.num(22)), Stmt.DROP))));
    Packet udp = Packet.udp("10.0.0.2", 1000, "192.0.2.9", 53).in("lan0").out("wan0");
    assertThat(firewall.evaluate(Hook.FORWARD, udp).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    assertThat(forwardTcp("10.0.0.2", 23).outcome()).isEqualTo(Evaluation.Outcome.DROP);
  }

  @Test
  void dnatTranslatesForLaterChainsAndNatChainsSeeOnlyNewConnections() {
    install(Table.of(NftFamily.INET, "fw")
        .withMap(NftMap.of("portmap", DataType.INET_SERVICE, DataType.IPV4_ADDR,
            MapElement.of(Value.num(2222), Value.addr("10.0.0.22"))))
        .withChain(Chain.base("dnat", BaseChain.nat(Hook.PREROUTING, BaseChain.PRIORITY_DSTNAT), List.of(
            rule("http", Stmt.match(Field.TCP_DPORT, Value.num(8080)),
                Stmt.dnat(NftFamily.IP, Value.addr("10.0.0.80"), Optional.of(Value.num(80)))),
            rule("by-map", Stmt.dnat(NftFamily.IP, new Value.MapLookup(Field.TCP_DPORT, "portmap"), Optional.empty())))))
        .withChain(Chain.base("second-nat", BaseChain.nat(Hook.PREROUTING, 0), List.of(
            rule("never", Stmt.dnat(NftFamily.IP, Value.addr("10.9.9.9"), Optional.empty())))))
        .withChain(Chain.base("after", BaseChain.filter(Hook.PREROUTING, 10, BaseChain.Policy.ACCEPT), List.of(
            rule("sees-translated", Stmt.match(Field.IP_DADDR, Value.addr("10.0.0.80")),
                Stmt.match(Field.TCP_DPORT, Value.num(80)), Stmt.ACCEPT)))));
    Packet toPortmap = Packet.tcp("198.51.100.7", 5000, "192.0.2.1", 8080).in("wan0");
    Evaluation translated = firewall.evaluate(Hook.PREROUTING, toPortmap);
    assertThat(translated.nat()).containsExactly(new Evaluation.NatApplied(Stmt.NatKind.DNAT,
        Optional.of(IpPrefix.literal("10.0.0.80")), Optional.of(80)));
    assertThat(translated.packet().destination()).isEqualTo(IpPrefix.literal("10.0.0.80"));
    assertThat(translated.matchedComments()).containsExactly("http", "sees-translated");

    Evaluation mapped = firewall.evaluate(Hook.PREROUTING, Packet.tcp("198.51.100.7", 5000, "192.0.2.1", 2222));
    assertThat(mapped.packet().destination()).isEqualTo(IpPrefix.literal("10.0.0.22"));
    assertThat(mapped.packet().destinationPort()).isEqualTo(2222);

    // No mapping for the port: the map rule does not apply, and the next nat chain does.
    Evaluation unmapped = firewall.evaluate(Hook.PREROUTING, Packet.tcp("198.51.100.7", 5000, "192.0.2.1", 3333));
    assertThat(unmapped.matchedComments()).containsExactly("never");

    Evaluation established =
        firewall.evaluate(Hook.PREROUTING, toPortmap.withCtState(Packet.CtState.ESTABLISHED));
    assertThat(established.nat()).isEmpty();
    assertThat(established.packet().destination()).isEqualTo(IpPrefix.literal("192.0.2.1"));
  }

  @Test
  void snatAndMasqueradeAreRecordedInPostrouting() {
    install(Table.of(NftFamily.IP, "nat").withChain(
        Chain.base("post", BaseChain.nat(Hook.POSTROUTING, BaseChain.PRIORITY_SRCNAT), List.of(
            rule("masq", Stmt.match(Field.OIFNAME, Value.name("eth0")), Stmt.masquerade()),
            rule("snat", Stmt.match(Field.OIFNAME, Value.name("eth1")),
                Stmt.snat(NftFamily.IP, Value.addr("203.0.113.1")))))));
    Packet out = Packet.udp("10.0.0.2", 1000, "198.51.100.1", 53);
    assertThat(firewall.evaluate(Hook.POSTROUTING, out.out("eth0")).nat())
        .containsExactly(new Evaluation.NatApplied(Stmt.NatKind.MASQUERADE, Optional.empty(), Optional.empty()));
    Evaluation snat = firewall.evaluate(Hook.POSTROUTING, out.out("eth1"));
    assertThat(snat.packet().source()).isEqualTo(IpPrefix.literal("203.0.113.1"));
    // An ip table does not see IPv6.
    Packet v6 = Packet.udp("2001:db8::2", 1000, "2001:db8:1::1", 53).out("eth1");
    assertThat(firewall.evaluate(Hook.POSTROUTING, v6).nat()).isEmpty();
  }

  @Test
  void marksSetInOneChainAreSeenByLaterOnesAndMasksSelectBits() {
    install(Table.of(NftFamily.INET, "fw")
        .withChain(Chain.base("mangle", BaseChain.filter(Hook.FORWARD, -150, BaseChain.Policy.ACCEPT), List.of(
            rule("mark", Stmt.match(Field.IIFNAME, Value.name("lan0")), Stmt.setMark(Value.num(0x800005))),
            rule("save", Stmt.setCtMark(Field.MARK)))))
        .withChain(forward(BaseChain.Policy.ACCEPT,
            rule("drop-bit", Stmt.match(Field.masked(Field.CT_MARK, 0x800000), Value.num(0x800000)),
                Stmt.match(Field.masked(Field.MARK, 0xff), Value.num(5)), Stmt.DROP))));
    Evaluation marked = forwardTcp("10.0.0.2", 22);
    assertThat(marked.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(marked.packet().mark()).isEqualTo(0x800005);
    assertThat(marked.packet().ctMark()).isEqualTo(0x800005);
    Evaluation unmarked = firewall.evaluate(Hook.FORWARD, Packet.tcp("10.0.0.2", 1, "192.0.2.9", 22).in("lan1"));
    assertThat(unmarked.outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
  }

  @Test
  void mssClampingLowersTheMssOfSynsToTheRouteMtuAndNeverRaisesIt() {
    install(Table.of(NftFamily.INET, "fw").withChain(forward(BaseChain.Policy.ACCEPT,
        rule("mss", Stmt.tcpFlags("syn"), Stmt.clampMssToRouteMtu()))));
    Packet syn = Packet.tcp("10.0.0.2", 40000, "192.0.2.9", 80).in("lan0").out("wan0");
    assertThat(syn.tcpMss()).isEqualTo(Packet.ETHERNET_MSS);
    // a 1400-byte route carries 1400 - 20 (IP) - 20 (TCP) bytes of segment
    assertThat(firewall.evaluate(Hook.FORWARD, syn.withRouteMtu(1400)).packet().tcpMss()).isEqualTo(1360);
    // the SYN-ACK has the syn flag too
    assertThat(firewall.evaluate(Hook.FORWARD, syn.reply().withRouteMtu(1400)).packet().tcpMss()).isEqualTo(1360);
    // a smaller MSS than the route allows stays as it is
    assertThat(firewall.evaluate(Hook.FORWARD, syn.withTcp(536, "syn").withRouteMtu(1400)).packet().tcpMss())
        .isEqualTo(536);
    // segments without syn are not touched, nor UDP
    assertThat(firewall.evaluate(Hook.FORWARD, syn.withTcp(1460, "ack").withRouteMtu(1400)).packet().tcpMss())
        .isEqualTo(1460);
    assertThat(firewall.evaluate(Hook.FORWARD, Packet.udp("10.0.0.2", 1, "192.0.2.9", 53).withRouteMtu(1400))
        .accepted()).isTrue();
  }

  @Test
  void aLimitLetsRatePlusBurstThroughAtOnceThenRefillsWithTime() {
    install(Table.of(NftFamily.INET, "fw").withChain(forward(BaseChain.Policy.DROP,
        rule("limited", Stmt.limit(2, "second", 1), Stmt.ACCEPT))));
    List<Evaluation.Outcome> burst = java.util.stream.IntStream.range(0, 4)
        .mapToObj(i -> forwardTcp("10.0.0.2", 22).outcome()).toList();
    assertThat(burst).containsExactly(Evaluation.Outcome.ACCEPT, Evaluation.Outcome.ACCEPT,
        Evaluation.Outcome.ACCEPT, Evaluation.Outcome.DROP);
    clock.advance(Duration.ofMillis(499));
    assertThat(forwardTcp("10.0.0.2", 22).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    clock.advance(Duration.ofMillis(501));
    assertThat(forwardTcp("10.0.0.2", 22).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
  }

  @Test
  void aBridgeTableSeesOnlyBridgedFramesAndLogsArePrefixed() {
    install(Table.of(NftFamily.BRIDGE, "l2").withChain(
        Chain.base("fwd", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("spoof", Stmt.notMatch(Field.ETHER_SADDR, Value.mac("02:00:00:00:00:01")),
                Stmt.match(Field.IIFNAME, Value.name("vif1")), Stmt.log("spoof "), Stmt.DROP)))));
    Packet frame = Packet.udp("10.0.0.2", 68, "10.0.0.1", 67).in("vif1").withEtherSource("02:00:00:00:00:09");
    assertThat(firewall.evaluate(Hook.FORWARD, frame).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    Evaluation bridged = firewall.evaluate(Hook.FORWARD, frame.asBridged());
    assertThat(bridged.outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(bridged.logs()).singleElement().asString().startsWith("spoof ");
    Packet own = frame.withEtherSource("02:00:00:00:00:01").asBridged();
    assertThat(firewall.evaluate(Hook.FORWARD, own).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
  }

  @Test
  void aBridgeTableMatchesArpByEtherTypeAndHasNoConntrack() {
    install(Table.of(NftFamily.BRIDGE, "l2").withChain(
        Chain.base("fwd", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.DROP), List.of(
            rule("arp", Stmt.match(Field.ETHER_TYPE, Value.name("arp")), Stmt.ACCEPT),
            rule("ip", Stmt.match(Field.L4PROTO, Value.num(17)), Stmt.ACCEPT)))));
    Packet arp = Packet.arp("10.0.0.2", "10.0.0.1").in("vif1").out("eth1");
    assertThat(firewall.evaluate(Hook.FORWARD, arp).matchedComments()).containsExactly("arp");
    // an ARP packet has no IP header: protocol matches do not apply to it
    Packet udp = Packet.udp("10.0.0.2", 5, "10.0.0.1", 7).in("vif1").out("eth1").asBridged();
    assertThat(firewall.evaluate(Hook.FORWARD, udp).matchedComments()).containsExactly("ip");

    // this kernel has no CONFIG_NF_CONNTRACK_BRIDGE: nft refuses ct expressions in the bridge family
    HostException refused = catchThrowableOfType(HostException.class, () -> install(Table.of(NftFamily.BRIDGE, "l2")
        .withChain(Chain.base("fwd", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT),
            List.of(rule("established", Stmt.ctState("established"), Stmt.ACCEPT))))));
    assertThat(refused.errno()).isEqualTo(Errno.EPROTO);
    assertThat(firewall.evaluate(Hook.FORWARD, arp).matchedComments()).containsExactly("arp"); // unchanged
  }

  @Test
  void ctStateFlagsAndStatusMatch() {
    install(Table.of(NftFamily.INET, "fw").withChain(forward(BaseChain.Policy.DROP,
        rule("established", Stmt.ctState("established", "related"), Stmt.ACCEPT),
        rule("dnat-ed", new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")), Stmt.ACCEPT))));
    Packet packet = Packet.tcp("10.0.0.2", 1, "192.0.2.9", 22);
    assertThat(firewall.evaluate(Hook.FORWARD, packet).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(firewall.evaluate(Hook.FORWARD, packet.withCtState(Packet.CtState.RELATED)).matchedComments())
        .containsExactly("established");
    assertThat(firewall.evaluate(Hook.FORWARD, packet.withCtStatus("dnat", "confirmed")).matchedComments())
        .containsExactly("dnat-ed");
  }

  @Test
  void theJsonTheModelRendersAppliesToTheSameTable() {
    Table table = Table.of(NftFamily.INET, "fw")
        .withSet(NftSet.of("hosts", DataType.IPV4_ADDR, Value.addr("10.0.0.1")))
        .withChain(forward(BaseChain.Policy.DROP, rule("hosts", Stmt.match(Field.IP_SADDR, Value.set("hosts")),
            Stmt.ACCEPT)));
    firewall.apply(NftJson.render(NftBatch.replaceTable(table)));
    assertThat(firewall.table(FW)).contains(table);
    // Elements added later are typed by the set the firewall holds.
    firewall.apply(NftJson.render(NftBatch.of(
        new NftCommand.SetElements(FW, "hosts", List.of(Value.addr("10.0.0.2")), true))));
    assertThat(forwardTcp("10.0.0.2", 22).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    assertThat(NftJson.parseListing(firewall.listTable("inet", "fw")).table().sets().get(0).elements())
        .containsExactly(Value.addr("10.0.0.1"), Value.addr("10.0.0.2"));
  }

  @Test
  void badJsonIsRefusedWithTheParsersReason() {
    HostException refused = catchThrowableOfType(HostException.class, () -> firewall.apply("{\"nftables\": 1"));
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.object()).isEqualTo("nftables batch");
    assertThat(refused.reason()).startsWith("not JSON: ");
  }

  @Test
  void objectsInUseCannotBeDeletedAndMissingElementsCannotBeRemoved() {
    install(Table.of(NftFamily.INET, "fw")
        .withSet(NftSet.of("hosts", DataType.IPV4_ADDR, Value.addr("10.0.0.1")))
        .withChain(Chain.regular("sub", List.of()))
        .withChain(forward(BaseChain.Policy.ACCEPT,
            rule("uses", Stmt.match(Field.IP_SADDR, Value.set("hosts")), Stmt.jump("sub")))));
    HostException chainInUse = catchThrowableOfType(HostException.class,
        () -> firewall.apply(NftBatch.of(new NftCommand.DeleteChain(FW, "sub"))));
    assertThat(chainInUse.errno()).isEqualTo(Errno.EBUSY);
    assertThat(chainInUse.getMessage())
        .isEqualTo("cannot delete chain inet fw sub: Could not process rule: Device or resource busy (EBUSY)");
    HostException setInUse = catchThrowableOfType(HostException.class,
        () -> firewall.apply(NftBatch.of(new NftCommand.DeleteSet(FW, "hosts", false))));
    assertThat(setInUse.errno()).isEqualTo(Errno.EBUSY);
    HostException missing = catchThrowableOfType(HostException.class, () -> firewall.apply(NftBatch.of(
        new NftCommand.SetElements(FW, "hosts", List.of(Value.addr("10.0.0.9")), false))));
    assertThat(missing.errno()).isEqualTo(Errno.ENOENT);
    assertThat(missing.object()).isEqualTo("elements of set inet fw hosts");
    HostException otherHook = catchThrowableOfType(HostException.class, () -> firewall.apply(NftBatch.of(
        new NftCommand.AddChain(FW, "forward", Optional.of(BaseChain.filter(Hook.INPUT, 0,
            BaseChain.Policy.ACCEPT))))));
    assertThat(otherHook.errno()).isEqualTo(Errno.EEXIST);
    // Flush then delete works, in one batch.
    firewall.apply(NftBatch.of(new NftCommand.FlushChain(FW, "forward"), new NftCommand.DeleteChain(FW, "sub"),
        new NftCommand.DeleteSet(FW, "hosts", false)));
    assertThat(firewall.table(FW).orElseThrow().chains()).extracting(Chain::name).containsExactly("forward");
  }

  @Test
  void aNetdevIngressChainSeesOnlyItsDeviceAndAnOutputPacketsInputInterfaceIsEmpty() {
    install(Table.of(NftFamily.NETDEV, "edge").withChain(Chain.base("in",
        new BaseChain(BaseChain.Type.FILTER, Hook.INGRESS, 0, BaseChain.Policy.ACCEPT, Optional.of("eth0")),
        List.of(rule("bogons", Stmt.match(Field.IP_SADDR, Value.prefix("10.0.0.0/8")), Stmt.DROP)))));
    install(Table.of(NftFamily.INET, "fw").withChain(Chain.base("out",
        BaseChain.filter(Hook.OUTPUT, 0, BaseChain.Policy.ACCEPT),
        List.of(rule("not-from-lan", Stmt.notMatch(Field.IIFNAME, Value.name("lan0")), Stmt.DROP)))));
    Packet bogon = Packet.udp("10.0.0.2", 1, "192.0.2.1", 53);
    assertThat(firewall.evaluate(Hook.INGRESS, bogon.in("eth0")).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    assertThat(firewall.evaluate(Hook.INGRESS, bogon.in("eth1")).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    assertThat(firewall.evaluate(Hook.PREROUTING, bogon.in("eth0")).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
    // Locally sent: the input interface name is empty, which is not lan0 (the kernel agrees).
    assertThat(firewall.evaluate(Hook.OUTPUT, bogon.out("eth0")).outcome()).isEqualTo(Evaluation.Outcome.DROP);
    Packet fromLan = Packet.udp("10.0.0.2", 1, "192.0.2.1", 53).in("lan0").out("eth0");
    assertThat(firewall.evaluate(Hook.OUTPUT, fromLan).outcome()).isEqualTo(Evaluation.Outcome.ACCEPT);
  }

  @Test
  void aNetdevChainNeedsTheIngressHookAndADevice() {
    HostException refused = catchThrowableOfType(HostException.class, () -> install(Table.of(NftFamily.NETDEV,
        "edge").withChain(Chain.base("in", BaseChain.filter(Hook.INGRESS, 0, BaseChain.Policy.ACCEPT), List.of()))));
    assertThat(refused.errno()).isEqualTo(Errno.EOPNOTSUPP);
    assertThat(refused.object()).isEqualTo("chain netdev edge in");
  }
}
