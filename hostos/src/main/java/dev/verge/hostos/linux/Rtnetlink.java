package dev.verge.hostos.linux;

import dev.verge.hostos.Address;
import dev.verge.hostos.BridgePortSettings;
import dev.verge.hostos.BridgeVlan;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkStats;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.Neighbour;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteScope;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.Rule;
import dev.verge.hostos.VfSettings;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** rtnetlink numbers (linux/rtnetlink.h, if_link.h) and the decoding of its messages. */
final class Rtnetlink {
  static final int RTM_NEWLINK = 16;
  static final int RTM_DELLINK = 17;
  static final int RTM_GETLINK = 18;
  static final int RTM_SETLINK = 19;
  static final int RTM_NEWADDR = 20;
  static final int RTM_DELADDR = 21;
  static final int RTM_GETADDR = 22;
  static final int RTM_NEWROUTE = 24;
  static final int RTM_DELROUTE = 25;
  static final int RTM_GETROUTE = 26;
  static final int RTM_NEWNEIGH = 28;
  static final int RTM_DELNEIGH = 29;
  static final int RTM_GETNEIGH = 30;
  static final int RTM_NEWRULE = 32;
  static final int RTM_DELRULE = 33;
  static final int RTM_GETRULE = 34;

  static final int NDA_DST = 1;
  static final int NDA_LLADDR = 2;
  static final int NUD_PERMANENT = 0x80;

  static final int FRA_DST = 1;
  static final int FRA_SRC = 2;
  static final int FRA_IIFNAME = 3;
  static final int FRA_PRIORITY = 6;
  static final int FRA_FWMARK = 10;
  static final int FRA_SUPPRESS_PREFIXLEN = 14;
  static final int FRA_FWMASK = 16;
  static final int FRA_OIFNAME = 17;
  static final int FRA_TABLE = 15;
  static final int FR_ACT_TO_TBL = 1;

  static final int AF_UNSPEC = 0;
  static final int AF_INET = 2;
  static final int AF_INET6 = 10;
  static final int AF_BRIDGE = 7;

  static final int IFF_UP = 0x1;
  static final int IFF_LOWER_UP = 0x10000;

  static final int IFLA_ADDRESS = 1;
  static final int IFLA_IFNAME = 3;
  static final int IFLA_MTU = 4;
  static final int IFLA_LINK = 5;
  static final int IFLA_MASTER = 10;
  static final int IFLA_PROTINFO = 12;
  static final int IFLA_LINKINFO = 18;
  static final int IFLA_VFINFO_LIST = 22;
  static final int IFLA_STATS64 = 23;
  static final int IFLA_AF_SPEC = 26;
  static final int IFLA_NET_NS_FD = 28;
  static final int IFLA_EXT_MASK = 29;
  static final int RTEXT_FILTER_VF = 1;
  static final int RTEXT_FILTER_BRVLAN_COMPRESSED = 4; // 1 << 2 (8 is RTEXT_FILTER_SKIP_STATS)
  static final int IFLA_BRPORT_MODE = 4;
  static final int IFLA_BRPORT_LEARNING = 8;
  static final int IFLA_BRPORT_UNICAST_FLOOD = 9;
  static final int IFLA_BRPORT_MCAST_FLOOD = 27;
  static final int IFLA_BRPORT_BCAST_FLOOD = 30;
  static final int IFLA_BRPORT_NEIGH_SUPPRESS = 32;
  static final int IFLA_BRPORT_ISOLATED = 33;
  static final int IFLA_BRIDGE_FLAGS = 0;
  static final int IFLA_BRIDGE_VLAN_INFO = 2;
  static final int BRIDGE_FLAGS_SELF = 2;
  static final int BRIDGE_VLAN_INFO_PVID = 0x2;
  static final int BRIDGE_VLAN_INFO_UNTAGGED = 0x4;
  static final int BRIDGE_VLAN_INFO_RANGE_BEGIN = 0x8;
  static final int BRIDGE_VLAN_INFO_RANGE_END = 0x10;
  static final int IFLA_VF_INFO = 1;
  static final int IFLA_VF_MAC = 1;
  static final int IFLA_VF_VLAN = 2;
  static final int IFLA_VF_SPOOFCHK = 4;
  static final int IFLA_VF_LINK_STATE = 5;
  static final int IFLA_VF_TRUST = 9;
  static final int IFLA_INFO_KIND = 1;
  static final int IFLA_INFO_DATA = 2;
  static final int VETH_INFO_PEER = 1;
  static final int IFLA_BR_VLAN_FILTERING = 7;
  static final int IFLA_VLAN_ID = 1;
  static final int IFLA_MACVLAN_MODE = 1;
  static final int IFLA_VXLAN_ID = 1;
  static final int IFLA_VXLAN_GROUP = 2;
  static final int IFLA_VXLAN_LINK = 3;
  static final int IFLA_VXLAN_LOCAL = 4;
  static final int IFLA_VXLAN_PORT = 15;
  static final int IFLA_VRF_TABLE = 1;
  static final int IFLA_BOND_MODE = 1;
  static final int IFLA_BOND_ACTIVE_SLAVE = 2;
  static final int IFLA_BOND_MIIMON = 3;
  static final int IFLA_BOND_UPDELAY = 4;
  static final int IFLA_BOND_DOWNDELAY = 5;
  static final int IFLA_BOND_ARP_INTERVAL = 7;
  static final int IFLA_BOND_ARP_IP_TARGET = 8;
  static final int IFLA_BOND_PRIMARY = 11;
  static final int IFLA_BOND_AD_LACP_RATE = 21;

  static final int IFA_ADDRESS = 1;
  static final int IFA_LOCAL = 2;

  static final int RTA_DST = 1;
  static final int RTA_OIF = 4;
  static final int RTA_GATEWAY = 5;
  static final int RTA_PRIORITY = 6;
  static final int RTA_PREFSRC = 7;
  static final int RTA_TABLE = 15;
  static final int RTPROT_BOOT = 3;
  static final int RT_SCOPE_UNIVERSE = 0;
  static final int RT_SCOPE_LINK = 253;
  static final int RT_SCOPE_NOWHERE = 255;
  static final int RT_TABLE_COMPAT = 252;
  static final int RTM_F_CLONED = 0x200;

  static final int RTNLGRP_LINK = 1;
  static final int RTNLGRP_IPV4_IFADDR = 5;
  static final int RTNLGRP_IPV4_ROUTE = 7;
  static final int RTNLGRP_IPV6_IFADDR = 9;
  static final int RTNLGRP_IPV6_ROUTE = 11;

  private static final MacAddress NO_MAC = MacAddress.of("00:00:00:00:00:00");

  private Rtnetlink() {}

  static int groupMask(int... groups) {
    int mask = 0;
    for (int group : groups) {
      mask |= 1 << (group - 1);
    }
    return mask;
  }

  static int type(ByteBuffer message) {
    return Short.toUnsignedInt(message.getShort(4));
  }

  static int family(ByteBuffer message) {
    return Byte.toUnsignedInt(message.get(NetlinkMessage.HEADER_LENGTH));
  }

  /** Decodes RTM_NEWLINK/RTM_DELLINK (ifinfomsg is 16 bytes). */
  static Link link(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    int index = message.getInt(base + 4);
    int flags = message.getInt(base + 8);
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, base + 16, message.limit());
    MacAddress mac =
        attributes.bytes(IFLA_ADDRESS).filter(b -> b.length == 6).map(MacAddress::of).orElse(NO_MAC);
    return new Link(
        index,
        attributes.string(IFLA_IFNAME).orElse(""),
        attributes.nested(IFLA_LINKINFO).string(IFLA_INFO_KIND).orElse(""),
        attributes.u32(IFLA_MTU, 0),
        mac,
        (flags & IFF_UP) != 0,
        (flags & IFF_LOWER_UP) != 0,
        attributes.u32(IFLA_MASTER, 0),
        attributes.u32(IFLA_LINK, 0));
  }

  /** The counters of a link message (IFLA_STATS64: u64 fields in rtnl_link_stats64 order). */
  static LinkStats stats(ByteBuffer message) {
    ByteBuffer raw = linkAttributes(message).raw(IFLA_STATS64);
    if (raw == null || raw.remaining() < 80) {
      return LinkStats.ZERO;
    }
    return new LinkStats(raw.getLong(0), raw.getLong(8), raw.getLong(16), raw.getLong(24), raw.getLong(32),
        raw.getLong(40), raw.getLong(48), raw.getLong(56), raw.getLong(64), raw.getLong(72));
  }

  /** Whether a bridge's link message says VLAN filtering is on (IFLA_BR_VLAN_FILTERING). */
  static boolean vlanFiltering(ByteBuffer message) {
    ByteBuffer raw = linkAttributes(message).nested(IFLA_LINKINFO).nested(IFLA_INFO_DATA).raw(IFLA_BR_VLAN_FILTERING);
    return raw != null && raw.remaining() > 0 && raw.get(0) != 0;
  }

  /** A bond's active member from its link message (IFLA_BOND_ACTIVE_SLAVE), 0 if none. */
  static int bondActiveMember(ByteBuffer message) {
    return linkAttributes(message).nested(IFLA_LINKINFO).nested(IFLA_INFO_DATA).u32(IFLA_BOND_ACTIVE_SLAVE, 0);
  }

  /** A bridge port's flags from its AF_BRIDGE link message (IFLA_PROTINFO), or empty if absent. */
  static Optional<BridgePortSettings> bridgePort(ByteBuffer message) {
    NetlinkAttributes attributes = linkAttributes(message);
    if (!attributes.has(IFLA_PROTINFO)) {
      return Optional.empty();
    }
    NetlinkAttributes port = attributes.nested(IFLA_PROTINFO);
    return Optional.of(new BridgePortSettings(
        flag(port, IFLA_BRPORT_LEARNING), flag(port, IFLA_BRPORT_UNICAST_FLOOD),
        flag(port, IFLA_BRPORT_MCAST_FLOOD), flag(port, IFLA_BRPORT_BCAST_FLOOD), flag(port, IFLA_BRPORT_MODE),
        flag(port, IFLA_BRPORT_ISOLATED), flag(port, IFLA_BRPORT_NEIGH_SUPPRESS)));
  }

  private static Optional<Boolean> flag(NetlinkAttributes attributes, int type) {
    ByteBuffer raw = attributes.raw(type);
    return raw == null || raw.remaining() == 0 ? Optional.of(false) : Optional.of(raw.get(0) != 0);
  }

  /** The VLANs in an AF_BRIDGE link message (IFLA_AF_SPEC, compressed ranges expanded). */
  static List<BridgeVlan> bridgeVlans(ByteBuffer message) {
    ByteBuffer spec = linkAttributes(message).raw(IFLA_AF_SPEC);
    List<BridgeVlan> vlans = new ArrayList<>();
    if (spec == null) {
      return vlans;
    }
    int rangeStart = -1;
    for (ByteBuffer entry : NetlinkAttributes.eachOfType(spec, IFLA_BRIDGE_VLAN_INFO)) {
      int flags = Short.toUnsignedInt(entry.getShort(0));
      int vid = Short.toUnsignedInt(entry.getShort(2));
      boolean pvid = (flags & BRIDGE_VLAN_INFO_PVID) != 0;
      boolean untagged = (flags & BRIDGE_VLAN_INFO_UNTAGGED) != 0;
      if ((flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) != 0) {
        rangeStart = vid;
      } else if ((flags & BRIDGE_VLAN_INFO_RANGE_END) != 0 && rangeStart > 0) {
        for (int v = rangeStart; v <= vid; v++) {
          vlans.add(new BridgeVlan(v, pvid, untagged));
        }
        rangeStart = -1;
      } else {
        vlans.add(new BridgeVlan(vid, pvid, untagged));
      }
    }
    return vlans;
  }

  private static NetlinkAttributes linkAttributes(ByteBuffer message) {
    return NetlinkAttributes.parse(message, NetlinkMessage.HEADER_LENGTH + 16, message.limit());
  }

  static int linkIndex(ByteBuffer message) {
    return message.getInt(NetlinkMessage.HEADER_LENGTH + 4);
  }

  /** Decodes RTM_NEWADDR/RTM_DELADDR (ifaddrmsg is 8 bytes). */
  static Address address(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    int prefixLength = Byte.toUnsignedInt(message.get(base + 1));
    int index = message.getInt(base + 4);
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, base + 8, message.limit());
    byte[] raw = attributes.bytes(IFA_LOCAL).or(() -> attributes.bytes(IFA_ADDRESS)).orElseThrow();
    return new Address(index, new IpPrefix(inet(raw), prefixLength));
  }

  /** Decodes RTM_NEWROUTE/RTM_DELROUTE (rtmsg is 12 bytes). */
  static Route route(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    int family = Byte.toUnsignedInt(message.get(base));
    int dstLength = Byte.toUnsignedInt(message.get(base + 1));
    int headerTable = Byte.toUnsignedInt(message.get(base + 4));
    int protocol = Byte.toUnsignedInt(message.get(base + 5));
    int scope = Byte.toUnsignedInt(message.get(base + 6));
    int type = Byte.toUnsignedInt(message.get(base + 7));
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, base + 12, message.limit());
    byte[] any = new byte[family == AF_INET ? 4 : 16];
    InetAddress destination = inet(attributes.bytes(RTA_DST).orElse(any));
    Optional<InetAddress> gateway = attributes.bytes(RTA_GATEWAY).map(Rtnetlink::inet);
    return new Route(
        new IpPrefix(destination, dstLength),
        gateway,
        attributes.u32(RTA_OIF, 0),
        attributes.u32(RTA_TABLE, headerTable),
        attributes.u32(RTA_PRIORITY, 0),
        RouteType.of(type),
        attributes.bytes(RTA_PREFSRC).map(Rtnetlink::inet),
        RouteScope.of(scope),
        protocol);
  }

  /** The VFs in a link message (IFLA_VFINFO_LIST, present when asked for with RTEXT_FILTER_VF). */
  static List<VfSettings> vfs(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    ByteBuffer list = NetlinkAttributes.parse(message, base + 16, message.limit()).raw(IFLA_VFINFO_LIST);
    List<VfSettings> vfs = new ArrayList<>();
    if (list == null) {
      return vfs;
    }
    // Every entry has the same type (IFLA_VF_INFO), so walk them rather than map them by type.
    for (ByteBuffer entry : NetlinkAttributes.each(list)) {
      NetlinkAttributes info = NetlinkAttributes.parse(entry, 0, entry.limit());
      ByteBuffer mac = info.raw(IFLA_VF_MAC);
      ByteBuffer vlan = info.raw(IFLA_VF_VLAN);
      ByteBuffer spoof = info.raw(IFLA_VF_SPOOFCHK);
      ByteBuffer trust = info.raw(IFLA_VF_TRUST);
      ByteBuffer state = info.raw(IFLA_VF_LINK_STATE);
      byte[] macBytes = new byte[6];
      mac.duplicate().position(4).get(macBytes);
      vfs.add(new VfSettings(
          mac.getInt(0),
          Optional.of(MacAddress.of(macBytes)),
          Optional.ofNullable(vlan).map(v -> v.getInt(4)),
          Optional.ofNullable(spoof).filter(v -> v.getInt(4) != -1).map(v -> v.getInt(4) != 0),
          Optional.ofNullable(trust).filter(v -> v.getInt(4) != -1).map(v -> v.getInt(4) != 0),
          Optional.ofNullable(state).map(v -> VfSettings.LinkState.values()[v.getInt(4)])));
    }
    return vfs;
  }

  /** Decodes RTM_NEWNEIGH (ndmsg is 12 bytes). */
  static Neighbour neighbour(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    int index = message.getInt(base + 4);
    int state = Short.toUnsignedInt(message.getShort(base + 8));
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, base + 12, message.limit());
    return new Neighbour(
        index,
        inet(attributes.bytes(NDA_DST).orElseThrow()),
        attributes.bytes(NDA_LLADDR).filter(b -> b.length == 6).map(MacAddress::of),
        (state & NUD_PERMANENT) != 0);
  }

  /** Decodes RTM_NEWRULE (fib_rule_hdr is 12 bytes). */
  static Rule rule(ByteBuffer message) {
    int base = NetlinkMessage.HEADER_LENGTH;
    boolean ipv6 = Byte.toUnsignedInt(message.get(base)) == AF_INET6;
    int dstLength = Byte.toUnsignedInt(message.get(base + 1));
    int srcLength = Byte.toUnsignedInt(message.get(base + 2));
    int headerTable = Byte.toUnsignedInt(message.get(base + 4));
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, base + 12, message.limit());
    return new Rule(
        ipv6,
        attributes.u32(FRA_PRIORITY, 0),
        attributes.bytes(FRA_SRC).map(raw -> new IpPrefix(inet(raw), srcLength)),
        attributes.bytes(FRA_DST).map(raw -> new IpPrefix(inet(raw), dstLength)),
        attributes.string(FRA_IIFNAME),
        attributes.string(FRA_OIFNAME),
        attributes.u32(FRA_FWMARK, 0),
        attributes.u32(FRA_FWMASK, 0),
        attributes.has(FRA_SUPPRESS_PREFIXLEN) ? attributes.u32(FRA_SUPPRESS_PREFIXLEN, -1) : -1,
        attributes.u32(FRA_TABLE, headerTable));
  }

  /** Decodes a multicast announcement; null for what subscribers do not hear about. */
  static NetEvent event(ByteBuffer message) {
    int type = type(message);
    if (type == RTM_NEWLINK || type == RTM_DELLINK) {
      // bridge-port announcements (AF_BRIDGE) repeat the link ones
      return family(message) == AF_BRIDGE ? null
          : new NetEvent.LinkEvent(change(type == RTM_DELLINK), link(message));
    }
    if (type == RTM_NEWADDR || type == RTM_DELADDR) {
      return new NetEvent.AddressEvent(change(type == RTM_DELADDR), address(message));
    }
    if (type == RTM_NEWROUTE || type == RTM_DELROUTE) {
      return isCloned(message) ? null
          : new NetEvent.RouteEvent(change(type == RTM_DELROUTE), route(message));
    }
    return null;
  }

  private static NetEvent.Change change(boolean deleted) {
    return deleted ? NetEvent.Change.DELETED : NetEvent.Change.NEW;
  }

  static boolean isCloned(ByteBuffer routeMessage) {
    return (routeMessage.getInt(NetlinkMessage.HEADER_LENGTH + 8) & RTM_F_CLONED) != 0;
  }

  static InetAddress inet(byte[] raw) {
    return IpPrefix.fromBytes(raw);
  }
}
