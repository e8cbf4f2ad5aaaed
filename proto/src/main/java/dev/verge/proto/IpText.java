package dev.verge.proto;

import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The one strict parser of IP addresses and prefixes in text form, shared by the config validator
 * and the host layer. It builds the address bytes itself and never calls
 * {@link InetAddress#getByName}, so no text can ever cause a DNS lookup, and it refuses what
 * InetAddress would quietly reinterpret: {@code 10.1} (10.0.0.1), {@code 010.1.1.1} (octal in some
 * parsers), {@code 999.1.1.1} (looked up as a host name), zone ids ({@code fe80::1%eth0}).
 *
 * <p>Accepted: IPv4 as four decimal octets without leading zeros; IPv6 as RFC 4291 text (1..4 hex
 * digits per group, at most one {@code ::}, an optional dotted IPv4 tail). An IPv4-mapped IPv6
 * address ({@code ::ffff:192.0.2.1}) stays an IPv6 address.
 */
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

  /** An address with its prefix length, as written ({@code 192.0.2.7/24} keeps its host bits). */
  public record AddressAndLength(InetAddress address, int length) {}

  /** The address, or empty if the text is not exactly an IP literal. */
  public static Optional<InetAddress> address(String text) {
    if (text == null) {
      return Optional.empty();
    }
    byte[] bytes = text.contains(":") ? ipv6(text) : ipv4(text);
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      // Inet6Address.getByAddress keeps 16 bytes; InetAddress.getByAddress would turn an
      // IPv4-mapped address into an IPv4 one.
      return Optional.of(bytes.length == 4 ? InetAddress.getByAddress(bytes)
          : Inet6Address.getByAddress(null, bytes, -1));
    } catch (UnknownHostException e) {
      return Optional.empty(); // cannot happen: the length is 4 or 16
    }
  }

  /**
   * {@code address/length}; a bare address when {@code bareIsHost} is set means the host prefix
   * (/32 or /128). Empty for anything else.
   */
  public static Optional<AddressAndLength> addressAndLength(String text, boolean bareIsHost) {
    if (text == null) {
      return Optional.empty();
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      return bareIsHost
          ? address(text).map(a -> new AddressAndLength(a, a.getAddress().length * 8))
          : Optional.empty();
    }
    Optional<InetAddress> base = address(text.substring(0, slash));
    String lengthText = text.substring(slash + 1);
    if (base.isEmpty() || !lengthText.matches("0|[1-9][0-9]{0,2}")) {
      return Optional.empty();
    }
    int length = Integer.parseInt(lengthText);
    if (length > base.get().getAddress().length * 8) {
      return Optional.empty();
    }
    return Optional.of(new AddressAndLength(base.get(), length));
  }

  public static Optional<Prefix> prefix(String text) {
    return addressAndLength(text, false).map(parsed -> {
      int bits = parsed.address().getAddress().length * 8;
      int length = parsed.length();
      BigInteger all = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
      BigInteger hostMask = BigInteger.ONE.shiftLeft(bits - length).subtract(BigInteger.ONE);
      BigInteger first = new BigInteger(1, parsed.address().getAddress()).and(all.xor(hostMask));
      return new Prefix(bits, first, first.or(hostMask), length);
    });
  }

  /** Four decimal octets 0..255 without leading zeros; null otherwise. */
  private static byte[] ipv4(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      Integer octet = octet(parts[i]);
      if (octet == null) {
        return null;
      }
      bytes[i] = (byte) (int) octet;
    }
    return bytes;
  }

  private static Integer octet(String part) {
    if (!part.matches("0|[1-9][0-9]{0,2}")) {
      return null;
    }
    int value = Integer.parseInt(part);
    return value <= 255 ? value : null;
  }

  /** RFC 4291 section 2.2 text forms; null otherwise. */
  private static byte[] ipv6(String text) {
    int doubleColon = text.indexOf("::");
    if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
      return null; // "::" may appear once
    }
    String head = doubleColon >= 0 ? text.substring(0, doubleColon) : text;
    String tail = doubleColon >= 0 ? text.substring(doubleColon + 2) : "";
    int[] headGroups = groups(head, doubleColon < 0); // before a "::" no IPv4 tail
    int[] tailGroups = doubleColon >= 0 ? groups(tail, true) : new int[0];
    if (headGroups == null || tailGroups == null) {
      return null;
    }
    int total = headGroups.length + tailGroups.length;
    if (doubleColon < 0 ? total != 8 : total > 7) {
      return null; // without "::" exactly 8 groups; "::" stands for at least one
    }
    byte[] bytes = new byte[16];
    for (int i = 0; i < headGroups.length; i++) {
      bytes[2 * i] = (byte) (headGroups[i] >>> 8);
      bytes[2 * i + 1] = (byte) headGroups[i];
    }
    int offset = 8 - tailGroups.length;
    for (int i = 0; i < tailGroups.length; i++) {
      bytes[2 * (offset + i)] = (byte) (tailGroups[i] >>> 8);
      bytes[2 * (offset + i) + 1] = (byte) tailGroups[i];
    }
    return bytes;
  }

  /**
   * The 16-bit groups of a colon-separated run ("" is none). A dotted IPv4 address may end the
   * run that ends the address ({@code mayEndInIpv4}), as two groups.
   */
  private static int[] groups(String run, boolean mayEndInIpv4) {
    if (run.isEmpty()) {
      return new int[0];
    }
    String[] parts = run.split(":", -1);
    boolean ipv4Tail = parts[parts.length - 1].contains(".");
    if (ipv4Tail && !mayEndInIpv4) {
      return null;
    }
    int[] groups = new int[parts.length + (ipv4Tail ? 1 : 0)];
    for (int i = 0; i < parts.length; i++) {
      if (ipv4Tail && i == parts.length - 1) {
        byte[] v4 = ipv4(parts[i]);
        if (v4 == null) {
          return null;
        }
        groups[i] = (v4[0] & 0xff) << 8 | (v4[1] & 0xff);
        groups[i + 1] = (v4[2] & 0xff) << 8 | (v4[3] & 0xff);
      } else if (parts[i].matches("[0-9a-fA-F]{1,4}")) {
        groups[i] = Integer.parseInt(parts[i], 16);
      } else {
        return null;
      }
    }
    return groups;
  }
}
