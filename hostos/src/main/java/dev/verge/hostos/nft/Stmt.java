package dev.verge.hostos.nft;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/** One statement of a rule: a match, an action, or a verdict. */
public sealed interface Stmt {
  /** Comparison operators of a match; {@code IN} tests flag bits ({@code ct state established}). */
  enum Op {
    EQ("=="),
    NE("!="),
    IN("in");

    private final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    public String symbol() {
      return symbol;
    }

    public static Op of(String symbol) {
      return Arrays.stream(values()).filter(o -> o.symbol.equals(symbol)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unsupported operator " + symbol));
    }
  }

  /** The rule goes on only if the field compares true; a set value means membership. */
  record Match(Field left, Op op, Value right) implements Stmt {
    public Match {
      Objects.requireNonNull(left);
      Objects.requireNonNull(op);
      Objects.requireNonNull(right);
    }
  }

  /** An anonymous counter of the rule. */
  record Counter() implements Stmt {}

  /** Counts into a named counter of the table. */
  record NamedCounter(String name) implements Stmt {
    public NamedCounter {
      Objects.requireNonNull(name);
    }
  }

  /** Ends the rule with a verdict. */
  sealed interface Verdict extends Stmt, MapData {}

  record Accept() implements Verdict {}

  record Drop() implements Verdict {}

  /** Back to the calling chain; in a base chain, the policy applies. */
  record Return() implements Verdict {}

  /** Runs another chain and comes back after it unless it ended in a final verdict. */
  record Jump(String target) implements Verdict {
    public Jump {
      Objects.requireNonNull(target);
    }
  }

  /** Runs another chain in place of this one: its end returns to this chain's caller. */
  record Goto(String target) implements Verdict {
    public Goto {
      Objects.requireNonNull(target);
    }
  }

  /**
   * Drops with an answer: {@code type} is {@code icmpx}, {@code icmp}, {@code icmpv6} (with a code
   * such as {@code port-unreachable}) or {@code tcp reset} (no code; put a {@code meta l4proto tcp}
   * match before it, as nft itself would).
   */
  record Reject(String type, Optional<String> code) implements Verdict {
    public Reject {
      Objects.requireNonNull(type);
      Objects.requireNonNull(code);
    }

    public static Reject icmpx(String code) {
      return new Reject("icmpx", Optional.of(code));
    }

    public static Reject tcpReset() {
      return new Reject("tcp reset", Optional.empty());
    }
  }

  /** Looks the key up in a verdict map; a miss goes on with the next statement. */
  record Vmap(Field key, String map) implements Stmt {
    public Vmap {
      Objects.requireNonNull(key);
      Objects.requireNonNull(map);
    }
  }

  enum NatKind {
    SNAT,
    DNAT,
    MASQUERADE,
    REDIRECT;

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Network address translation; like nft's, it ends the chain (the packet is accepted).
   *
   * @param family {@code ip} or {@code ip6}: which address family an inet table translates
   * @param address the new address (snat, dnat), an address or a {@link Value.MapLookup}
   * @param port the new port or port range
   */
  record Nat(NatKind kind, Optional<NftFamily> family, Optional<Value> address, Optional<Value> port)
      implements Stmt {
    public Nat {
      Objects.requireNonNull(kind);
      Objects.requireNonNull(family);
      Objects.requireNonNull(address);
      Objects.requireNonNull(port);
    }
  }

  /** Sets a field ({@code meta mark}, {@code ct mark}) to a value or to another field. */
  record Mangle(Field key, Expr value) implements Stmt {
    public Mangle {
      Objects.requireNonNull(key);
      Objects.requireNonNull(value);
    }
  }

  /** Logs the packet (with a prefix), or hands it to an NFLOG group. */
  record Log(Optional<String> prefix, Optional<Integer> group) implements Stmt {
    public Log {
      Objects.requireNonNull(prefix);
      Objects.requireNonNull(group);
    }
  }

  /**
   * A token bucket of packets: the rule goes on while under the rate ({@code over}: once over it).
   * The bucket starts full with {@code rate + burst} packets, as the kernel's does.
   */
  record Limit(long rate, String per, int burst, boolean over) implements Stmt {
    /** The kernel's burst when none is given (nft lists it). */
    public static final int DEFAULT_BURST = 5;

    public Limit {
      burst = burst == 0 ? DEFAULT_BURST : burst;
      if (rate <= 0) {
        throw new IllegalArgumentException("limit rate must be positive: " + rate);
      }
      if (!java.util.List.of("second", "minute", "hour", "day").contains(per)) {
        throw new IllegalArgumentException("limit unit must be second, minute, hour or day: " + per);
      }
    }
  }

  Stmt ACCEPT = new Accept();
  Stmt DROP = new Drop();
  Stmt RETURN = new Return();
  Stmt COUNTER = new Counter();

  static Stmt match(Field left, Value right) {
    return new Match(left, Op.EQ, right);
  }

  static Stmt notMatch(Field left, Value right) {
    return new Match(left, Op.NE, right);
  }

  /** {@code ct state established,related}. */
  static Stmt ctState(String... states) {
    return new Match(Field.CT_STATE, Op.IN, Value.flags(states));
  }

  static Stmt jump(String chain) {
    return new Jump(chain);
  }

  static Stmt goTo(String chain) {
    return new Goto(chain);
  }

  static Stmt counter(String name) {
    return new NamedCounter(name);
  }

  static Stmt vmap(Field key, String map) {
    return new Vmap(key, map);
  }

  static Stmt masquerade() {
    return new Nat(NatKind.MASQUERADE, Optional.empty(), Optional.empty(), Optional.empty());
  }

  static Stmt snat(NftFamily family, Value address) {
    return new Nat(NatKind.SNAT, Optional.of(family), Optional.of(address), Optional.empty());
  }

  static Stmt dnat(NftFamily family, Value address, Optional<Value> port) {
    return new Nat(NatKind.DNAT, Optional.of(family), Optional.of(address), port);
  }

  static Stmt redirect(int port) {
    return new Nat(NatKind.REDIRECT, Optional.empty(), Optional.empty(), Optional.of(Value.num(port)));
  }

  static Stmt setMark(Expr value) {
    return new Mangle(Field.MARK, value);
  }

  static Stmt setCtMark(Expr value) {
    return new Mangle(Field.CT_MARK, value);
  }

  /**
   * {@code tcp option maxseg size set rt mtu}: lowers a segment's MSS to what its route's MTU
   * carries (the kernel never raises it). Put a {@code tcp flags syn} match before it.
   */
  static Stmt clampMssToRouteMtu() {
    return new Mangle(Field.TCP_OPTION_MAXSEG_SIZE, Field.RT_MTU);
  }

  /** {@code tcp flags syn}: any of the flags is set. */
  static Stmt tcpFlags(String... flags) {
    return new Match(Field.TCP_FLAGS, Op.IN, Value.flags(flags));
  }

  static Stmt log(String prefix) {
    return new Log(Optional.of(prefix), Optional.empty());
  }

  static Stmt limit(long rate, String per, int burst) {
    return new Limit(rate, per, burst, false);
  }

  static Stmt limitOver(long rate, String per, int burst) {
    return new Limit(rate, per, burst, true);
  }
}
