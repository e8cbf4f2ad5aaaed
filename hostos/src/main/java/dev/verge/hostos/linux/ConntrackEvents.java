package dev.verge.hostos.linux;

import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.NetEvents;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The conntrack event stream (ctnetlink multicast) of one namespace: new, updated and destroyed
 * flows with counters and marks, for flow logging.
 */
public final class ConntrackEvents implements AutoCloseable {
  private static final int NETLINK_NETFILTER = 12;
  private static final int NFNLGRP_CONNTRACK_NEW = 1;
  private static final int NFNLGRP_CONNTRACK_UPDATE = 2;
  private static final int NFNLGRP_CONNTRACK_DESTROY = 3;
  private static final int NFNL_SUBSYS_CTNETLINK = 1;
  private static final int IPCTNL_MSG_CT_NEW = 0;
  private static final int IPCTNL_MSG_CT_DELETE = 2;
  private static final int NFGENMSG_LENGTH = 4;

  private static final int CTA_TUPLE_ORIG = 1;
  private static final int CTA_MARK = 8;
  private static final int CTA_COUNTERS_ORIG = 9;
  private static final int CTA_COUNTERS_REPLY = 10;
  private static final int CTA_ID = 12;
  private static final int CTA_TUPLE_IP = 1;
  private static final int CTA_TUPLE_PROTO = 2;
  private static final int CTA_IP_V4_SRC = 1;
  private static final int CTA_IP_V4_DST = 2;
  private static final int CTA_IP_V6_SRC = 3;
  private static final int CTA_IP_V6_DST = 4;
  private static final int CTA_PROTO_NUM = 1;
  private static final int CTA_PROTO_SRC_PORT = 2;
  private static final int CTA_PROTO_DST_PORT = 3;
  private static final int CTA_PROTO_ICMP_ID = 4;
  private static final int CTA_COUNTERS_PACKETS = 1;
  private static final int CTA_COUNTERS_BYTES = 2;

  private final NamespaceThread namespace;

  private ConntrackEvents(NamespaceThread namespace) {
    this.namespace = namespace;
  }

  public static ConntrackEvents inCurrentNamespace() {
    return new ConntrackEvents(NamespaceThread.current());
  }

  public static ConntrackEvents inNamespace(String netnsName) {
    return NamespaceThread.open(netnsName, ConntrackEvents::new);
  }

  /** Hands every flow event to the listener, on a thread of its own, until closed. */
  public NetEvents.Subscription subscribe(Consumer<FlowEvent> listener) {
    NetlinkSocket socket =
        namespace.call(
            () -> NetlinkSocket.open(NETLINK_NETFILTER,
                Rtnetlink.groupMask(NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
                    NFNLGRP_CONNTRACK_DESTROY)));
    return new NetlinkEventStream<>(socket, ConntrackEvents::decode, listener, FlowEvent.EventsLost::new);
  }

  /** A socket for requests (dump, delete) in this namespace, joined to no group. */
  NetlinkSocket openRequestSocket() {
    return namespace.call(() -> NetlinkSocket.open(NETLINK_NETFILTER, 0));
  }

  /**
   * Decodes a ctnetlink message: an event, or one flow of a dump (those carry no create flag and
   * decode as {@link FlowEvent.Kind#UPDATE}).
   */
  static FlowEvent decode(ByteBuffer message) {
    int type = Rtnetlink.type(message);
    if (type >> 8 != NFNL_SUBSYS_CTNETLINK) {
      return null;
    }
    int flags = Short.toUnsignedInt(message.getShort(6));
    FlowEvent.Kind kind;
    if ((type & 0xff) == IPCTNL_MSG_CT_DELETE) {
      kind = FlowEvent.Kind.DESTROY;
    } else if ((type & 0xff) == IPCTNL_MSG_CT_NEW) {
      boolean created = (flags & (NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL)) != 0;
      kind = created ? FlowEvent.Kind.NEW : FlowEvent.Kind.UPDATE;
    } else {
      return null;
    }
    int start = NetlinkMessage.HEADER_LENGTH + NFGENMSG_LENGTH;
    NetlinkAttributes attributes = NetlinkAttributes.parse(message, start, message.limit());
    NetlinkAttributes tuple = attributes.nested(CTA_TUPLE_ORIG);
    NetlinkAttributes ip = tuple.nested(CTA_TUPLE_IP);
    NetlinkAttributes proto = tuple.nested(CTA_TUPLE_PROTO);
    InetAddress source = Rtnetlink.inet(
        ip.bytes(CTA_IP_V4_SRC).or(() -> ip.bytes(CTA_IP_V6_SRC)).orElse(new byte[4]));
    InetAddress destination = Rtnetlink.inet(
        ip.bytes(CTA_IP_V4_DST).or(() -> ip.bytes(CTA_IP_V6_DST)).orElse(new byte[4]));
    NetlinkAttributes original = attributes.nested(CTA_COUNTERS_ORIG);
    NetlinkAttributes reply = attributes.nested(CTA_COUNTERS_REPLY);
    return new FlowEvent.Flow(
        kind,
        attributes.bigEndian(CTA_ID, 0),
        (int) proto.bigEndian(CTA_PROTO_NUM, 0),
        source,
        destination,
        (int) proto.bigEndian(CTA_PROTO_SRC_PORT, proto.bigEndian(CTA_PROTO_ICMP_ID, 0)),
        (int) proto.bigEndian(CTA_PROTO_DST_PORT, 0),
        original.bigEndian(CTA_COUNTERS_PACKETS, 0),
        original.bigEndian(CTA_COUNTERS_BYTES, 0),
        reply.bigEndian(CTA_COUNTERS_PACKETS, 0),
        reply.bigEndian(CTA_COUNTERS_BYTES, 0),
        (int) attributes.bigEndian(CTA_MARK, 0));
  }

  @Override
  public void close() {
    namespace.close();
  }
}
