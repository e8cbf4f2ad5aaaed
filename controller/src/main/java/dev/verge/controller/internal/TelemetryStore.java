package dev.verge.controller.internal;

import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fleet telemetry in memory: the latest info per (kind, object) and device, a metrics time series
 * bounded by age and count, and a bounded queue of flow-log batches. Bounded per device so a
 * chatty device cannot grow the controller without limit.
 */
public final class TelemetryStore {
  private final Clock clock;
  private final Duration metricsRetention;
  private final int maxMetricSamples;
  private final int maxFlowBatches;
  private final Map<String, DeviceTelemetry> byDevice = new ConcurrentHashMap<>();

  /** A metrics message and when the controller received it (retention uses the latter). */
  private record Sample(long receivedAtMs, MetricsMessage metrics) {}

  /** What the fleet metrics need from one device, read without locks. */
  public record Summary(long lastInfoAtMs, String uplink, long aclDrops, Map<NetworkInstanceStatus.State, Integer> niStates) {}

  private static final class DeviceTelemetry {
    final Map<String, InfoMessage> info = new ConcurrentHashMap<>();
    final ArrayDeque<Sample> metrics = new ArrayDeque<>();
    final ArrayDeque<FlowBatch> flows = new ArrayDeque<>();
    volatile long lastInfoAtMs;
    volatile String uplink = "";
    volatile long aclDrops;
  }

  public TelemetryStore(Clock clock, Duration metricsRetention, int maxMetricSamples, int maxFlowBatches) {
    this.clock = clock;
    this.metricsRetention = metricsRetention;
    this.maxMetricSamples = maxMetricSamples;
    this.maxFlowBatches = maxFlowBatches;
  }

  /** Key of an info message: its kind and object, e.g. {@code network_instance/6ba7...}. */
  public static String infoKey(InfoMessage message) {
    return message.getInfoCase().name().toLowerCase() + "/" + message.getObjectId();
  }

  /** An info without content: the device says the object is gone (a deleted NI, app, ...). */
  public static boolean isRemoval(InfoMessage message) {
    return message.getInfoCase() == InfoMessage.InfoCase.INFO_NOT_SET;
  }

  /**
   * Applies one info message to a device's latest info by key: the newest per object wins (an older
   * message arriving late after a retry does not replace a newer one); a removal drops what is
   * known of its object that is not newer than it.
   */
  public static void apply(Map<String, InfoMessage> info, InfoMessage item) {
    if (isRemoval(item)) {
      String suffix = "/" + item.getObjectId();
      info.entrySet().removeIf(e -> e.getKey().endsWith(suffix) && e.getValue().getAtTimeMs() <= item.getAtTimeMs());
      return;
    }
    info.merge(infoKey(item), item, (old, neu) -> neu.getAtTimeMs() >= old.getAtTimeMs() ? neu : old);
  }

  public int addInfo(String device, List<InfoMessage> items) {
    DeviceTelemetry telemetry = of(device);
    for (InfoMessage item : items) {
      apply(telemetry.info, item);
      if (item.hasDeviceNetwork()) {
        telemetry.uplink = item.getDeviceNetwork().getCurrentUplink();
      }
    }
    telemetry.lastInfoAtMs = clock.millis();
    return items.size();
  }

  public List<InfoMessage> info(String device) {
    DeviceTelemetry telemetry = byDevice.get(device);
    if (telemetry == null) {
      return List.of();
    }
    return telemetry.info.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
  }

  public void addMetrics(String device, MetricsMessage metrics) {
    DeviceTelemetry telemetry = of(device);
    long now = clock.millis();
    synchronized (telemetry.metrics) {
      telemetry.metrics.addLast(new Sample(now, metrics));
      while (telemetry.metrics.size() > maxMetricSamples
          || telemetry.metrics.peekFirst().receivedAtMs() < now - metricsRetention.toMillis()) {
        telemetry.metrics.removeFirst();
      }
    }
    long drops = metrics.hasAcl()
        ? metrics.getAcl().getTotalDrops()
        : metrics.getInterfacesList().stream().mapToLong(InterfaceMetrics::getAclDrops).sum();
    telemetry.aclDrops = drops; // counters are cumulative: the latest value is the total
  }

  public List<MetricsMessage> metrics(String device, long sinceMs) {
    DeviceTelemetry telemetry = byDevice.get(device);
    if (telemetry == null) {
      return List.of();
    }
    long cutoff = clock.millis() - metricsRetention.toMillis();
    synchronized (telemetry.metrics) {
      return telemetry.metrics.stream()
          .filter(s -> s.receivedAtMs() >= cutoff && s.metrics().getAtTimeMs() >= sinceMs)
          .map(Sample::metrics)
          .toList();
    }
  }

  /** The newest metrics message of the device (null when none arrived). */
  public MetricsMessage latestMetrics(String device) {
    DeviceTelemetry telemetry = byDevice.get(device);
    if (telemetry == null) {
      return null;
    }
    synchronized (telemetry.metrics) {
      Sample last = telemetry.metrics.peekLast();
      return last == null ? null : last.metrics();
    }
  }

  public int addFlows(String device, List<FlowBatch> batches) {
    DeviceTelemetry telemetry = of(device);
    synchronized (telemetry.flows) {
      for (FlowBatch batch : batches) {
        telemetry.flows.addLast(batch);
        if (telemetry.flows.size() > maxFlowBatches) {
          telemetry.flows.removeFirst();
        }
      }
    }
    return batches.size();
  }

  public List<FlowBatch> flows(String device, int limit) {
    DeviceTelemetry telemetry = byDevice.get(device);
    if (telemetry == null) {
      return List.of();
    }
    synchronized (telemetry.flows) {
      List<FlowBatch> all = new ArrayList<>(telemetry.flows);
      return limit <= 0 || limit >= all.size() ? all : all.subList(all.size() - limit, all.size());
    }
  }

  public long lastInfoAtMs(String device) {
    DeviceTelemetry telemetry = byDevice.get(device);
    return telemetry == null ? 0 : telemetry.lastInfoAtMs;
  }

  public String uplink(String device) {
    DeviceTelemetry telemetry = byDevice.get(device);
    return telemetry == null ? "" : telemetry.uplink;
  }

  public Summary summary(String device) {
    DeviceTelemetry telemetry = byDevice.get(device);
    if (telemetry == null) {
      return new Summary(0, "", 0, Map.of());
    }
    Map<NetworkInstanceStatus.State, Integer> states = new java.util.EnumMap<>(NetworkInstanceStatus.State.class);
    telemetry.info.values().stream()
        .filter(InfoMessage::hasNetworkInstance)
        .map(m -> m.getNetworkInstance().getState())
        .filter(s -> s != NetworkInstanceStatus.State.UNRECOGNIZED)
        .sorted(Comparator.naturalOrder())
        .forEach(s -> states.merge(s, 1, Integer::sum));
    return new Summary(telemetry.lastInfoAtMs, telemetry.uplink, telemetry.aclDrops, states);
  }

  private DeviceTelemetry of(String device) {
    return byDevice.computeIfAbsent(device, d -> new DeviceTelemetry());
  }
}
