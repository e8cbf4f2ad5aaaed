package dev.verge.hostos;

import dev.verge.proto.IpText;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address with a prefix length, e.g. {@code 192.0.2.1/24}; the address keeps its host bits. */
public record IpPrefix(InetAddress address, int length) {
  public IpPrefix {
    int max = address instanceof Inet4Address ? 32 : 128;
    if (length < 0 || length > max) {
      throw new IllegalArgumentException("prefix length " + length + " out of 0.." + max);
    }
  }

  /**
   * Parses {@code a.b.c.d/len} or an IPv6 literal with a length; a bare address is a host. Strict
   * (the project's one parser, {@link IpText}): {@code 10.1} or {@code 1.2.3.4/33} are refused, and
   * no text ever causes a DNS lookup.
   */
  public static IpPrefix parse(String text) {
    IpText.AddressAndLength parsed = IpText.addressAndLength(text, true)
        .orElseThrow(() -> new IllegalArgumentException("not an IP prefix: " + text));
    return new IpPrefix(parsed.address(), parsed.length());
  }

  /** Parses an IP literal strictly, without ever asking DNS. */
  public static InetAddress literal(String text) {
    return IpText.address(text)
        .orElseThrow(() -> new IllegalArgumentException("not an IP address: " + text));
  }

  public boolean isIpv4() {
    return address instanceof Inet4Address;
  }

  /** The same prefix with the host bits cleared, as a route destination. */
  public IpPrefix network() {
    byte[] bytes = address.getAddress();
    for (int bit = length; bit < bytes.length * 8; bit++) {
      bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return new IpPrefix(fromBytes(bytes), length);
  }

  /**
   * The address of 4 or 16 bytes, keeping the family: an IPv4-mapped IPv6 address stays IPv6
   * (InetAddress.getByAddress would turn it into IPv4).
   */
  public static InetAddress fromBytes(byte[] raw) {
    try {
      return raw.length == 16 ? Inet6Address.getByAddress(null, raw, -1) : InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("an IP address has 4 or 16 bytes, not " + raw.length, e);
    }
  }

  public boolean contains(InetAddress other) {
    byte[] mine = address.getAddress();
    byte[] theirs = other.getAddress();
    if (mine.length != theirs.length) {
      return false;
    }
    int shift = mine.length * 8 - length;
    return new BigInteger(1, mine).shiftRight(shift).equals(new BigInteger(1, theirs).shiftRight(shift));
  }

  @Override
  public String toString() {
    return address.getHostAddress() + "/" + length;
  }
}
