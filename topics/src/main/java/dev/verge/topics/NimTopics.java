package dev.verge.topics;

import dev.verge.proto.info.v1.ConfigListStatus;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.Topic;
import dev.verge.topics.v1.DeviceNetwork;

/** What nim publishes: the ports it runs, for the other agents, and its reports for the controller. */
public final class NimTopics {
  private NimTopics() {}

  public static final String AGENT = "nim";

  /** The ports as nim runs them, for zedrouter (uplinks) and zedagent (re-dial); key {@code global}. */
  public static final Topic<DeviceNetwork> DEVICE_NETWORK = Topic.of(AGENT, DeviceNetwork.getDefaultInstance());

  /** Report for the controller: the ports and which one reaches it; key {@code global}. */
  public static final Topic<DeviceNetworkStatus> DEVICE_NETWORK_STATUS =
      Topic.of(AGENT, DeviceNetworkStatus.getDefaultInstance());
  /** Report for the controller: the port config list and which one is in use; key {@code global}. */
  public static final Topic<ConfigListStatus> CONFIG_LIST_STATUS =
      Topic.of(AGENT, ConfigListStatus.getDefaultInstance());
  /** Interface and probe metrics for the controller; key: the agent name. */
  public static final Topic<MetricsMessage> METRICS = Topic.of(AGENT, MetricsMessage.getDefaultInstance());
}
