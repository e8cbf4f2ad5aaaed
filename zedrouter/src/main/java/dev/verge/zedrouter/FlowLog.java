package dev.verge.zedrouter;

import dev.verge.hostos.FlowEvent;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowRecord;
import dev.verge.proto.flowlog.v1.FlowScope;
import dev.verge.proto.flowlog.v1.IpFlow;
import dev.verge.pubsub.Publication;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The apps' flow log, from the kernel's conntrack events (no polling): a flow that an app's VIF
 * started is recorded when it ends, with the ACE that let it through (the id the NI's firewall
 * put in the flow's mark) and both directions' counters. Records are batched per VIF and
 * published every flush; zedagent uploads each batch once. Runs on the agent's loop.
 */
final class FlowLog {
  /** Batches kept on the bus for zedagent; older ones are taken down (zedagent queued them). */
  static final int KEPT_BATCHES = 64;
  /** Start times of flows still open, bounded: a flow whose start was forgotten starts at its end. */
  static final int MAX_OPEN_FLOWS = 65_536;
  /** Records per VIF between flushes, bounded: beyond it flows are counted as dropped. */
  static final int MAX_RECORDS_PER_VIF = 10_000;

  private final Publication<FlowBatch> out;
  private final Map<Long, Long> openedAtMs = new LinkedHashMap<>();
  private final Map<String, FlowBatch.Builder> pending = new LinkedHashMap<>();
  private final Deque<String> published = new ArrayDeque<>();
  private long batchNumber;
  private long lostEvents;
  private long droppedRecords;

  FlowLog(Publication<FlowBatch> out) {
    this.out = out;
  }

  /**
   * One conntrack event.
   *
   * @param vifsByIp the apps' VIFs by their addresses, as of the last build
   */
  void onEvent(FlowEvent event, Map<String, VifPlan> vifsByIp, long nowMs) {
    if (event instanceof FlowEvent.EventsLost) {
      lostEvents++;
      return;
    }
    FlowEvent.Flow flow = (FlowEvent.Flow) event;
    switch (flow.kind()) {
      case NEW -> {
        if (openedAtMs.size() >= MAX_OPEN_FLOWS) {
          openedAtMs.remove(openedAtMs.keySet().iterator().next());
        }
        openedAtMs.put(flow.id(), nowMs);
      }
      case UPDATE -> { }
      case DESTROY -> ended(flow, vifsByIp, Optional.ofNullable(openedAtMs.remove(flow.id())).orElse(nowMs), nowMs);
    }
  }

  private void ended(FlowEvent.Flow flow, Map<String, VifPlan> vifsByIp, long startMs, long endMs) {
    VifPlan vif = vifsByIp.get(flow.source().getHostAddress());
    boolean inbound = false;
    if (vif == null) {
      vif = vifsByIp.get(flow.destination().getHostAddress());
      inbound = true;
    }
    if (vif == null) {
      return; // the device's own traffic, or nobody's any more
    }
    FlowBatch.Builder batch = pending.computeIfAbsent(vif.vifName(), name -> FlowBatch.newBuilder());
    VifPlan owner = vif;
    if (!batch.hasScope()) {
      batch.setScope(FlowScope.newBuilder().setAppUuid(owner.appUuid()).setVifName(owner.vifName())
          .setLocalIfName(owner.bridge()).setNetworkUuid(owner.niUuid()));
    }
    if (batch.getFlowsCount() >= MAX_RECORDS_PER_VIF) {
      droppedRecords++;
      return;
    }
    int aceId = (int) (flow.mark() & NiFirewall.MARK_ACE_ID);
    String aceName = owner.acls().stream().filter(a -> a.id() == aceId).map(Acl::name).findFirst().orElse("");
    // original direction = the app's, unless the flow came in to it
    batch.addFlows(FlowRecord.newBuilder()
        .setFlow(IpFlow.newBuilder().setSrc(flow.source().getHostAddress()).setSrcPort(flow.sourcePort())
            .setDest(flow.destination().getHostAddress()).setDestPort(flow.destinationPort())
            .setProtocol(flow.protocol()))
        .setInbound(inbound)
        .setAclId(aceId)
        .setAclName(aceName)
        .setStartTimeMs(startMs)
        .setEndTimeMs(endMs)
        .setTxBytes(inbound ? flow.bytesReply() : flow.bytesOriginal())
        .setTxPackets(inbound ? flow.packetsReply() : flow.packetsOriginal())
        .setRxBytes(inbound ? flow.bytesOriginal() : flow.bytesReply())
        .setRxPackets(inbound ? flow.packetsOriginal() : flow.packetsReply())
        .setAction(FlowRecord.Action.ACTION_ACCEPT));
  }

  /** A DNS request of an app (from its NI's dnsmasq), batched with the VIF's flows. */
  void dnsRequest(VifPlan vif, dev.verge.proto.flowlog.v1.DnsRequest request) {
    FlowBatch.Builder batch = pending.computeIfAbsent(vif.vifName(), name -> FlowBatch.newBuilder());
    if (!batch.hasScope()) {
      batch.setScope(FlowScope.newBuilder().setAppUuid(vif.appUuid()).setVifName(vif.vifName())
          .setLocalIfName(vif.bridge()).setNetworkUuid(vif.niUuid()));
    }
    if (batch.getDnsRequestsCount() >= MAX_RECORDS_PER_VIF) {
      droppedRecords++;
      return;
    }
    batch.addDnsRequests(request);
  }

  /** Publishes what was gathered since the last flush, one batch per VIF. */
  void flush() {
    for (FlowBatch.Builder batch : pending.values()) {
      String key = "flows-" + (++batchNumber);
      out.publish(key, batch.build());
      published.addLast(key);
      while (published.size() > KEPT_BATCHES) {
        out.unpublish(published.removeFirst());
      }
    }
    pending.clear();
  }

  /** Conntrack event losses (socket overflows) seen: the log has gaps there. */
  long lostEvents() {
    return lostEvents;
  }

  long droppedRecords() {
    return droppedRecords;
  }
}
