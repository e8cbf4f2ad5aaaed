package dev.verge.hostos.nft;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.MacAddress;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A constant of a rule, set element or map entry. Collections of values (anonymous sets, flags) are
 * kept in a canonical order, because the kernel gives them back in an order of its own.
 */
public sealed interface Value extends Expr, MapData {
  /** An IPv4 or IPv6 address. */
  record Addr(InetAddress address) implements Value {
    public Addr {
      Objects.requireNonNull(address);
    }
  }

  /** An address prefix; host bits are cleared, as nft lists it. */
  record Prefix(IpPrefix prefix) implements Value {
    public Prefix {
      prefix = prefix.network();
    }
  }

  /** An inclusive range of addresses or numbers ({@code 1000-2000}). */
  record Range(Value low, Value high) implements Value {
    public Range {
      Objects.requireNonNull(low);
      Objects.requireNonNull(high);
    }
  }

  /** A number: port, mark, protocol or type number. */
  record Num(long value) implements Value {}

  /**
   * A name: an interface name (a trailing {@code *} matches a prefix, like iptables' {@code +}) or
   * one of nft's symbolic constants ({@code tcp}, {@code echo-request}, {@code ipv6}, {@code new}).
   */
  record Name(String name) implements Value {
    public Name {
      Objects.requireNonNull(name);
    }
  }

  record Mac(MacAddress mac) implements Value {
    public Mac {
      Objects.requireNonNull(mac);
    }
  }

  /** One value per field of a concatenated key. */
  record Concat(List<Value> values) implements Value {
    public Concat {
      values = List.copyOf(values);
    }
  }

  /** An anonymous set in a rule: {@code tcp dport { 22, 80 }}. */
  record AnonSet(List<Value> elements) implements Value {
    public AnonSet {
      elements = canonical(elements);
    }
  }

  /** A named set (or map) of the table: {@code @allowed}. */
  record SetRef(String name) implements Value {
    public SetRef {
      Objects.requireNonNull(name);
    }
  }

  /** Bits tested with {@code in}: {@code ct state established,related}. */
  record Flags(List<String> names) implements Value {
    public Flags {
      names = names.stream().sorted().toList();
    }
  }

  /** The value a named map gives for a key, e.g. the DNAT address of a port. */
  record MapLookup(Field key, String map) implements Value {
    public MapLookup {
      Objects.requireNonNull(key);
      Objects.requireNonNull(map);
    }
  }

  static Value addr(String literal) {
    return new Addr(IpPrefix.literal(literal));
  }

  /** A prefix; a full-length one is an address, as nft lists it. */
  static Value prefix(String cidr) {
    IpPrefix prefix = IpPrefix.parse(cidr);
    int full = prefix.isIpv4() ? 32 : 128;
    return prefix.length() == full ? new Addr(prefix.address()) : new Prefix(prefix);
  }

  static Value num(long value) {
    return new Num(value);
  }

  static Value range(long low, long high) {
    return new Range(new Num(low), new Num(high));
  }

  static Value name(String name) {
    return new Name(name);
  }

  static Value mac(String mac) {
    return new Mac(MacAddress.of(mac));
  }

  static Value set(String name) {
    return new SetRef(name);
  }

  static Value anonSet(Value... elements) {
    return new AnonSet(List.of(elements));
  }

  static Value concat(Value... values) {
    return new Concat(List.of(values));
  }

  static Value flags(String... names) {
    return new Flags(List.of(names));
  }

  /** Orders values the same way whatever order they came in: by kind, then numerically. */
  Comparator<Value> CANONICAL_ORDER = Comparator.comparing(Value::sortKey);

  static List<Value> canonical(List<Value> values) {
    return values.stream().sorted(CANONICAL_ORDER).toList();
  }

  private static String sortKey(Value value) {
    if (value instanceof Addr a) {
      return "1" + padded(new BigInteger(1, a.address().getAddress()));
    } else if (value instanceof Prefix p) {
      return "1" + padded(new BigInteger(1, p.prefix().address().getAddress())) + "/" + p.prefix().length();
    } else if (value instanceof Range r) {
      return sortKey(r.low()) + "-" + sortKey(r.high());
    } else if (value instanceof Num n) {
      return "2" + padded(BigInteger.valueOf(n.value()));
    } else if (value instanceof Name n) {
      return "3" + n.name();
    } else if (value instanceof Mac m) {
      return "4" + m.mac().value();
    } else if (value instanceof Concat c) {
      return "5" + c.values().stream().map(Value::sortKey).toList();
    }
    return "9" + value;
  }

  private static String padded(BigInteger number) {
    String digits = number.toString();
    return "0".repeat(Math.max(0, 40 - digits.length())) + digits;
  }
}
