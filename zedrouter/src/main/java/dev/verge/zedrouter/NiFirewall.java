package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.nft.BaseChain;
import dev.verge.hostos.nft.Chain;
import dev.verge.hostos.nft.DataType;
import dev.verge.hostos.nft.Field;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.MapElement;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.NftMap;
import dev.verge.hostos.nft.NftSet;
import dev.verge.hostos.nft.Rule;
import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import dev.verge.hostos.nft.Value;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A local NI's whole nftables ruleset, one {@code inet} table applied atomically: NAT out of the
 * uplink, the metadata DNAT, port maps, the implicit allows to the NI's own services (DHCP, DNS over
 * UDP and TCP, metadata) and each VIF's ACEs compiled per direction.
 *
 * <p>Per-packet cost does not grow with the number of VIFs or ACEs: VIF chains are found through
 * verdict maps keyed by the app's address, and only a flow's first packet walks the ACEs (later ones
 * are accepted by conntrack state), except flows an ACE rate-limits, which carry the
 * {@link #MARK_LIMITED} bit in their conntrack mark and are checked packet by packet.
 *
 * <p>The flow's conntrack mark holds the deciding ACE's id (low 24 bits), for flow logs.
 */
public final class NiFirewall {
  public static final long MARK_ACE_ID = 0xffffffL;
  public static final long MARK_LIMITED = 0x1000000L;
  /**
   * A port-mapped flow from inside the device (an app of this or another NI): its packets carry this
   * bit as their mark (set by the DNAT, then restored from the flow's conntrack mark) and are routed
   * by {@link NiGraph#HAIRPIN_TABLE}, which knows every NI's subnet, both ways. Other traffic between
   * NIs still finds no route.
   */
  public static final long MARK_HAIRPIN = 0x2000000L;
  public static final String METADATA_ADDRESS = "169.254.169.254";

  private NiFirewall() {}

  public static TableRef tableRef(String bridge) {
    return TableRef.of(NftFamily.INET, "zedrouter-" + bridge);
  }

  /** The NI's table: {@code inet} for a routed NI, {@code bridge} for a switch NI. */
  public static TableRef tableRef(NiSpec ni) {
    return ni.isRouted() ? tableRef(ni.bridge()) : TableRef.of(NftFamily.BRIDGE, "zedrouter-" + ni.bridge());
  }

  /**
   * A switch NI's ruleset: one {@code bridge} table whose forward chains find each VIF's chain by its
   * bridge port, egress by the frame's in-port, ingress by its out-port (so a frame between two apps
   * passes the sender's egress and the receiver's ingress ACEs, as in EVE).
   *
   * <p>The bridge family has no connection tracking on this kernel (CONFIG_NF_CONNTRACK_BRIDGE is off),
   * so every frame walks the ACEs: an ACE compiled for both directions matches a reply by its mirrored
   * addresses and ports (EVE's switch NI filters egress in raw, before conntrack, too). ACE counters
   * therefore count frames, not flows. Implicit allows, both ways as EVE's: ARP, DHCP, DNS.
   */
  public static Table switchNi(NiSpec ni, List<VifPlan> vifs) {
    if (ni.isRouted()) {
      throw new IllegalArgumentException("not a switch NI: " + ni.uuid());
    }
    List<String> counters = new ArrayList<>();
    List<Chain> vifChains = new ArrayList<>();
    List<MapElement> egress = new ArrayList<>();
    List<MapElement> ingress = new ArrayList<>();
    for (VifPlan vif : vifs) {
      String out = "eg-" + vif.vifName();
      String in = "in-" + vif.vifName();
      // QEMU's VIF is the tap itself; a "-emu" twin (EVE's) would match the same prefix
      egress.add(MapElement.of(Value.name(vif.vifName()), new Stmt.Jump(out)));
      ingress.add(MapElement.of(Value.name(vif.vifName()), new Stmt.Jump(in)));
      List<Rule> outRules = new ArrayList<>(switchImplicitAllows(true));
      List<Rule> inRules = new ArrayList<>(switchImplicitAllows(false));
      for (Acl acl : vif.acls()) {
        counters.add(aceCounter(vif.vifName(), acl.id()));
        if (acl.action() instanceof Acl.Limit) {
          counters.add(rateDropCounter(vif.vifName(), acl.id()));
        }
        if (acl.direction().egress()) {
          outRules.addAll(switchAceRules(vif.vifName(), acl, true, ni));
        }
        if (acl.direction().ingress()) {
          inRules.addAll(switchAceRules(vif.vifName(), acl, false, ni));
        }
      }
      counters.add(dropCounter(vif.vifName()));
      outRules.add(Rule.commented("implicit drop", Stmt.counter(dropCounter(vif.vifName())), Stmt.DROP));
      inRules.add(Rule.commented("implicit drop", Stmt.counter(dropCounter(vif.vifName())), Stmt.DROP));
      vifChains.add(Chain.regular(out, outRules));
      vifChains.add(Chain.regular(in, inRules));
    }
    // two base chains: an accept in the sender's egress chain ends only the first, so the receiver's
    // ingress chain still judges the frame
    Chain egressChain = Chain.base("egress", BaseChain.filter(Hook.FORWARD, BaseChain.PRIORITY_FILTER,
        BaseChain.Policy.ACCEPT), List.of(Rule.of(Stmt.vmap(Field.IIFNAME, "egress"))));
    Chain ingressChain = Chain.base("ingress", BaseChain.filter(Hook.FORWARD, BaseChain.PRIORITY_FILTER + 10,
        BaseChain.Policy.ACCEPT), List.of(Rule.of(Stmt.vmap(Field.OIFNAME, "ingress"))));
    Table table = Table.of(NftFamily.BRIDGE, tableRef(ni).name()).withChain(egressChain).withChain(ingressChain);
    for (Chain chain : vifChains) {
      table = table.withChain(chain);
    }
    table = table.withMap(NftMap.verdicts("egress", DataType.IFNAME, egress.toArray(MapElement[]::new)))
        .withMap(NftMap.verdicts("ingress", DataType.IFNAME, ingress.toArray(MapElement[]::new)));
    for (String counter : counters) {
      table = table.withCounter(counter);
    }
    return table;
  }

  /**
   * ARP, the app's DHCP client and DNS, both ways; {@code egress}: frames from the app. ARP by {@code
   * meta protocol}, not {@code ether type}: on a filtering bridge a trunk's frames carry their VLAN
   * tag out of band, and the kernel's {@code ether type} then reads 802.1Q, so tagged ARP would drop.
   */
  private static List<Rule> switchImplicitAllows(boolean egress) {
    return List.of(
        Rule.commented("arp", Stmt.match(Field.META_PROTOCOL, Value.name("arp")), Stmt.ACCEPT),
        Rule.commented("dhcp", Stmt.match(egress ? Field.UDP_SPORT : Field.UDP_DPORT, Value.num(68)),
            Stmt.match(egress ? Field.UDP_DPORT : Field.UDP_SPORT, Value.num(67)), Stmt.ACCEPT),
        Rule.commented("dns", Stmt.match(egress ? Field.UDP_DPORT : Field.UDP_SPORT, Value.num(53)), Stmt.ACCEPT),
        Rule.commented("dns over tcp", Stmt.match(egress ? Field.TCP_DPORT : Field.TCP_SPORT, Value.num(53)),
            Stmt.ACCEPT));
  }

  /** An ACE frame by frame: no conntrack marks, no established shortcut. */
  private static List<Rule> switchAceRules(String vif, Acl acl, boolean egress, NiSpec ni) {
    if (!adapterInUse(acl, ni)) {
      return List.of();
    }
    List<Stmt> match = aceMatch(acl, egress, ni);
    String counter = aceCounter(vif, acl.id());
    String comment = "ace " + acl.id() + (acl.name().isEmpty() ? "" : " " + acl.name());
    if (acl.action() instanceof Acl.Drop) {
      return List.of(rule(comment, match, Stmt.counter(counter), Stmt.DROP));
    } else if (acl.action() instanceof Acl.Limit l) {
      return List.of(rule(comment, match, Stmt.limit(l.rate(), l.per(), l.burst()), Stmt.counter(counter), Stmt.ACCEPT),
          rule(comment + " over limit", match, Stmt.counter(rateDropCounter(vif, acl.id())), Stmt.DROP));
    }
    return List.of(rule(comment, match, Stmt.counter(counter), Stmt.ACCEPT));
  }

  public static String aceCounter(String vif, int aceId) {
    return "ace-" + vif + "-" + aceId;
  }

  public static String dropCounter(String vif) {
    return "drop-" + vif;
  }

  public static String rateDropCounter(String vif, int aceId) {
    return "ratedrop-" + vif + "-" + aceId;
  }

  /** Names of the sets dnsmasq fills with the addresses of an ACL's host. */
  public static final String HOST_SET_PREFIX = "host-";

  public static String hostSet(String host) {
    // nft set names are at most 255 characters and cannot hold every DNS character; a digest keeps them short
    return HOST_SET_PREFIX + Integer.toHexString(host.hashCode() & 0x7fffffff);
  }

  /** The ruleset of a local NI and the VIFs on it. */
  public static Table localNi(NiSpec ni, List<VifPlan> vifs) {
    NiSpec.LocalIp ip = ni.ip().orElseThrow(() -> new IllegalArgumentException("not a local NI: " + ni.uuid()));
    String br = ni.bridge();
    Value bridge = Value.name(br);
    Value gateway = new Value.Addr(ip.gateway());
    Optional<String> uplink = ni.uplink().ifName();
    Optional<InetAddress> uplinkAddress = ni.uplink().port().flatMap(p -> p.getAddressesList().stream()
        .map(IpPrefix::parse).filter(IpPrefix::isIpv4).map(IpPrefix::address).findFirst());

    List<String> counters = new ArrayList<>();
    Set<String> hosts = new LinkedHashSet<>();
    List<Chain> vifChains = new ArrayList<>();
    List<MapElement> egress = new ArrayList<>();
    List<MapElement> ingress = new ArrayList<>();
    List<Rule> portMaps = new ArrayList<>();
    boolean hairpin = false;
    for (VifPlan vif : vifs) {
      if (vif.ip().isEmpty()) {
        continue;
      }
      Value vifIp = new Value.Addr(vif.ip().get());
      String out = "eg-" + vif.vifName();
      String in = "in-" + vif.vifName();
      egress.add(MapElement.of(vifIp, new Stmt.Jump(out)));
      ingress.add(MapElement.of(vifIp, new Stmt.Jump(in)));
      List<Rule> outRules = new ArrayList<>();
      List<Rule> inRules = new ArrayList<>();
      outRules.add(established());
      inRules.add(established());
      for (Acl acl : vif.acls()) {
        acl.matches().stream().filter(m -> m instanceof Acl.HostMatch).forEach(m -> hosts.add(((Acl.HostMatch) m).host()));
        String counter = aceCounter(vif.vifName(), acl.id());
        counters.add(counter);
        if (acl.action() instanceof Acl.PortMap pm) {
          if (uplink.isPresent() && uplinkAddress.isPresent() && adapterInUse(acl, ni)) {
            portMaps.add(Rule.commented("portmap " + counter,
                Stmt.match(Field.IIFNAME, Value.name(uplink.get())),
                Stmt.match(Field.IP_DADDR, new Value.Addr(uplinkAddress.get())),
                Stmt.match(portField(pm.protocol(), true), Value.num(pm.externalPort())),
                Stmt.dnat(NftFamily.IP, vifIp, Optional.of(Value.num(pm.appPort())))));
            // hairpin: apps of this NI and of the device's other NIs reach the mapped service at the
            // device's address too (marked for the hairpin table; the postrouting SNAT below makes the
            // NI's own apps' replies come back through the device)
            portMaps.add(Rule.commented("portmap hairpin " + counter,
                Stmt.notMatch(Field.IIFNAME, Value.name(uplink.get())),
                Stmt.match(Field.IP_DADDR, new Value.Addr(uplinkAddress.get())),
                Stmt.match(portField(pm.protocol(), true), Value.num(pm.externalPort())),
                Stmt.setMark(Value.num(MARK_HAIRPIN)),
                Stmt.dnat(NftFamily.IP, vifIp, Optional.of(Value.num(pm.appPort())))));
            hairpin = true;
          }
          // a hairpinned flow keeps its bit in the flow's mark, so its later packets and replies find the route
          inRules.add(Rule.commented(counter + " hairpin",
              Stmt.match(portField(pm.protocol(), true), Value.num(pm.appPort())),
              Stmt.ctState("new"),
              new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")),
              Stmt.match(Field.masked(Field.MARK, MARK_HAIRPIN), Value.num(MARK_HAIRPIN)),
              Stmt.counter(counter),
              Stmt.setCtMark(Value.num(acl.id() | MARK_HAIRPIN)),
              Stmt.ACCEPT));
          inRules.add(Rule.commented(counter,
              Stmt.match(portField(pm.protocol(), true), Value.num(pm.appPort())),
              Stmt.ctState("new"),
              new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")),
              Stmt.counter(counter),
              Stmt.setCtMark(Value.num(acl.id())),
              Stmt.ACCEPT));
          continue;
        }
        if (acl.action() instanceof Acl.Limit) {
          counters.add(rateDropCounter(vif.vifName(), acl.id()));
        }
        if (acl.direction().egress()) {
          outRules.addAll(aceRules(vif.vifName(), acl, true, ni));
        }
        if (acl.direction().ingress()) {
          inRules.addAll(aceRules(vif.vifName(), acl, false, ni));
        }
      }
      counters.add(dropCounter(vif.vifName()));
      outRules.add(Rule.commented("implicit drop", Stmt.counter(dropCounter(vif.vifName())), Stmt.DROP));
      inRules.add(Rule.commented("implicit drop", Stmt.counter(dropCounter(vif.vifName())), Stmt.DROP));
      vifChains.add(Chain.regular(out, outRules));
      vifChains.add(Chain.regular(in, inRules));
    }

    Chain forward = Chain.base("forward", BaseChain.filter(Hook.FORWARD, BaseChain.PRIORITY_FILTER, BaseChain.Policy.ACCEPT),
        List.of(
            // as EVE: a SYN's MSS fits the route's MTU both ways, so apps behind a smaller uplink MTU
            // (PPPoE, tunnels) need no working path-MTU discovery
            Rule.commented("mss clamp out", Stmt.match(Field.IIFNAME, bridge), Stmt.tcpFlags("syn"),
                Stmt.clampMssToRouteMtu()),
            Rule.commented("mss clamp in", Stmt.match(Field.OIFNAME, bridge), Stmt.tcpFlags("syn"),
                Stmt.clampMssToRouteMtu()),
            Rule.of(Stmt.match(Field.IIFNAME, bridge), Stmt.vmap(Field.IP_SADDR, "egress")),
            Rule.commented("not an address of a VIF", Stmt.match(Field.IIFNAME, bridge), Stmt.DROP),
            Rule.of(Stmt.match(Field.OIFNAME, bridge), Stmt.vmap(Field.IP_DADDR, "ingress")),
            Rule.commented("to no VIF", Stmt.match(Field.OIFNAME, bridge), Stmt.DROP)));

    Chain input = Chain.base("input", BaseChain.filter(Hook.INPUT, BaseChain.PRIORITY_FILTER, BaseChain.Policy.ACCEPT),
        List.of(
            Rule.commented("dhcp", Stmt.match(Field.IIFNAME, bridge), Stmt.match(Field.UDP_DPORT, Value.num(67)), Stmt.ACCEPT),
            Rule.commented("dns", Stmt.match(Field.IIFNAME, bridge), Stmt.match(Field.IP_DADDR, gateway),
                Stmt.match(Field.UDP_DPORT, Value.num(53)), Stmt.ACCEPT),
            // EVE's IPv6 "DNS over TCP" rules matched UDP; TCP is what large answers need
            Rule.commented("dns over tcp", Stmt.match(Field.IIFNAME, bridge), Stmt.match(Field.IP_DADDR, gateway),
                Stmt.match(Field.TCP_DPORT, Value.num(53)), Stmt.ACCEPT),
            Rule.commented("metadata", Stmt.match(Field.IIFNAME, bridge), Stmt.match(Field.IP_DADDR, gateway),
                Stmt.match(Field.TCP_DPORT, Value.num(80)),
                new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")), Stmt.ACCEPT),
            Rule.commented("replies to the device", Stmt.match(Field.IIFNAME, bridge), Stmt.ctState("established", "related"),
                Stmt.ACCEPT),
            Rule.commented("implicit drop", Stmt.match(Field.IIFNAME, bridge), Stmt.counter("drop-" + br + "-input"),
                Stmt.DROP)));
    counters.add("drop-" + br + "-input");

    List<Rule> pre = new ArrayList<>();
    pre.add(Rule.commented("metadata", Stmt.match(Field.IIFNAME, bridge),
        Stmt.match(Field.IP_DADDR, Value.addr(METADATA_ADDRESS)), Stmt.match(Field.TCP_DPORT, Value.num(80)),
        Stmt.dnat(NftFamily.IP, gateway, Optional.of(Value.num(80)))));
    pre.addAll(portMaps);
    Chain prerouting = Chain.base("prerouting", BaseChain.nat(Hook.PREROUTING, BaseChain.PRIORITY_DSTNAT), pre);

    List<Rule> post = new ArrayList<>();
    boolean natOut = ni.vpn().map(VpnPlan::natOtherTraffic).orElse(true);
    uplink.filter(port -> natOut).ifPresent(port -> post.add(Rule.commented("nat out of " + port, Stmt.match(Field.OIFNAME, Value.name(port)),
        Stmt.match(Field.IP_SADDR, new Value.Prefix(ip.subnet())), Stmt.masquerade())));
    if (hairpin) {
      post.add(Rule.commented("portmap hairpin", Stmt.match(Field.OIFNAME, bridge),
          Stmt.match(Field.IP_SADDR, new Value.Prefix(ip.subnet())),
          new Stmt.Match(Field.CT_STATUS, Stmt.Op.IN, Value.flags("dnat")), Stmt.masquerade()));
    }
    Chain postrouting = Chain.base("postrouting", BaseChain.nat(Hook.POSTROUTING, BaseChain.PRIORITY_SRCNAT), post);

    // before routing: a hairpinned flow's packets (both ways) get their bit back from the flow
    Chain hairpinRoute = Chain.base("hairpin-route", BaseChain.filter(Hook.PREROUTING, -150, BaseChain.Policy.ACCEPT),
        List.of(Rule.commented("hairpinned flow", Stmt.match(Field.masked(Field.CT_MARK, MARK_HAIRPIN),
            Value.num(MARK_HAIRPIN)), Stmt.setMark(Value.num(MARK_HAIRPIN)))));

    Table table = Table.of(NftFamily.INET, tableRef(br).name())
        .withChain(forward).withChain(input).withChain(prerouting).withChain(postrouting).withChain(hairpinRoute);
    for (Chain chain : vifChains) {
      table = table.withChain(chain);
    }
    table = table.withMap(NftMap.verdicts("egress", DataType.IPV4_ADDR, egress.toArray(MapElement[]::new)))
        .withMap(NftMap.verdicts("ingress", DataType.IPV4_ADDR, ingress.toArray(MapElement[]::new)));
    for (String host : hosts) {
      table = table.withSet(NftSet.of(hostSet(host), DataType.IPV4_ADDR));
    }
    // EVE's eidset: the NI's apps and its static DNS entries
    Set<InetAddress> eids = new LinkedHashSet<>();
    vifs.forEach(v -> v.ip().ifPresent(eids::add));
    ip.staticDns().forEach(d -> d.addresses().stream().map(IpPrefix::literal)
        .filter(a -> a instanceof java.net.Inet4Address).forEach(eids::add));
    table = table.withSet(NftSet.of(EID_SET, DataType.IPV4_ADDR,
        eids.stream().map(a -> (Value) new Value.Addr(a)).toArray(Value[]::new)));
    for (String counter : counters) {
      table = table.withCounter(counter);
    }
    return table;
  }

  /** A flow already accepted goes on, unless an ACE rate-limits it. */
  private static Rule established() {
    return Rule.commented("established", Stmt.ctState("established", "related"),
        Stmt.match(Field.masked(Field.CT_MARK, MARK_LIMITED), Value.num(0)), Stmt.ACCEPT);
  }

  /** The rules of one ACE for one direction; {@code egress}: packets from the app. */
  private static List<Rule> aceRules(String vif, Acl acl, boolean egress, NiSpec ni) {
    if (!adapterInUse(acl, ni)) {
      return List.of();
    }
    List<Stmt> match = aceMatch(acl, egress, ni);
    String counter = aceCounter(vif, acl.id());
    String comment = "ace " + acl.id() + (acl.name().isEmpty() ? "" : " " + acl.name());
    List<Rule> rules = new ArrayList<>();
    if (acl.action() instanceof Acl.Drop) {
      rules.add(rule(comment, match, Stmt.counter(counter), Stmt.setCtMark(Value.num(acl.id())), Stmt.DROP));
    } else if (acl.action() instanceof Acl.Limit l) {
      rules.add(rule(comment, match, Stmt.limit(l.rate(), l.per(), l.burst()), Stmt.counter(counter),
          Stmt.setCtMark(Value.num(acl.id() | MARK_LIMITED)), Stmt.ACCEPT));
      rules.add(rule(comment + " over limit", match, Stmt.counter(rateDropCounter(vif, acl.id())), Stmt.DROP));
    } else {
      rules.add(rule(comment, match, Stmt.counter(counter), Stmt.setCtMark(Value.num(acl.id())), Stmt.ACCEPT));
    }
    return rules;
  }

  /** The set of an NI's endpoints an {@code eidset} match looks the far side up in. */
  public static final String EID_SET = "eids";

  /**
   * Whether an ACE's {@code adapter} terms (if any) name the NI's port in use: if not, the ACE cannot
   * match now and is left out (its counter stays).
   */
  static boolean adapterInUse(Acl acl, NiSpec ni) {
    return acl.matches().stream().filter(m -> m instanceof Acl.AdapterMatch).map(m -> ((Acl.AdapterMatch) m).label())
        .allMatch(label -> ni.uplink().port().isPresent()
            && (label.equals(ni.uplink().label()) || label.equals(ni.uplink().port().get().getLabel())));
  }

  /** An ACE's match terms for one direction; {@code egress}: packets from the app. */
  private static List<Stmt> aceMatch(Acl acl, boolean egress, NiSpec ni) {
    List<Stmt> match = new ArrayList<>();
    Optional<Integer> protocol = acl.protocol();
    boolean hasPorts = acl.matches().stream().anyMatch(m -> m instanceof Acl.LocalPortMatch || m instanceof Acl.ForeignPortMatch);
    for (Acl.Match m : acl.matches()) {
      if (m instanceof Acl.IpMatch ipm) {
        match.add(Stmt.match(egress ? Field.IP_DADDR : Field.IP_SADDR, prefix(ipm.prefix())));
      } else if (m instanceof Acl.HostMatch h) {
        match.add(Stmt.match(egress ? Field.IP_DADDR : Field.IP_SADDR, Value.set(hostSet(h.host()))));
      } else if (m instanceof Acl.ProtocolMatch p && !hasPorts) {
        match.add(Stmt.match(Field.L4PROTO, Value.num(p.protocol())));
      } else if (m instanceof Acl.LocalPortMatch lp) {
        // lport is the app's own port: the source of what it sends, the destination of what it gets
        match.add(Stmt.match(portField(protocol.orElseThrow(), !egress), Value.num(lp.port())));
      } else if (m instanceof Acl.ForeignPortMatch fp) {
        match.add(Stmt.match(portField(protocol.orElseThrow(), egress), Value.num(fp.port())));
      } else if (m instanceof Acl.EidSetMatch) {
        match.add(Stmt.match(egress ? Field.IP_DADDR : Field.IP_SADDR, Value.set(EID_SET)));
      } else if (m instanceof Acl.AdapterMatch) {
        // adapterInUse checked the label: the port in use is the one it names
        match.add(Stmt.match(egress ? Field.OIFNAME : Field.IIFNAME, Value.name(ni.uplink().ifName().orElseThrow())));
      }
    }
    return match;
  }

  private static Rule rule(String comment, List<Stmt> match, Stmt... then) {
    List<Stmt> all = new ArrayList<>(match);
    all.addAll(List.of(then));
    return new Rule(all, Optional.of(comment));
  }

  private static Field portField(int protocol, boolean destination) {
    if (protocol == 6) {
      return destination ? Field.TCP_DPORT : Field.TCP_SPORT;
    }
    return destination ? Field.UDP_DPORT : Field.UDP_SPORT;
  }

  private static Value prefix(IpPrefix prefix) {
    return prefix.length() == 32 ? new Value.Addr(prefix.address()) : new Value.Prefix(prefix);
  }
}
