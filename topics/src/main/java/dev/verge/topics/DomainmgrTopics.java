package dev.verge.topics;

import dev.verge.proto.info.v1.AssignableAdapters;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.Topic;
import dev.verge.topics.v1.AppVifs;

/** What domainmgr publishes: the VIFs it created, for zedrouter, and reports for the controller. */
public final class DomainmgrTopics {
  private DomainmgrTopics() {}

  public static final String AGENT = "domainmgr";

  /** The VIFs domainmgr created for an app, for zedrouter to attach; key: app UUID. */
  public static final Topic<AppVifs> APP_VIFS = Topic.of(AGENT, AppVifs.getDefaultInstance());

  /** Report for the controller; key: app UUID. */
  public static final Topic<DomainStatus> DOMAIN_STATUS = Topic.of(AGENT, DomainStatus.getDefaultInstance());
  /** Report for the controller: adapters apps may take; key {@code global}. */
  public static final Topic<AssignableAdapters> ASSIGNABLE_ADAPTERS =
      Topic.of(AGENT, AssignableAdapters.getDefaultInstance());
  /** VIF metrics for the controller; key: the agent name. */
  public static final Topic<MetricsMessage> METRICS = Topic.of(AGENT, MetricsMessage.getDefaultInstance());
}
