package dev.verge.hostos;

import java.net.InetAddress;

/** What conntrack announces about flows, for flow logging. */
public sealed interface FlowEvent {
  enum Kind {
    NEW, UPDATE, DESTROY
  }

  /**
   * One flow, as its original direction saw it, with the counters of both directions (counters
   * are zero unless net.netfilter.nf_conntrack_acct is on).
   *
   * @param protocol the IP protocol number (1 ICMP, 6 TCP, 17 UDP)
   * @param sourcePort the source port, or the ICMP id; 0 where there is none
   */
  record Flow(
      Kind kind,
      long id,
      int protocol,
      InetAddress source,
      InetAddress destination,
      int sourcePort,
      int destinationPort,
      long packetsOriginal,
      long bytesOriginal,
      long packetsReply,
      long bytesReply,
      int mark)
      implements FlowEvent {}

  /** The socket overflowed and flow events were dropped: a flow log has a gap here. */
  record EventsLost() implements FlowEvent {}
}
