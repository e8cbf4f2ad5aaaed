package dev.verge.hostos.sim;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.MacAddress;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A packet as the sim firewall sees it at a hook: interfaces, addresses, protocol and ports, and
 * its connection's state and marks.
 *
 * @param protocol the IP protocol number (1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6)
 * @param icmpType the ICMP (or ICMPv6) type; ignored for other protocols
 * @param ctStatus conntrack status bits by nft's names ({@code dnat}, {@code assured}...)
 * @param length the IP packet's length in bytes, what byte counters add
 * @param bridged true for a frame a bridge forwards: the bridge family's chains see it, not ip/inet
 * @param tcpFlags a TCP segment's flags by nft's names ({@code syn}, {@code ack}...)
 * @param tcpMss the MSS option of a TCP segment; 0 when it carries none
 * @param routeMtu the MTU of the route the packet takes (what {@code rt mtu} reads)
 * @param etherType the frame's EtherType: {@link #ETHER_ARP} for an ARP packet (its addresses are the
 *     sender's and target's protocol addresses; it has no IP header), else IPv4 or IPv6
 */
public record Packet(
    Optional<String> inInterface,
    Optional<String> outInterface,
    Optional<MacAddress> etherSource,
    InetAddress source,
    InetAddress destination,
    int protocol,
    int sourcePort,
    int destinationPort,
    int icmpType,
    CtState ctState,
    Set<String> ctStatus,
    int mark,
    int ctMark,
    int length,
    boolean bridged,
    Set<String> tcpFlags,
    int tcpMss,
    int routeMtu,
    int etherType) {

  public static final int ETHER_IPV4 = 0x0800;
  public static final int ETHER_ARP = 0x0806;
  public static final int ETHER_IPV6 = 0x86dd;

  /** The connection tracking state of a packet. */
  public enum CtState {
    NEW,
    ESTABLISHED,
    RELATED,
    INVALID,
    UNTRACKED;

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Packet {
    Objects.requireNonNull(inInterface);
    Objects.requireNonNull(outInterface);
    Objects.requireNonNull(etherSource);
    Objects.requireNonNull(source);
    Objects.requireNonNull(destination);
    Objects.requireNonNull(ctState);
    ctStatus = Set.copyOf(ctStatus);
    tcpFlags = Set.copyOf(tcpFlags);
    if ((source instanceof Inet4Address) != (destination instanceof Inet4Address)) {
      throw new IllegalArgumentException("source and destination must be of one address family");
    }
  }

  /** The MSS a host on a 1500-byte Ethernet announces in its SYN. */
  public static final int ETHERNET_MSS = 1460;

  private static Packet of(String source, String destination, int protocol, int sport, int dport, int icmpType,
      int length) {
    boolean syn = protocol == 6;
    return new Packet(Optional.empty(), Optional.empty(), Optional.empty(), IpPrefix.literal(source),
        IpPrefix.literal(destination), protocol, sport, dport, icmpType, CtState.NEW, Set.of(), 0, 0, length,
        false, syn ? Set.of("syn") : Set.of(), syn ? ETHERNET_MSS : 0, 1500,
        IpPrefix.literal(source) instanceof Inet4Address ? ETHER_IPV4 : ETHER_IPV6);
  }

  /** A TCP segment of a new connection (60 bytes, a SYN with options). */
  public static Packet tcp(String source, int sourcePort, String destination, int destinationPort) {
    return of(source, destination, 6, sourcePort, destinationPort, 0, 60);
  }

  /** A UDP datagram (of 64 bytes). */
  public static Packet udp(String source, int sourcePort, String destination, int destinationPort) {
    return of(source, destination, 17, sourcePort, destinationPort, 0, 64);
  }

  /** An ARP request from {@code sender} asking for {@code target}'s address (a broadcast frame of 42 bytes). */
  public static Packet arp(String sender, String target) {
    Packet p = of(sender, target, 0, 0, 0, 0, 42);
    return new Packet(p.inInterface, p.outInterface, p.etherSource, p.source, p.destination, 0, 0, 0, 0,
        CtState.UNTRACKED, Set.of(), 0, 0, 42, true, Set.of(), 0, 1500, ETHER_ARP);
  }

  public boolean isArp() {
    return etherType == ETHER_ARP;
  }

  /** An echo request, as busybox ping sends it (84 bytes in IPv4, 104 in IPv6). */
  public static Packet ping(String source, String destination) {
    boolean v4 = IpPrefix.literal(source) instanceof Inet4Address;
    return of(source, destination, v4 ? 1 : 58, 0, 0, v4 ? 8 : 128, v4 ? 84 : 104);
  }

  /**
   * The answer to this packet: addresses, ports and interfaces swapped, of an established
   * connection; it keeps the connection's mark, not the packet's.
   */
  public Packet reply() {
    int replyIcmp = protocol == 1 && icmpType == 8 ? 0 : protocol == 58 && icmpType == 128 ? 129 : icmpType;
    return new Packet(outInterface, inInterface, Optional.empty(), destination, source, protocol,
        destinationPort, sourcePort, replyIcmp, CtState.ESTABLISHED, ctStatus, 0, ctMark, length, bridged,
        tcpFlags.contains("syn") ? Set.of("syn", "ack") : tcpFlags, tcpMss, routeMtu, etherType);
  }

  /** The packet on a route of this MTU (the sim firewall does not route; the caller says where it goes). */
  public Packet withRouteMtu(int mtu) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, mtu, etherType);
  }

  /** A TCP segment with these flags and MSS option (0: none). */
  public Packet withTcp(int mss, String... flags) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, Set.of(flags), mss, routeMtu, etherType);
  }

  Packet withTcpMss(int mss) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, mss, routeMtu, etherType);
  }

  public boolean isIpv4() {
    return source instanceof Inet4Address;
  }

  public Packet in(String ifname) {
    return new Packet(Optional.of(ifname), outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet out(String ifname) {
    return new Packet(inInterface, Optional.of(ifname), etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withEtherSource(String mac) {
    return new Packet(inInterface, outInterface, Optional.of(MacAddress.of(mac)), source, destination, protocol,
        sourcePort, destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withCtState(CtState state) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, state, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withCtStatus(String... status) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, Set.of(status), mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withMark(int newMark) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, newMark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withCtMark(int newCtMark) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, newCtMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet withLength(int newLength) {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, newLength, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  public Packet asBridged() {
    return new Packet(inInterface, outInterface, etherSource, source, destination, protocol, sourcePort,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, true, tcpFlags, tcpMss, routeMtu, etherType);
  }

  Packet withSource(InetAddress address, int port) {
    return new Packet(inInterface, outInterface, etherSource, address, destination, protocol, port,
        destinationPort, icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }

  Packet withDestination(InetAddress address, int port) {
    return new Packet(inInterface, outInterface, etherSource, source, address, protocol, sourcePort, port,
        icmpType, ctState, ctStatus, mark, ctMark, length, bridged, tcpFlags, tcpMss, routeMtu, etherType);
  }
}
