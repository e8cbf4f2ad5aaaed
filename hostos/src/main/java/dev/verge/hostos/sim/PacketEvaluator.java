package dev.verge.hostos.sim;

import dev.verge.hostos.nft.BaseChain;
import dev.verge.hostos.nft.CounterValues;
import dev.verge.hostos.nft.DataType;
import dev.verge.hostos.nft.Field;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.MapElement;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.NftMap;
import dev.verge.hostos.nft.NftSet;
import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.Symbols;
import dev.verge.hostos.nft.Value;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Walks a packet through the base chains of one hook the way netfilter does: in priority order;
 * accept ends a base chain but the next one still sees the packet; drop and reject are final;
 * jump, goto and return; a base chain's end applies its policy; nat chains only see a connection's
 * first packet and a NAT statement accepts.
 */
final class PacketEvaluator {
  /** The kernel's jump stack depth (NFT_JUMP_STACK_SIZE). */
  private static final int MAX_JUMP_DEPTH = 16;

  private final SimRuleset ruleset;
  private final long nowNanos;
  private Packet packet;
  private final List<Evaluation.Step> trace = new ArrayList<>();
  private final List<String> counters = new ArrayList<>();
  private final List<Evaluation.NatApplied> nat = new ArrayList<>();
  private final List<String> logs = new ArrayList<>();

  private PacketEvaluator(SimRuleset ruleset, Packet packet, long nowNanos) {
    this.ruleset = ruleset;
    this.packet = packet;
    this.nowNanos = nowNanos;
  }

  static Evaluation evaluate(SimRuleset ruleset, Hook hook, Packet packet, long nowNanos) {
    return new PacketEvaluator(ruleset, packet, nowNanos).run(hook);
  }

  private record Entry(SimRuleset.SimTable table, SimRuleset.SimChain chain, BaseChain base) {}

  private Evaluation run(Hook hook) {
    List<Entry> entries = new ArrayList<>();
    for (SimRuleset.SimTable table : ruleset.tables.values()) {
      for (SimRuleset.SimChain chain : table.chains.values()) {
        chain.base.filter(b -> b.hook() == hook && sees(table.ref.family(), b))
            .ifPresent(b -> entries.add(new Entry(table, chain, b)));
      }
    }
    entries.sort(Comparator.comparingInt(e -> e.base().priority())); // stable: ties keep table order
    boolean natDone = false;
    for (Entry entry : entries) {
      if (entry.base().type() == BaseChain.Type.NAT && (packet.ctState() != Packet.CtState.NEW || natDone)) {
        continue;
      }
      int natBefore = nat.size();
      Evaluation.Outcome outcome = runBaseChain(entry);
      natDone |= nat.size() > natBefore;
      if (outcome != Evaluation.Outcome.ACCEPT) {
        return result(outcome);
      }
    }
    return result(Evaluation.Outcome.ACCEPT);
  }

  private Evaluation result(Evaluation.Outcome outcome) {
    return new Evaluation(outcome, packet, List.copyOf(trace), List.copyOf(counters), List.copyOf(nat),
        List.copyOf(logs));
  }

  private boolean sees(NftFamily family, BaseChain base) {
    if (base.hook() == Hook.INGRESS) {
      boolean onDevice = base.device().equals(packet.inInterface());
      return onDevice && (family == NftFamily.NETDEV || (family == NftFamily.INET && !packet.bridged()));
    }
    if (packet.bridged()) {
      return family == NftFamily.BRIDGE;
    }
    return switch (family) {
      case INET -> true;
      case IP -> packet.isIpv4();
      case IP6 -> !packet.isIpv4();
      default -> false;
    };
  }

  private record Frame(SimRuleset.SimChain chain, int next) {}

  private Evaluation.Outcome runBaseChain(Entry entry) {
    SimRuleset.SimTable table = entry.table();
    Deque<Frame> stack = new ArrayDeque<>();
    SimRuleset.SimChain chain = entry.chain();
    int index = 0;
    while (true) {
      if (index >= chain.rules.size()) {
        if (stack.isEmpty()) {
          return policy(entry);
        }
        Frame frame = stack.pop();
        chain = frame.chain();
        index = frame.next();
        continue;
      }
      SimRuleset.SimRule rule = chain.rules.get(index);
      Optional<Stmt> verdict = runRule(table, rule);
      if (verdict.isEmpty()) {
        index++;
        continue;
      }
      Stmt v = verdict.get();
      step(table, chain, index, rule, describe(v));
      if (v instanceof Stmt.Accept || v instanceof Stmt.Nat) {
        return Evaluation.Outcome.ACCEPT;
      } else if (v instanceof Stmt.Drop) {
        return Evaluation.Outcome.DROP;
      } else if (v instanceof Stmt.Reject) {
        return Evaluation.Outcome.REJECT;
      } else if (v instanceof Stmt.Jump j) {
        if (stack.size() >= MAX_JUMP_DEPTH) {
          return Evaluation.Outcome.DROP;
        }
        stack.push(new Frame(chain, index + 1));
        chain = table.chains.get(j.target());
        index = 0;
      } else if (v instanceof Stmt.Goto g) {
        chain = table.chains.get(g.target());
        index = 0;
      } else if (v instanceof Stmt.Return) {
        if (stack.isEmpty()) {
          return policy(entry);
        }
        Frame frame = stack.pop();
        chain = frame.chain();
        index = frame.next();
      }
    }
  }

  private Evaluation.Outcome policy(Entry entry) {
    BaseChain.Policy policy = entry.base().policy();
    trace.add(new Evaluation.Step(entry.table().ref, entry.chain().name, -1, Optional.empty(),
        "policy " + policy.nftName()));
    return policy == BaseChain.Policy.DROP ? Evaluation.Outcome.DROP : Evaluation.Outcome.ACCEPT;
  }

  private void step(SimRuleset.SimTable table, SimRuleset.SimChain chain, int index, SimRuleset.SimRule rule,
      String action) {
    trace.add(new Evaluation.Step(table.ref, chain.name, index, rule.rule.comment(), action));
  }

  private static String describe(Stmt verdict) {
    if (verdict instanceof Stmt.Nat n) {
      return n.kind().nftName();
    } else if (verdict instanceof Stmt.Jump j) {
      return "jump " + j.target();
    } else if (verdict instanceof Stmt.Goto g) {
      return "goto " + g.target();
    } else if (verdict instanceof Stmt.Reject) {
      return "reject";
    }
    return verdict.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Runs a rule's statements; the verdict (or NAT statement, which accepts) it ends in, or empty
   * when it stops or falls through.
   */
  private Optional<Stmt> runRule(SimRuleset.SimTable table, SimRuleset.SimRule rule) {
    List<Stmt> statements = rule.rule.statements();
    for (int i = 0; i < statements.size(); i++) {
      Stmt stmt = statements.get(i);
      if (stmt instanceof Stmt.Match m) {
        if (!matches(table, m)) {
          return Optional.empty();
        }
      } else if (stmt instanceof Stmt.Verdict v) {
        return Optional.of(v);
      } else if (stmt instanceof Stmt.Counter) {
        continue; // anonymous counters are not read back from the sim
      } else if (stmt instanceof Stmt.NamedCounter c) {
        table.counters.merge(c.name(), CounterValues.ZERO.plus(1, packet.length()),
            (old, add) -> old.plus(add.packets(), add.bytes()));
        counters.add(c.name());
      } else if (stmt instanceof Stmt.Vmap v) {
        Optional<Object> key = read(v.key());
        if (key.isEmpty()) {
          return Optional.empty();
        }
        Optional<MapElement> hit = lookup(table.maps.get(v.map()), key.get(), v.key());
        if (hit.isEmpty()) {
          return Optional.empty();
        }
        return Optional.of((Stmt) hit.get().data());
      } else if (stmt instanceof Stmt.Nat n) {
        if (!translate(table, n)) {
          return Optional.empty();
        }
        return Optional.of(n);
      } else if (stmt instanceof Stmt.Mangle m && m.key() instanceof Field.TcpOption) {
        Optional<Object> mss = read(m.value() instanceof Field f ? f : Field.RT_MTU);
        long value = m.value() instanceof Value.Num num ? num.value() : (Long) mss.orElse(0L);
        // as the kernel: only a segment that carries the option, and an MSS is only ever lowered
        if (packet.protocol() == 6 && packet.tcpMss() > 0 && value < packet.tcpMss()) {
          packet = packet.withTcpMss((int) value);
        }
      } else if (stmt instanceof Stmt.Mangle m) {
        long value = m.value() instanceof Value.Num num ? num.value()
            : ((Number) read((Field) m.value()).orElse(0L)).longValue();
        packet = m.key().equals(Field.MARK) ? packet.withMark((int) value) : packet.withCtMark((int) value);
      } else if (stmt instanceof Stmt.Log l) {
        logs.add(l.prefix().orElse("") + packet);
      } else if (stmt instanceof Stmt.Limit l) {
        if (!withinLimit(rule, i, l) ^ l.over()) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  /** The kernel's token bucket: starts with rate + burst packets, refills at the rate. */
  private boolean withinLimit(SimRuleset.SimRule rule, int statement, Stmt.Limit limit) {
    long unitNanos = switch (limit.per()) {
      case "second" -> 1_000_000_000L;
      case "minute" -> 60_000_000_000L;
      case "hour" -> 3_600_000_000_000L;
      default -> 86_400_000_000_000L;
    };
    long cost = unitNanos / limit.rate();
    long max = cost * (limit.rate() + limit.burst());
    long[] bucket = rule.buckets.computeIfAbsent(statement, s -> new long[] {max, nowNanos});
    long tokens = Math.min(max, bucket[0] + (nowNanos - bucket[1]));
    bucket[1] = nowNanos;
    if (tokens >= cost) {
      bucket[0] = tokens - cost;
      return true;
    }
    bucket[0] = tokens;
    return false;
  }

  private boolean translate(SimRuleset.SimTable table, Stmt.Nat n) {
    Optional<InetAddress> address = Optional.empty();
    if (n.address().isPresent()) {
      Value value = n.address().get();
      if (value instanceof Value.Addr a) {
        address = Optional.of(a.address());
      } else if (value instanceof Value.MapLookup lookup) {
        Optional<Object> key = read(lookup.key());
        Optional<MapElement> hit =
            key.flatMap(k -> lookup(table.maps.get(lookup.map()), k, lookup.key()));
        if (hit.isEmpty()) {
          return false; // no mapping: the rule does not apply
        }
        address = Optional.of(((Value.Addr) hit.get().data()).address());
      }
    }
    Optional<Integer> port = n.port().map(p -> (int) (p instanceof Value.Range r
        ? ((Value.Num) r.low()).value() : ((Value.Num) p).value()));
    switch (n.kind()) {
      case DNAT -> packet = packet.withDestination(address.orElse(packet.destination()),
          port.orElse(packet.destinationPort()));
      case SNAT -> packet = packet.withSource(address.orElse(packet.source()), port.orElse(packet.sourcePort()));
      case REDIRECT -> packet = packet.withDestination(packet.destination(), port.orElse(packet.destinationPort()));
      case MASQUERADE -> packet = packet.withSource(packet.source(), port.orElse(packet.sourcePort()));
    }
    nat.add(new Evaluation.NatApplied(n.kind(), address, port));
    return true;
  }

  // ------------------------------------------------------------------ field values

  /** The field's value for this packet; empty when the packet has no such header. */
  private Optional<Object> read(Field field) {
    if (field instanceof Field.Meta m) {
      return switch (m.key()) {
        // As in the kernel: no device reads as the empty name (so != "x" matches), not as no match.
        case IIFNAME -> Optional.of(packet.inInterface().orElse(""));
        case OIFNAME -> Optional.of(packet.outInterface().orElse(""));
        case L4PROTO -> packet.isArp() ? Optional.empty() : Optional.of((long) packet.protocol());
        case MARK -> Optional.of(Integer.toUnsignedLong(packet.mark()));
        case NFPROTO -> Optional.of(packet.isIpv4() ? 2L : 10L);
        case PROTOCOL -> Optional.of((long) packet.etherType());
      };
    } else if (field instanceof Field.Ct c) {
      return switch (c.key()) {
        case STATE -> Optional.of(packet.ctState().nftName());
        case STATUS -> Optional.of(packet.ctStatus());
        case MARK -> Optional.of(Integer.toUnsignedLong(packet.ctMark()));
      };
    } else if (field instanceof Field.Rt) {
      return Optional.of((long) packet.routeMtu() - (packet.isIpv4() ? 40 : 60)); // the MSS the MTU carries
    } else if (field instanceof Field.TcpOption) {
      return packet.protocol() == 6 && packet.tcpMss() > 0 ? Optional.of((long) packet.tcpMss()) : Optional.empty();
    } else if (field instanceof Field.Masked m) {
      return read(m.field()).map(v -> ((Long) v) & m.mask());
    } else if (field instanceof Field.Concat c) {
      List<Object> parts = new ArrayList<>();
      for (Field part : c.fields()) {
        Optional<Object> value = read(part);
        if (value.isEmpty()) {
          return Optional.empty();
        }
        parts.add(value.get());
      }
      return Optional.of(parts);
    }
    Field.PayloadField payload = ((Field.Payload) field).field();
    int protocol = packet.isArp() ? -1 : packet.protocol();
    boolean v4 = packet.isIpv4() && !packet.isArp();
    return switch (payload) {
      case IP_SADDR -> v4 ? Optional.of(packet.source()) : Optional.empty();
      case IP_DADDR -> v4 ? Optional.of(packet.destination()) : Optional.empty();
      case IP_PROTOCOL -> v4 ? Optional.of((long) protocol) : Optional.empty();
      case IP6_SADDR -> v4 || packet.isArp() ? Optional.empty() : Optional.of(packet.source());
      case IP6_DADDR -> v4 || packet.isArp() ? Optional.empty() : Optional.of(packet.destination());
      case TCP_SPORT -> protocol == 6 ? Optional.of((long) packet.sourcePort()) : Optional.empty();
      case TCP_DPORT -> protocol == 6 ? Optional.of((long) packet.destinationPort()) : Optional.empty();
      case TCP_FLAGS -> protocol == 6 ? Optional.of(packet.tcpFlags()) : Optional.empty();
      case UDP_SPORT -> protocol == 17 ? Optional.of((long) packet.sourcePort()) : Optional.empty();
      case UDP_DPORT -> protocol == 17 ? Optional.of((long) packet.destinationPort()) : Optional.empty();
      case TH_SPORT -> protocol == 6 || protocol == 17 ? Optional.of((long) packet.sourcePort()) : Optional.empty();
      case TH_DPORT ->
          protocol == 6 || protocol == 17 ? Optional.of((long) packet.destinationPort()) : Optional.empty();
      case ICMP_TYPE -> protocol == 1 ? Optional.of((long) packet.icmpType()) : Optional.empty();
      case ICMPV6_TYPE -> protocol == 58 ? Optional.of((long) packet.icmpType()) : Optional.empty();
      case ETHER_SADDR -> packet.etherSource().map(m -> m.value());
      case ETHER_DADDR -> Optional.empty();
      case ETHER_TYPE -> Optional.of((long) packet.etherType());
    };
  }

  private boolean matches(SimRuleset.SimTable table, Stmt.Match match) {
    Optional<Object> actual = read(match.left());
    if (actual.isEmpty()) {
      return false; // like the kernel: a missing header or interface stops the rule, whatever the operator
    }
    List<DataType> types = match.left().dataTypes();
    boolean hit;
    if (match.right() instanceof Value.SetRef ref) {
      NftSet set = table.sets.get(ref.name());
      hit = set != null
          ? set.elements().stream().anyMatch(e -> contains(e, actual.get(), types))
          : lookup(table.maps.get(ref.name()), actual.get(), match.left()).isPresent();
    } else {
      hit = contains(match.right(), actual.get(), types);
    }
    return match.op() == Stmt.Op.NE ? !hit : hit;
  }

  private Optional<MapElement> lookup(NftMap map, Object key, Field field) {
    return map.elements().stream().filter(e -> contains(e.key(), key, field.dataTypes())).findFirst();
  }

  /** True when the packet's value is (in) the rule's value. */
  @SuppressWarnings("unchecked")
  private static boolean contains(Value value, Object actual, List<DataType> types) {
    DataType type = types.size() == 1 ? types.get(0) : null;
    if (value instanceof Value.AnonSet s) {
      return s.elements().stream().anyMatch(e -> contains(e, actual, types));
    } else if (value instanceof Value.Concat c) {
      List<Object> parts = (List<Object>) actual;
      for (int i = 0; i < parts.size(); i++) {
        if (!contains(c.values().get(i), parts.get(i), List.of(types.get(i)))) {
          return false;
        }
      }
      return true;
    } else if (value instanceof Value.Flags f) {
      if (actual instanceof java.util.Set<?> bits) {
        return f.names().stream().anyMatch(bits::contains);
      }
      return f.names().contains(actual);
    } else if (value instanceof Value.Addr a) {
      return a.address().equals(actual);
    } else if (value instanceof Value.Prefix p) {
      return actual instanceof InetAddress address && p.prefix().contains(address);
    } else if (value instanceof Value.Range r) {
      BigInteger number = ordinal(actual);
      return number != null && ordinal(r.low()).compareTo(number) <= 0 && number.compareTo(ordinal(r.high())) <= 0;
    } else if (value instanceof Value.Num n) {
      return actual instanceof Long number && number == n.value();
    } else if (value instanceof Value.Mac m) {
      return m.mac().value().equals(actual);
    } else if (value instanceof Value.Name n) {
      if (type == DataType.IFNAME) {
        String name = n.name();
        return name.endsWith("*") ? ((String) actual).startsWith(name.substring(0, name.length() - 1))
            : name.equals(actual);
      }
      if (type == DataType.CT_STATE) {
        return n.name().equals(actual);
      }
      if (type == DataType.CT_STATUS) {
        return ((java.util.Set<String>) actual).contains(n.name());
      }
      return Symbols.number(type, n.name()).map(number -> Long.valueOf(number).equals(actual)).orElse(false);
    }
    return false;
  }

  private static BigInteger ordinal(Object value) {
    if (value instanceof Value.Addr a) {
      return new BigInteger(1, a.address().getAddress());
    } else if (value instanceof Value.Num n) {
      return BigInteger.valueOf(n.value());
    } else if (value instanceof InetAddress address) {
      return new BigInteger(1, address.getAddress());
    } else if (value instanceof Long number) {
      return BigInteger.valueOf(number);
    }
    return null;
  }
}
