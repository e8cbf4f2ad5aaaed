package dev.verge.zedagent;

import com.google.protobuf.Message;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.agent.AgentContext;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what the agents publish into telemetry for the controller, with EVE's delivery rules:
 * info is sent on change and retried until acknowledged (latest value per object, coalesced);
 * metrics are sent periodically and may be lost; flow logs are batched and retried.
 *
 * <p>After every (re)connection the latest info of every live object is sent again, since the
 * controller may have restarted and lost what it had (EVE forces this only every 10 minutes).
 *
 * <p>State lives on the agent loop; uploads run on the I/O executor and report back to the loop.
 */
public final class TelemetryReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TelemetryReporter.class);
  /** Interface metrics: each agent publishes its latest counters (key: the agent name). */
  static final List<Topic<MetricsMessage>> METRICS =
      List.of(NimTopics.METRICS, ZedrouterTopics.METRICS, DomainmgrTopics.METRICS);
  static final int MAX_PENDING_FLOW_BATCHES = 1_000;

  /** Sends telemetry to the controller; each call blocks and throws when it was not accepted. */
  public interface Uploader {
    void uploadInfo(List<InfoMessage> items) throws Exception;

    void uploadMetrics(MetricsMessage metrics) throws Exception;

    void uploadFlowLogs(List<FlowBatch> batches) throws Exception;
  }

  private final AgentLoop loop;
  private final Executor io;
  private final Uploader uploader;
  private final Duration retryDelay;
  private static final Duration MAX_INFO_RETRY = Duration.ofMinutes(1);
  /** Info uploads failed in a row (on the loop). */
  private int infoFailures;
  private final List<Subscription<?>> subscriptions = new ArrayList<>();
  private final Map<String, InfoMessage> pendingInfo = new LinkedHashMap<>();
  /** The latest info of every live object: re-sent after a reconnect (the controller may have restarted). */
  private final Map<String, InfoMessage> currentInfo = new LinkedHashMap<>();
  /** A copy of {@link #currentInfo} for readers on other threads (the local API). */
  private volatile Map<String, InfoMessage> currentInfoView = Map.of();
  private final Map<String, MetricsMessage> latestMetrics = new LinkedHashMap<>();
  /** A copy of {@link #latestMetrics} for readers on other threads (the local API's status). */
  private volatile Map<String, MetricsMessage> latestMetricsView = Map.of();
  private final List<FlowBatch> pendingFlows = new ArrayList<>();
  private boolean infoInFlight;
  /** Counts reconnections: a batch sent on an earlier connection does not settle a resend. */
  private long connection;
  private boolean flowsInFlight;
  private boolean online;
  private long droppedFlowBatches;

  /** Subscribes on the reporter's loop (an agent's {@code AgentContext::watch}). */
  @FunctionalInterface
  public interface Watcher {
    <T extends Message> Subscription<T> watch(Topic<T> topic, SubscriptionHandler<T> handler);
  }

  /** Reports from an agent: subscriptions through its context, timers on its loop. */
  public TelemetryReporter(
      AgentContext context, Executor io, Uploader uploader, Duration metricsInterval,
      Duration flowLogInterval, Duration retryDelay) {
    this(context.loop(), context::watch, io, uploader, metricsInterval, flowLogInterval, retryDelay);
  }

  /** Reports on {@code loop} from topics of {@code bus} (tests and tools). */
  public TelemetryReporter(
      PubSub bus, AgentLoop loop, Executor io, Uploader uploader, Duration metricsInterval,
      Duration flowLogInterval, Duration retryDelay) {
    this(loop, new Watcher() {
      @Override
      public <T extends Message> Subscription<T> watch(Topic<T> topic, SubscriptionHandler<T> handler) {
        return bus.subscribe(topic, loop, handler);
      }
    }, io, uploader, metricsInterval, flowLogInterval, retryDelay);
  }

  private TelemetryReporter(
      AgentLoop loop, Watcher bus, Executor io, Uploader uploader, Duration metricsInterval,
      Duration flowLogInterval, Duration retryDelay) {
    this.loop = loop;
    this.io = io;
    this.uploader = uploader;
    this.retryDelay = retryDelay;
    watchInfo(bus, NimTopics.DEVICE_NETWORK_STATUS, "device_network", (b, v) -> b.setDeviceNetwork(v));
    watchInfo(bus, NimTopics.CONFIG_LIST_STATUS, "config_list", (b, v) -> b.setConfigList(v));
    watchInfo(bus, ZedrouterTopics.NETWORK_INSTANCE_STATUS, "network_instance", (b, v) -> b.setNetworkInstance(v));
    watchInfo(bus, ZedrouterTopics.APP_NETWORK_STATUS, "app_network", (b, v) -> b.setAppNetwork(v));
    watchInfo(bus, DomainmgrTopics.DOMAIN_STATUS, "domain", (b, v) -> b.setDomain(v));
    watchInfo(bus, DomainmgrTopics.ASSIGNABLE_ADAPTERS, "assignable_adapters", (b, v) -> b.setAssignableAdapters(v));
    watchInfo(bus, ZedagentTopics.CONFIG_APPLY_STATUS, "config_apply", (b, v) -> b.setConfigApply(v));
    for (Topic<MetricsMessage> topic : METRICS) {
      subscriptions.add(
          bus.watch(
              topic,
              new SubscriptionHandler<>() {
                @Override
                public void onCreate(String key, MetricsMessage value) {
                  latestMetrics.put(topic.agent() + "/" + key, value);
                  latestMetricsView = new java.util.TreeMap<>(latestMetrics);
                }

                @Override
                public void onModify(String key, MetricsMessage oldValue, MetricsMessage newValue) {
                  latestMetrics.put(topic.agent() + "/" + key, newValue);
                  latestMetricsView = new java.util.TreeMap<>(latestMetrics);
                }

                @Override
                public void onDelete(String key, MetricsMessage lastValue) {
                  latestMetrics.remove(topic.agent() + "/" + key);
                  latestMetricsView = new java.util.TreeMap<>(latestMetrics);
                }
              }));
    }
    subscriptions.add(
        bus.watch(
            ZedrouterTopics.FLOW_LOGS,
            new SubscriptionHandler<>() {
              @Override
              public void onCreate(String key, FlowBatch value) {
                queueFlows(value);
              }

              @Override
              public void onModify(String key, FlowBatch oldValue, FlowBatch newValue) {
                queueFlows(newValue);
              }
            }));
    loop.every(metricsInterval, this::sendMetrics);
    loop.every(flowLogInterval, this::sendFlows);
  }

  private <T extends Message> void watchInfo(
      Watcher bus, Topic<T> topic, String kind, BiConsumer<InfoMessage.Builder, T> setter) {
    subscriptions.add(
        bus.watch(
            topic,
            new SubscriptionHandler<T>() {
              @Override
              public void onCreate(String key, T value) {
                changed(kind + "/" + key, value);
              }

              @Override
              public void onModify(String key, T oldValue, T newValue) {
                changed(kind + "/" + key, newValue);
              }

              @Override
              public void onDelete(String key, T lastValue) {
                changed(kind + "/" + key, null);
              }

              private void changed(String objectId, T value) {
                InfoMessage.Builder info =
                    InfoMessage.newBuilder().setObjectId(objectId).setAtTimeMs(loop.now().toEpochMilli());
                if (value != null) {
                  setter.accept(info, value); // no payload: the object is gone
                }
                InfoMessage message = info.build();
                if (value != null) {
                  currentInfo.put(objectId, message);
                } else {
                  currentInfo.remove(objectId);
                }
                currentInfoView = new java.util.TreeMap<>(currentInfo);
                pendingInfo.put(objectId, message);
                sendInfo();
              }
            }));
  }

  /**
   * The latest info of every live object, keyed {@code kind/key} (e.g. {@code device_network/global}):
   * what the controller is told, for the local API to show. Safe from any thread.
   */
  public Map<String, InfoMessage> currentInfo() {
    return currentInfoView;
  }

  /** The agents' latest metrics, keyed {@code agent/key} (any thread). */
  public Map<String, MetricsMessage> currentMetrics() {
    return latestMetricsView;
  }

  /** The controller is reachable (or not): pending telemetry is sent when it is. */
  public void setOnline(boolean online) {
    loop.execute(
        () -> {
          boolean reconnected = online && !this.online;
          this.online = online;
          if (reconnected) {
            connection++;
            currentInfo.forEach(pendingInfo::putIfAbsent);
          }
          if (online) {
            sendInfo();
            sendFlows();
          }
        });
  }

  private void sendInfo() {
    if (!online || infoInFlight || pendingInfo.isEmpty()) {
      return;
    }
    List<InfoMessage> batch = List.copyOf(pendingInfo.values());
    long sentOn = connection;
    infoInFlight = true;
    io.execute(
        () -> {
          Exception failure = null;
          try {
            uploader.uploadInfo(batch);
          } catch (Exception e) {
            failure = e;
          }
          Exception error = failure;
          loop.execute(() -> infoDone(batch, sentOn, error));
        });
  }

  private void infoDone(List<InfoMessage> batch, long sentOn, Exception error) {
    infoInFlight = false;
    if (error != null) {
      // doubling from the retry delay up to a minute: a controller that refuses the upload is not asked 5 times a second
      Duration delay = retryDelay.multipliedBy(1L << Math.min(infoFailures++, 20));
      delay = delay.compareTo(MAX_INFO_RETRY) > 0 ? MAX_INFO_RETRY : delay;
      log.warn("info upload of {} objects failed, retrying in {}: {}", batch.size(), delay, error.toString());
      loop.schedule(delay, this::sendInfo);
      return;
    }
    infoFailures = 0;
    // Keep what changed while the batch was in flight: it still has to go. After a reconnect
    // meanwhile, everything goes again: the batch reached the controller of the old connection.
    if (sentOn == connection) {
      for (InfoMessage sent : batch) {
        pendingInfo.remove(sent.getObjectId(), sent);
      }
    }
    sendInfo();
  }

  private void sendMetrics() {
    if (!online || latestMetrics.isEmpty()) {
      return;
    }
    MetricsMessage.Builder merged = MetricsMessage.newBuilder().setAtTimeMs(loop.now().toEpochMilli());
    latestMetrics.values().forEach(m -> {
      merged.addAllInterfaces(m.getInterfacesList()).addAllNetworkInstances(m.getNetworkInstancesList());
      if (m.hasControllerProbes()) {
        merged.setControllerProbes(m.getControllerProbes());
      }
    });
    MetricsMessage metrics = merged.build();
    io.execute(
        () -> {
          try {
            uploader.uploadMetrics(metrics);
          } catch (Exception e) {
            log.debug("metrics upload failed (metrics are lossy): {}", e.toString());
          }
        });
  }

  private void queueFlows(FlowBatch batch) {
    if (pendingFlows.size() >= MAX_PENDING_FLOW_BATCHES) {
      pendingFlows.remove(0); // bounded: the oldest records go first
      droppedFlowBatches++;
    }
    pendingFlows.add(batch);
  }

  private void sendFlows() {
    if (!online || flowsInFlight || pendingFlows.isEmpty()) {
      return;
    }
    List<FlowBatch> batch = List.copyOf(pendingFlows);
    flowsInFlight = true;
    io.execute(
        () -> {
          Exception failure = null;
          try {
            uploader.uploadFlowLogs(batch);
          } catch (Exception e) {
            failure = e;
          }
          Exception error = failure;
          loop.execute(
              () -> {
                flowsInFlight = false;
                if (error == null) {
                  batch.forEach(pendingFlows::remove); // by value: drops may have shifted the queue
                } else {
                  log.warn("flow log upload failed, retrying at the next interval: {}", error.toString());
                }
              });
        });
  }

  /** Info objects not yet acknowledged by the controller (loop thread). */
  int pendingInfoCount() {
    return pendingInfo.size();
  }

  long droppedFlowBatches() {
    return droppedFlowBatches;
  }

  @Override
  public void close() {
    subscriptions.forEach(Subscription::close);
  }
}
