package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.nft.BaseChain;
import dev.verge.hostos.nft.Chain;
import dev.verge.hostos.nft.CounterValues;
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
import dev.verge.hostos.nft.SetFlag;
import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import dev.verge.hostos.nft.Value;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Firewall} does, run on the sim and on Linux inside a namespace, so the sim is
 * proven against the kernel. The traffic path is fixed: a client 10.1.0.2 behind the router's
 * {@code lan0} pings a server 10.2.0.2 behind its {@code wan0}, through the router's forward hook.
 */
public abstract class FirewallContract {
  protected static final TableRef FW = TableRef.of(NftFamily.INET, "vgfw");

  protected abstract Firewall firewall();

  /**
   * Sends {@code count} pings (one echo request each, 84 bytes, each its own flow) from the client
   * to an address behind the router's {@code wan0} (the server, or one the router translates);
   * returns how many were answered. Only the server, 10.2.0.2, answers.
   */
  protected abstract int pingThroughRouter(String destination, int count);

  /** The router itself pings the server once; returns whether it was answered. */
  protected abstract boolean pingFromRouter();

  private int pingThroughForward(int count) {
    return pingThroughRouter("10.2.0.2", count);
  }

  private static Rule rule(String comment, Stmt... statements) {
    return Rule.commented(comment, statements);
  }

  /** A table with every construct of the model, in the forms the kernel gives back. */
  public static Table everything() {
    return Table.of(NftFamily.INET, FW.name())
        .withCounter("acl-drops")
        .withCounter("web-hits")
        .withSet(NftSet.intervals("allowed", DataType.IPV4_ADDR,
            Value.prefix("10.0.0.0/8"), Value.addr("192.0.2.5"),
            new Value.Range(Value.addr("198.51.100.1"), Value.addr("198.51.100.9"))))
        .withSet(NftSet.of("uplinks", DataType.IFNAME, Value.name("eth0"), Value.name("eth1")))
        .withSet(NftSet.of("macs", DataType.ETHER_ADDR, Value.mac("02:00:00:00:00:01")))
        .withSet(new NftSet("pairs", List.of(DataType.IPV4_ADDR, DataType.INET_SERVICE), Set.of(),
            List.of(Value.concat(Value.addr("10.0.0.1"), Value.num(22)))))
        .withSet(new NftSet("marks", List.of(DataType.MARK), Set.of(SetFlag.CONSTANT), List.of(Value.num(5))))
        .withSet(new NftSet("v6", List.of(DataType.IPV6_ADDR), Set.of(SetFlag.INTERVAL, SetFlag.TIMEOUT), List.of()))
        .withMap(NftMap.verdicts("ports", DataType.INET_SERVICE,
            MapElement.of(Value.num(22), new Stmt.Accept()), MapElement.of(Value.num(80), new Stmt.Jump("web"))))
        .withMap(NftMap.of("portmap", DataType.INET_SERVICE, DataType.IPV4_ADDR,
            MapElement.of(Value.num(8080), Value.addr("10.1.0.5"))))
        .withChain(Chain.regular("web", List.of(rule("web", Stmt.counter("web-hits"), Stmt.RETURN))))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.DROP), List.of(
            rule("established", Stmt.ctState("established", "related"), Stmt.ACCEPT),
            rule("dnat-ed", Stmt.ctState("new"), new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")),
                Stmt.ACCEPT),
            rule("ports", Stmt.match(Field.IIFNAME, Value.name("lan*")),
                Stmt.notMatch(Field.OIFNAME, Value.name("eth1")),
                Stmt.match(Field.IP_SADDR, Value.set("allowed")), Stmt.vmap(Field.TCP_DPORT, "ports")),
            rule("dns", Stmt.match(Field.IP_SADDR, Value.prefix("10.0.0.0/8")),
                Stmt.match(Field.IP_DADDR, Value.addr("192.0.2.1")),
                Stmt.match(Field.UDP_DPORT, Value.anonSet(Value.num(53), Value.num(5353))), Stmt.COUNTER,
                Stmt.ACCEPT),
            rule("range", Stmt.match(Field.TCP_DPORT, Value.range(1000, 2000)), Stmt.DROP),
            rule("v6", Stmt.match(Field.IP6_SADDR, Value.prefix("fe80::/10")), Stmt.match(Field.NFPROTO,
                Value.name("ipv6")), Stmt.ACCEPT),
            rule("limit", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.limit(10, "second", 5),
                Stmt.ACCEPT),
            rule("limit-over", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")),
                Stmt.limitOver(10, "minute", 5), Stmt.DROP),
            rule("mac", Stmt.match(Field.ETHER_SADDR, Value.mac("02:00:00:00:00:01")), Stmt.log("acl "), Stmt.DROP),
            rule("marks", Stmt.match(Field.MARK, Value.num(5)), Stmt.setMark(Value.num(6)),
                Stmt.setCtMark(Value.num(7)), Stmt.goTo("web")),
            rule("masks", Stmt.match(Field.masked(Field.MARK, 0xff), Value.num(5)),
                Stmt.match(Field.masked(Field.CT_MARK, 0x800000), Value.num(0x800000)), Stmt.jump("web")),
            rule("restore", Stmt.setCtMark(Field.MARK)),
            rule("save", Stmt.setMark(Field.CT_MARK)),
            rule("mss", Stmt.tcpFlags("syn"), Stmt.clampMssToRouteMtu()),
            rule("uplinks", Stmt.match(Field.IIFNAME, Value.set("uplinks")), Stmt.Reject.icmpx("port-unreachable")),
            rule("reset", Stmt.match(Field.L4PROTO, Value.name("tcp")), Stmt.Reject.tcpReset()),
            rule("pairs", Stmt.match(Field.concat(Field.IP_SADDR, Field.TCP_DPORT), Value.set("pairs")),
                Stmt.ACCEPT),
            rule("marks-set", Stmt.match(Field.MARK, Value.set("marks")), Stmt.counter("acl-drops"),
                Stmt.DROP))))
        .withChain(Chain.base("pre", BaseChain.nat(Hook.PREROUTING, BaseChain.PRIORITY_DSTNAT), List.of(
            rule("portmap", Stmt.match(Field.TCP_DPORT, Value.num(8080)),
                Stmt.dnat(NftFamily.IP, Value.addr("10.1.0.5"), Optional.of(Value.num(80)))),
            rule("redirect", Stmt.match(Field.UDP_DPORT, Value.num(53)), Stmt.redirect(5353)),
            rule("map", Stmt.dnat(NftFamily.IP, new Value.MapLookup(Field.TCP_DPORT, "portmap"), Optional.empty())))))
        .withChain(Chain.base("post", BaseChain.nat(Hook.POSTROUTING, BaseChain.PRIORITY_SRCNAT), List.of(
            rule("masq", Stmt.match(Field.OIFNAME, Value.name("eth0")), Stmt.masquerade()),
            rule("snat", Stmt.match(Field.OIFNAME, Value.name("eth1")),
                Stmt.snat(NftFamily.IP, Value.addr("192.0.2.1"))))));
  }

  /** The forward path of the fixed topology, with named counters for requests and replies. */
  public static Table pingCounting(BaseChain.Policy policy) {
    return Table.of(NftFamily.INET, FW.name())
        .withCounter("requests")
        .withCounter("replies")
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, policy), List.of(
            rule("replies", Stmt.ctState("established", "related"), Stmt.counter("replies"), Stmt.ACCEPT),
            rule("requests", Stmt.match(Field.IIFNAME, Value.name("lan0")),
                Stmt.match(Field.IP_SADDR, Value.addr("10.1.0.2")),
                Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.counter("requests"), Stmt.ACCEPT))));
  }

  @Test
  void aTableWithEveryConstructReadsBackAsTheSameModel() {
    firewall().apply(NftBatch.replaceTable(everything()));
    assertThat(firewall().table(FW)).contains(everything());
    // The JSON listing parses to the same model as well.
    assertThat(NftJson.parseListing(firewall().listTable("inet", FW.name())).table()).isEqualTo(everything());
  }

  @Test
  void replacingATableRemovesWhatTheNewOneLacks() {
    firewall().apply(NftBatch.replaceTable(everything()));
    Table smaller = pingCounting(BaseChain.Policy.ACCEPT);
    firewall().apply(NftBatch.replaceTable(smaller));
    assertThat(firewall().table(FW)).contains(smaller);
  }

  @Test
  void aBatchWithOneBadCommandLeavesThePreviousRulesetAndNamesTheCommand() {
    Table before = pingCounting(BaseChain.Policy.ACCEPT);
    firewall().apply(NftBatch.replaceTable(before));
    NftBatch bad = NftBatch.replaceTable(everything())
        .then(new NftCommand.AddRule(FW, "forward", Rule.commented("bad jump", Stmt.jump("missing"))));
    HostException refused = catchThrowableOfType(HostException.class, () -> firewall().apply(bad));
    assertThat(refused.operation()).isEqualTo("add");
    assertThat(refused.object()).isEqualTo("rule \"bad jump\" in chain inet vgfw forward");
    assertThat(refused.errno()).isEqualTo(Errno.ENOENT);
    assertThat(refused.reason()).contains("No such file or directory");
    assertThat(firewall().table(FW)).contains(before);
  }

  @Test
  void aMissingTableIsNamed() {
    HostException refused = catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.of(
        new NftCommand.AddChain(TableRef.of(NftFamily.INET, "nosuch"), "c", Optional.empty()))));
    assertThat(refused.object()).isEqualTo("chain inet nosuch c");
    assertThat(refused.errno()).isEqualTo(Errno.ENOENT);
    assertThat(firewall().table(TableRef.of(NftFamily.INET, "nosuch"))).isEmpty();
  }

  @Test
  void aSetElementOfTheWrongTypeIsNamed() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withSet(NftSet.of("hosts", DataType.IPV4_ADDR, Value.addr("2001:db8::1")));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(table)));
    assertThat(refused.object()).isEqualTo("set inet vgfw hosts");
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.reason()).isEqualTo("Could not resolve hostname: Address family for hostname not supported");
    assertThat(firewall().table(FW)).isEmpty();
  }

  @Test
  void aPrefixInASetWithoutIntervalsIsRefused() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withSet(NftSet.of("nets", DataType.IPV4_ADDR, Value.prefix("10.0.0.0/8")));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(table)));
    assertThat(refused.object()).isEqualTo("set inet vgfw nets");
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.reason())
        .isEqualTo("You must add 'flags interval' to your set declaration if you want to add prefix elements");
  }

  @Test
  void aLookupInASetOfAnotherTypeIsRefused() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withSet(NftSet.of("names", DataType.IFNAME, Value.name("eth0")))
        .withChain(Chain.regular("c", List.of(rule("lookup", Stmt.match(Field.IP_SADDR, Value.set("names"))))));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(table)));
    assertThat(refused.object()).isEqualTo("rule \"lookup\" in chain inet vgfw c");
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.reason())
        .isEqualTo("datatype mismatch, expected IPv4 address, expression has type network interface name");
  }

  @Test
  void aJumpToABaseChainAndNatInAFilterChainAreNotSupported() {
    Table jumpToBase = Table.of(NftFamily.INET, FW.name())
        .withChain(Chain.base("in", BaseChain.filter(Hook.INPUT, 0, BaseChain.Policy.ACCEPT), List.of()))
        .withChain(Chain.regular("c", List.of(rule("to-base", Stmt.jump("in")))));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(jumpToBase)));
    assertThat(refused.object()).isEqualTo("rule \"to-base\" in chain inet vgfw c");
    assertThat(refused.errno()).isEqualTo(Errno.EOPNOTSUPP);

    Table natInFilter = Table.of(NftFamily.INET, FW.name())
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT),
            List.of(rule("masq", Stmt.masquerade()))));
    refused = catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(natInFilter)));
    assertThat(refused.object()).isEqualTo("rule \"masq\" in chain inet vgfw forward");
    assertThat(refused.errno()).isEqualTo(Errno.EOPNOTSUPP);
  }

  @Test
  void aNatAddressInAnInetTableNeedsItsFamily() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withChain(Chain.base("pre", BaseChain.nat(Hook.PREROUTING, BaseChain.PRIORITY_DSTNAT), List.of(
            rule("no-family", new Stmt.Nat(Stmt.NatKind.DNAT, Optional.empty(),
                Optional.of(Value.addr("10.2.0.2")), Optional.empty())))));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(table)));
    assertThat(refused.object()).isEqualTo("rule \"no-family\" in chain inet vgfw pre");
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.reason()).isEqualTo("ip or ip6 must be specified with address for inet tables.");
  }

  @Test
  void aLoopABaseChainCanReachIsRefusedAndAnUnreachableOneIsNot() {
    Table unreachable = Table.of(NftFamily.INET, FW.name())
        .withChain(Chain.regular("a", List.of(rule("a-to-b", Stmt.jump("b")))))
        .withChain(Chain.regular("b", List.of(rule("b-to-a", Stmt.goTo("a")))));
    firewall().apply(NftBatch.replaceTable(unreachable));
    assertThat(firewall().table(FW)).contains(unreachable);

    HostException refused = catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.of(
        new NftCommand.AddChain(FW, "forward", Optional.of(BaseChain.filter(Hook.FORWARD, 0,
            BaseChain.Policy.ACCEPT))),
        new NftCommand.AddRule(FW, "forward", rule("into-loop", Stmt.jump("a"))))));
    assertThat(refused.object()).isEqualTo("rule \"into-loop\" in chain inet vgfw forward");
    assertThat(refused.reason()).isEqualTo("Could not process rule: Too many links");
    assertThat(firewall().table(FW)).contains(unreachable);
  }

  @Test
  void aMissingNamedCounterIsNamed() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withChain(Chain.regular("c", List.of(rule("count", Stmt.counter("nosuch")))));
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall().apply(NftBatch.replaceTable(table)));
    assertThat(refused.object()).isEqualTo("rule \"count\" in chain inet vgfw c");
    assertThat(refused.errno()).isEqualTo(Errno.ENOENT);
  }

  @Test
  void aRewriteCarriesCountersAndSetElementsOverAndCountingGoesOnFromThem() {
    firewall().apply(NftBatch.replaceTable(pingCounting(BaseChain.Policy.ACCEPT)
        .withSet(NftSet.of("resolved", DataType.IPV4_ADDR))));
    assertThat(pingThroughForward(2)).isEqualTo(2);
    Map<String, CounterValues> before = firewall().counters(FW);
    assertThat(before.get("requests")).isEqualTo(new CounterValues(2, 168));
    // the rewritten table drops a rule and a counter; what stays keeps its count and the set its element
    Table rewritten = Table.of(NftFamily.INET, FW.name())
        .withCounter("requests")
        .withSet(NftSet.of("resolved", DataType.IPV4_ADDR))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("requests", Stmt.match(Field.IIFNAME, Value.name("lan0")),
                Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.counter("requests"), Stmt.ACCEPT))));
    firewall().apply(NftBatch.replaceTable(rewritten, before, Map.of("resolved", List.of(Value.addr("192.0.2.77")))));
    assertThat(firewall().counters(FW)).containsOnlyKeys("requests").containsEntry("requests", new CounterValues(2, 168));
    assertThat(firewall().table(FW).orElseThrow().sets()).singleElement()
        .satisfies(set -> assertThat(set.elements()).containsExactly(Value.addr("192.0.2.77")));
    assertThat(pingThroughForward(1)).isEqualTo(1);
    assertThat(firewall().counters(FW).get("requests")).isEqualTo(new CounterValues(3, 252));
  }

  @Test
  void countersCountForwardedRequestsAndReplies() {
    firewall().apply(NftBatch.replaceTable(pingCounting(BaseChain.Policy.DROP)));
    assertThat(pingThroughForward(3)).isEqualTo(3);
    Map<String, CounterValues> counters = firewall().counters(FW);
    assertThat(counters.get("requests")).isEqualTo(new CounterValues(3, 3 * 84));
    assertThat(counters.get("replies")).isEqualTo(new CounterValues(3, 3 * 84));
  }

  @Test
  void policyDropStopsWhatNoRuleAccepts() {
    Table onlyRequests = Table.of(NftFamily.INET, FW.name())
        .withCounter("requests")
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.DROP), List.of(
            rule("requests", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.counter("requests"),
                Stmt.ACCEPT))));
    firewall().apply(NftBatch.replaceTable(onlyRequests));
    assertThat(pingThroughForward(2)).isZero(); // the replies meet the policy
    assertThat(firewall().counters(FW).get("requests")).isEqualTo(new CounterValues(2, 2 * 84));
  }

  @Test
  void anAcceptInOneBaseChainDoesNotSpareThePacketFromALaterOne() {
    Table twoChains = Table.of(NftFamily.INET, FW.name())
        .withCounter("early")
        .withCounter("late")
        .withChain(Chain.base("first", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("accept-all", Stmt.counter("early"), Stmt.ACCEPT))))
        .withChain(Chain.base("second", BaseChain.filter(Hook.FORWARD, 10, BaseChain.Policy.ACCEPT), List.of(
            rule("drop-requests", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.counter("late"),
                Stmt.DROP))));
    firewall().apply(NftBatch.replaceTable(twoChains));
    assertThat(pingThroughForward(1)).isZero();
    assertThat(firewall().counters(FW).get("early").packets()).isEqualTo(1);
    assertThat(firewall().counters(FW).get("late").packets()).isEqualTo(1);
  }

  @Test
  void aVerdictMapSendsPacketsToChainsByDestination() {
    Table byDestination = Table.of(NftFamily.INET, FW.name())
        .withCounter("server")
        .withMap(NftMap.verdicts("destinations", DataType.IPV4_ADDR,
            MapElement.of(Value.addr("10.2.0.2"), new Stmt.Jump("to-server")),
            MapElement.of(Value.addr("10.1.0.2"), new Stmt.Accept())))
        .withChain(Chain.regular("to-server", List.of(rule("count", Stmt.counter("server"), Stmt.DROP))))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("by-destination", Stmt.vmap(Field.IP_DADDR, "destinations")))));
    firewall().apply(NftBatch.replaceTable(byDestination));
    assertThat(pingThroughForward(2)).isZero();
    assertThat(firewall().counters(FW).get("server")).isEqualTo(new CounterValues(2, 2 * 84));

    // The same map with the server's entry gone lets the pings through.
    firewall().apply(NftBatch.of(new NftCommand.MapElements(FW, "destinations",
        List.of(MapElement.of(Value.addr("10.2.0.2"), new Stmt.Jump("to-server"))), false)));
    assertThat(pingThroughForward(1)).isEqualTo(1);
    assertThat(firewall().counters(FW).get("server").packets()).isEqualTo(2);
  }

  @Test
  void aJumpComesBackAndTheEndOfAGotoTargetIsThePolicy() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withCounter("in-jumped")
        .withCounter("after-jump")
        .withCounter("in-goto")
        .withCounter("after-goto")
        .withChain(Chain.regular("jumped", List.of(rule("count", Stmt.counter("in-jumped")))))
        .withChain(Chain.regular("gone-to", List.of(
            rule("count", Stmt.counter("in-goto")),
            rule("back-early", Stmt.match(Field.IP_SADDR, Value.addr("10.9.9.9")), Stmt.RETURN))))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.DROP), List.of(
            rule("jump", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.jump("jumped")),
            rule("after-jump", Stmt.match(Field.ICMP_TYPE, Value.name("echo-request")), Stmt.counter("after-jump"),
                Stmt.ACCEPT),
            rule("goto", Stmt.match(Field.ICMP_TYPE, Value.name("echo-reply")), Stmt.goTo("gone-to")),
            rule("after-goto", Stmt.counter("after-goto"), Stmt.ACCEPT))));
    firewall().apply(NftBatch.replaceTable(table));
    assertThat(pingThroughForward(2)).isZero(); // the replies end in the policy
    Map<String, CounterValues> counters = firewall().counters(FW);
    assertThat(List.of(counters.get("in-jumped").packets(), counters.get("after-jump").packets(),
        counters.get("in-goto").packets(), counters.get("after-goto").packets()))
        .containsExactly(2L, 2L, 2L, 0L);
  }

  @Test
  void dnatInPreroutingSendsPingsForAnotherAddressToTheServer() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withCounter("translated")
        .withMap(NftMap.of("forwards", DataType.IPV4_ADDR, DataType.IPV4_ADDR,
            MapElement.of(Value.addr("10.2.0.98"), Value.addr("10.2.0.2"))))
        .withChain(Chain.base("pre", BaseChain.nat(Hook.PREROUTING, BaseChain.PRIORITY_DSTNAT), List.of(
            rule("direct", Stmt.match(Field.IP_DADDR, Value.addr("10.2.0.99")),
                Stmt.dnat(NftFamily.IP, Value.addr("10.2.0.2"), Optional.empty())),
            rule("by-map", Stmt.dnat(NftFamily.IP, new Value.MapLookup(Field.IP_DADDR, "forwards"),
                Optional.empty())))))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.DROP), List.of(
            rule("replies", Stmt.ctState("established", "related"), Stmt.ACCEPT),
            rule("to-server", Stmt.match(Field.IP_DADDR, Value.addr("10.2.0.2")),
                new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")), Stmt.counter("translated"),
                Stmt.ACCEPT))));
    firewall().apply(NftBatch.replaceTable(table));
    assertThat(pingThroughRouter("10.2.0.99", 2)).isEqualTo(2);
    assertThat(pingThroughRouter("10.2.0.98", 1)).isEqualTo(1);
    assertThat(pingThroughRouter("10.2.0.97", 1)).isZero(); // no translation: nobody there
    assertThat(pingThroughForward(1)).isZero(); // untranslated traffic to the server is not let in
    assertThat(firewall().counters(FW).get("translated")).isEqualTo(new CounterValues(3, 3 * 84));
  }

  @Test
  void aMarkSetInAnEarlierBaseChainIsMatchedUnderAMaskInALaterOne() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withCounter("marked-drops")
        .withChain(Chain.base("mangle", BaseChain.filter(Hook.FORWARD, BaseChain.PRIORITY_MANGLE,
            BaseChain.Policy.ACCEPT), List.of(
                // Saved only where set: a reply's mark is 0 and would overwrite the connection's.
                rule("mark", Stmt.match(Field.IIFNAME, Value.name("lan*")), Stmt.setMark(Value.num(0x800005)),
                    Stmt.setCtMark(Field.MARK)))))
        .withChain(Chain.base("forward", BaseChain.filter(Hook.FORWARD, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("drop-bit", Stmt.match(Field.masked(Field.CT_MARK, 0x800000), Value.num(0x800000)),
                Stmt.match(Field.ICMP_TYPE, Value.name("echo-reply")), Stmt.counter("marked-drops"), Stmt.DROP))));
    firewall().apply(NftBatch.replaceTable(table));
    // The reply carries no packet mark of its own, but its connection kept the request's.
    assertThat(pingThroughForward(2)).isZero();
    assertThat(firewall().counters(FW).get("marked-drops").packets()).isEqualTo(2);
  }

  @Test
  void theRoutersOwnPacketsHaveAnEmptyInputInterfaceName() {
    Table table = Table.of(NftFamily.INET, FW.name())
        .withCounter("no-input-interface")
        .withChain(Chain.base("out", BaseChain.filter(Hook.OUTPUT, 0, BaseChain.Policy.ACCEPT), List.of(
            rule("not-lan", Stmt.notMatch(Field.IIFNAME, Value.name("lan0")),
                Stmt.match(Field.OIFNAME, Value.name("wan0")), Stmt.counter("no-input-interface")))));
    firewall().apply(NftBatch.replaceTable(table));
    assertThat(pingFromRouter()).isTrue();
    assertThat(firewall().counters(FW).get("no-input-interface")).isEqualTo(new CounterValues(1, 84));
  }
}
