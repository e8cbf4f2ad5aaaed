package dev.verge.topics;

import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.Topic;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.NiUplink;

/** What zedrouter publishes: VIF plans and uplinks for the other agents, reports for the controller. */
public final class ZedrouterTopics {
  private ZedrouterTopics() {}

  public static final String AGENT = "zedrouter";

  /** The VIFs allocated for an app (names, MACs, IPs), for domainmgr; key: app UUID. */
  public static final Topic<AppVifPlan> APP_VIF_PLAN = Topic.of(AGENT, AppVifPlan.getDefaultInstance());
  /** The uplink each network instance uses; key: NI UUID. */
  public static final Topic<NiUplink> NI_UPLINK = Topic.of(AGENT, NiUplink.getDefaultInstance());

  /** Report for the controller; key: NI UUID. */
  public static final Topic<NetworkInstanceStatus> NETWORK_INSTANCE_STATUS =
      Topic.of(AGENT, NetworkInstanceStatus.getDefaultInstance());
  /** Report for the controller; key: app UUID. */
  public static final Topic<AppNetworkStatus> APP_NETWORK_STATUS =
      Topic.of(AGENT, AppNetworkStatus.getDefaultInstance());
  /** Interface and NI metrics for the controller; key: the agent name. */
  public static final Topic<MetricsMessage> METRICS = Topic.of(AGENT, MetricsMessage.getDefaultInstance());
  /** Flow log batches, keyed by a batch id; reported once each. */
  public static final Topic<FlowBatch> FLOW_LOGS = Topic.of(AGENT, FlowBatch.getDefaultInstance());
}
