package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import java.net.Inet4Address;
import java.net.InetAddress;

/** IPv4 addresses as unsigned 32-bit numbers, for the arithmetic IPAM does. */
final class Ipv4 {
  private Ipv4() {}

  static long toLong(InetAddress address) {
    if (!(address instanceof Inet4Address)) {
      throw new IllegalArgumentException("not an IPv4 address: " + address.getHostAddress());
    }
    byte[] b = address.getAddress();
    return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
  }

  static InetAddress fromLong(long value) {
    return IpPrefix.fromBytes(new byte[] {
        (byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
  }

  static String text(long value) {
    return fromLong(value).getHostAddress();
  }

  /** The number of addresses of a prefix. */
  static long size(IpPrefix prefix) {
    return 1L << (32 - prefix.length());
  }

  static long first(IpPrefix prefix) {
    return toLong(prefix.network().address());
  }

  static long last(IpPrefix prefix) {
    return first(prefix) + size(prefix) - 1;
  }

  static boolean overlap(IpPrefix a, IpPrefix b) {
    return first(a) <= last(b) && first(b) <= last(a);
  }

  /** The dotted netmask of a prefix length, as DHCP servers want it. */
  static String netmask(int length) {
    return text(length == 0 ? 0 : (0xffffffffL << (32 - length)) & 0xffffffffL);
  }
}
