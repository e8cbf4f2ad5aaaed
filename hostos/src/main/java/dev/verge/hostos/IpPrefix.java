package dev.verge.hostos;

import java.math.BigInteger;
import java.net.Inet4Address;
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

  /** Parses {@code a.b.c.d/len} or an IPv6 literal with a length; a bare address is a host. */
  public static IpPrefix parse(String text) {
    int slash = text.indexOf('/');
    InetAddress address = literal(slash < 0 ? text : text.substring(0, slash));
    int max = address instanceof Inet4Address ? 32 : 128;
    return new IpPrefix(address, slash < 0 ? max : Integer.parseInt(text.substring(slash + 1)));
  }

  /** Parses an IP literal without ever asking DNS. */
  public static InetAddress literal(String text) {
    if (!text.matches("[0-9a-fA-F:.]+") || !(text.contains(".") || text.contains(":"))) {
      throw new IllegalArgumentException("not an IP address: " + text);
    }
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + text, e);
    }
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
    try {
      return new IpPrefix(InetAddress.getByAddress(bytes), length);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
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
