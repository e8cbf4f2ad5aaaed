package dev.verge.hostos.linux;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.Errno;
import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.FlowFilter;
import dev.verge.hostos.HostException;
import dev.verge.hostos.NetEvents;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * conntrack over ctnetlink in one namespace: events, a dump of the table, and deletion of the flows
 * that match a filter. Deletion names each flow by the original tuple the dump gave (copied as the
 * kernel sent it, so ICMP ids, types and codes need no decoding) and by its id, so a flow that was
 * replaced meanwhile by one with the same tuple is left alone.
 *
 * <p>Byte and packet counters are zero unless {@code net.netfilter.nf_conntrack_acct=1} in the
 * namespace when the flow starts; and with {@code nf_conntrack_events=2} (the default) only flows
 * that began while someone was subscribed are announced, their destruction included.
 */
public final class LinuxConntrack implements Conntrack {
  private static final int NFNL_SUBSYS_CTNETLINK = 1;
  private static final int IPCTNL_MSG_CT_GET = 1;
  private static final int IPCTNL_MSG_CT_DELETE = 2;
  private static final int AF_UNSPEC = 0;
  private static final int NFNETLINK_V0 = 0;
  private static final int NFGENMSG_LENGTH = 4;
  private static final int CTA_TUPLE_ORIG = 1;
  private static final int CTA_ID = 12;

  private final ConntrackEvents events;
  private final NetlinkSocket requests;

  private LinuxConntrack(ConntrackEvents events) {
    this.events = events;
    try {
      this.requests = events.openRequestSocket();
    } catch (RuntimeException e) {
      events.close();
      throw e;
    }
  }

  public static LinuxConntrack inCurrentNamespace() {
    return new LinuxConntrack(ConntrackEvents.inCurrentNamespace());
  }

  public static LinuxConntrack inNamespace(String netnsName) {
    return new LinuxConntrack(ConntrackEvents.inNamespace(netnsName));
  }

  @Override
  public NetEvents.Subscription subscribe(Consumer<FlowEvent> listener) {
    return events.subscribe(listener);
  }

  /** The tracked flows, IPv4 and IPv6; each carries the kind {@link FlowEvent.Kind#UPDATE}. */
  @Override
  public List<FlowEvent.Flow> dump() {
    List<FlowEvent.Flow> flows = new ArrayList<>();
    for (ByteBuffer message : dumpMessages()) {
      if (ConntrackEvents.decode(message) instanceof FlowEvent.Flow flow) {
        flows.add(flow);
      }
    }
    return flows;
  }

  private List<ByteBuffer> dumpMessages() {
    return requests.dump(
        NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET,
        m -> m.u8(AF_UNSPEC).u8(NFNETLINK_V0).u16(0),
        (errno, message) -> new HostException("dump", "conntrack table", errno,
            message.orElse(errno.description())));
  }

  /** Deletes the matching flows; one that ended on its own meanwhile is not counted. */
  @Override
  public int delete(FlowFilter filter) {
    List<NetlinkSocket.Request> deletions = new ArrayList<>();
    for (ByteBuffer message : dumpMessages()) {
      if (ConntrackEvents.decode(message) instanceof FlowEvent.Flow flow && filter.matches(flow)) {
        deletions.add(deletion(message, flow));
      }
    }
    int deleted = 0;
    for (HostException failure : requests.executeAll(deletions)) {
      if (failure == null) {
        deleted++;
      } else if (!failure.errno().equals(Errno.ENOENT)) {
        throw failure;
      }
    }
    return deleted;
  }

  private static NetlinkSocket.Request deletion(ByteBuffer message, FlowEvent.Flow flow) {
    int family = Byte.toUnsignedInt(message.get(NetlinkMessage.HEADER_LENGTH));
    NetlinkAttributes attributes =
        NetlinkAttributes.parse(message, NetlinkMessage.HEADER_LENGTH + NFGENMSG_LENGTH, message.limit());
    byte[] tuple = attributes.bytes(CTA_TUPLE_ORIG).orElseThrow();
    byte[] id = attributes.bytes(CTA_ID).orElseThrow();
    return new NetlinkSocket.Request(
        NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE,
        0,
        m -> m.u8(family).u8(NFNETLINK_V0).u16(0)
            .attr(CTA_TUPLE_ORIG | NetlinkMessage.NLA_F_NESTED, tuple)
            .attr(CTA_ID, id),
        (errno, text) -> new HostException("delete", "conntrack flow " + describe(flow), errno,
            text.orElse(errno.description())));
  }

  private static String describe(FlowEvent.Flow flow) {
    return "proto " + flow.protocol() + " " + flow.source().getHostAddress() + ":" + flow.sourcePort()
        + " -> " + flow.destination().getHostAddress() + ":" + flow.destinationPort() + " id " + flow.id();
  }

  @Override
  public void close() {
    requests.close();
    events.close();
  }
}
