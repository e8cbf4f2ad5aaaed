package dev.verge.topics;

import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import dev.verge.proto.info.v1.ConfigApplyStatus;
import dev.verge.pubsub.Topic;

/**
 * What zedagent publishes: the controller's config split per object (persistent, so the agents find
 * the last good config on the bus after a restart, before zedagent reaches the controller), the
 * local override, and whether the last pushed config was applied.
 */
public final class ZedagentTopics {
  private ZedagentTopics() {}

  public static final String AGENT = "zedagent";

  /** Physical adapters, keyed by logical label (or physical label when it has none). */
  public static final Topic<PhysicalIo> PHYSICAL_IO = Topic.of(AGENT, PhysicalIo.getDefaultInstance());
  /** VLAN sub-interfaces, keyed by logical label. */
  public static final Topic<VlanAdapter> VLANS = Topic.of(AGENT, VlanAdapter.getDefaultInstance());
  /** Bonds, keyed by logical label. */
  public static final Topic<BondAdapter> BONDS = Topic.of(AGENT, BondAdapter.getDefaultInstance());
  /** Ports the device uses (usage, cost, network), keyed by name. */
  public static final Topic<SystemAdapter> SYSTEM_ADAPTERS =
      Topic.of(AGENT, SystemAdapter.getDefaultInstance());
  /** IP settings of ports, keyed by UUID. */
  public static final Topic<NetworkConfig> NETWORKS = Topic.of(AGENT, NetworkConfig.getDefaultInstance());
  /** Network instances, keyed by UUID. */
  public static final Topic<NetworkInstanceConfig> NETWORK_INSTANCES =
      Topic.of(AGENT, NetworkInstanceConfig.getDefaultInstance());
  /** Applications (their VIFs, adapters, resources), keyed by UUID. */
  public static final Topic<AppInstanceConfig> APPS = Topic.of(AGENT, AppInstanceConfig.getDefaultInstance());
  /** Global settings (timers...), keyed by item key. */
  public static final Topic<ConfigItem> CONFIG_ITEMS = Topic.of(AGENT, ConfigItem.getDefaultInstance());
  /** The port config a local operator set through the local API (key {@code override}). */
  public static final Topic<DeviceConfig> LOCAL_PORT_OVERRIDE =
      new Topic<>(AGENT, "LocalPortOverride", DeviceConfig.getDefaultInstance());
  /** Whether the last pushed config was applied (key {@code current}). */
  public static final Topic<ConfigApplyStatus> CONFIG_APPLY_STATUS =
      Topic.of(AGENT, ConfigApplyStatus.getDefaultInstance());
}
