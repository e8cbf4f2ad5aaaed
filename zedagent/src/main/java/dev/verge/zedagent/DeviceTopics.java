package dev.verge.zedagent;

import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.AssignableAdapters;
import dev.verge.proto.info.v1.ConfigApplyStatus;
import dev.verge.proto.info.v1.ConfigListStatus;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.Topic;
import java.util.List;

/**
 * The bus topics zedagent publishes (the controller's config, split per object) and those it
 * reads (the agents' status, metrics and flow logs) to report to the controller.
 */
public final class DeviceTopics {
  private DeviceTopics() {}

  public static final String AGENT = "zedagent";

  // Config, one topic per object type, keyed by the object's UUID or label.
  public static final Topic<PhysicalIo> PHYSICAL_IO = Topic.of(AGENT, PhysicalIo.getDefaultInstance());
  public static final Topic<VlanAdapter> VLANS = Topic.of(AGENT, VlanAdapter.getDefaultInstance());
  public static final Topic<BondAdapter> BONDS = Topic.of(AGENT, BondAdapter.getDefaultInstance());
  public static final Topic<SystemAdapter> SYSTEM_ADAPTERS = Topic.of(AGENT, SystemAdapter.getDefaultInstance());
  public static final Topic<NetworkConfig> NETWORKS = Topic.of(AGENT, NetworkConfig.getDefaultInstance());
  public static final Topic<NetworkInstanceConfig> NETWORK_INSTANCES =
      Topic.of(AGENT, NetworkInstanceConfig.getDefaultInstance());
  public static final Topic<AppInstanceConfig> APPS = Topic.of(AGENT, AppInstanceConfig.getDefaultInstance());
  public static final Topic<ConfigItem> CONFIG_ITEMS = Topic.of(AGENT, ConfigItem.getDefaultInstance());
  /** The port config a local operator set through the local API (key {@code override}). */
  public static final Topic<DeviceConfig> LOCAL_PORT_OVERRIDE =
      new Topic<>(AGENT, "LocalPortOverride", DeviceConfig.getDefaultInstance());
  /** Whether the last pushed config was applied (key {@code current}). */
  public static final Topic<ConfigApplyStatus> CONFIG_APPLY_STATUS =
      Topic.of(AGENT, ConfigApplyStatus.getDefaultInstance());

  // Status the agents publish; zedagent reports every key as info.
  public static final Topic<DeviceNetworkStatus> DEVICE_NETWORK_STATUS =
      Topic.of("nim", DeviceNetworkStatus.getDefaultInstance());
  public static final Topic<ConfigListStatus> CONFIG_LIST_STATUS =
      Topic.of("nim", ConfigListStatus.getDefaultInstance());
  public static final Topic<NetworkInstanceStatus> NETWORK_INSTANCE_STATUS =
      Topic.of("zedrouter", NetworkInstanceStatus.getDefaultInstance());
  public static final Topic<AppNetworkStatus> APP_NETWORK_STATUS =
      Topic.of("zedrouter", AppNetworkStatus.getDefaultInstance());
  public static final Topic<DomainStatus> DOMAIN_STATUS = Topic.of("domainmgr", DomainStatus.getDefaultInstance());
  public static final Topic<AssignableAdapters> ASSIGNABLE_ADAPTERS =
      Topic.of("domainmgr", AssignableAdapters.getDefaultInstance());

  /** Metrics: each agent publishes its latest counters (key: the agent name). */
  public static final List<Topic<MetricsMessage>> METRICS =
      List.of(
          Topic.of("nim", MetricsMessage.getDefaultInstance()),
          Topic.of("zedrouter", MetricsMessage.getDefaultInstance()),
          Topic.of("domainmgr", MetricsMessage.getDefaultInstance()));

  /** Flow log batches from zedrouter, keyed by a batch id; reported once each. */
  public static final Topic<FlowBatch> FLOW_LOGS = Topic.of("zedrouter", FlowBatch.getDefaultInstance());
}
