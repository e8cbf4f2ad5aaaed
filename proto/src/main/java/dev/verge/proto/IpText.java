package dev.verge.proto;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** Parses IP addresses and prefixes in text form without ever doing a DNS lookup. */
public final class IpText {
  private IpText() {}

  /** An address range [first, last] of one family, from a prefix such as 10.1.0.0/24. */
  public record Prefix(int bits, BigInteger first, BigInteger last, int length) {
    public boolean overlaps(Prefix other) {
      return bits == other.bits && first.compareTo(other.last) <= 0 && other.first.compareTo(last) <= 0;
    }

    public boolean contains(InetAddress address) {
      BigInteger value = new BigInteger(1, address.getAddress());
      return address.getAddress().length * 8 == bits && first.compareTo(value) <= 0 && value.compareTo(last) <= 0;
    }
  }

  public static Optional<InetAddress> address(String text) {
    if (text == null || text.isEmpty() || !text.matches("[0-9a-fA-F:.]+") || !(text.contains(".") || text.contains(":"))) {
      return Optional.empty();
    }
    if (text.contains(".") && !text.contains(":") && !text.matches("(\\d{1,3}\\.){3}\\d{1,3}")) {
      return Optional.empty(); // InetAddress would accept "10.1" as 10.0.0.1
    }
    try {
      return Optional.of(InetAddress.getByName(text)); // a literal: no lookup happens
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  public static Optional<Prefix> prefix(String text) {
    if (text == null) {
      return Optional.empty();
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      return Optional.empty();
    }
    Optional<InetAddress> base = address(text.substring(0, slash));
    String lengthText = text.substring(slash + 1);
    if (base.isEmpty() || !lengthText.matches("\\d{1,3}")) {
      return Optional.empty();
    }
    int bits = base.get().getAddress().length * 8;
    int length = Integer.parseInt(lengthText);
    if (length > bits) {
      return Optional.empty();
    }
    BigInteger all = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
    BigInteger hostMask = BigInteger.ONE.shiftLeft(bits - length).subtract(BigInteger.ONE);
    BigInteger first = new BigInteger(1, base.get().getAddress()).and(all.xor(hostMask));
    return Optional.of(new Prefix(bits, first, first.or(hostMask), length));
  }
}
