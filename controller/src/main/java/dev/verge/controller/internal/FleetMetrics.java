package dev.verge.controller.internal;

import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.lang.management.ManagementFactory;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's Prometheus exposition, through Micrometer's Prometheus registry (as the node's):
 * the replica's own meters and the JVM's are Micrometer meters; the per-device series are a
 * collector the registry calls at each scrape, which reads the device list once, however large the
 * fleet. Registering 10,000 devices' series as meters would keep ~60,000 meters on the heap for
 * values that already live in the store and the telemetry view.
 */
public final class FleetMetrics implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FleetMetrics.class);
  private static final List<NetworkInstanceStatus.State> NI_STATES = List.of(NetworkInstanceStatus.State.STATE_INIT,
      NetworkInstanceStatus.State.STATE_ONLINE, NetworkInstanceStatus.State.STATE_ERROR);

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ControllerStore store;
  private final TelemetryStore telemetry;
  private final DeviceSessions sessions;

  public FleetMetrics(ControllerStore store, TelemetryStore telemetry, DeviceSessions sessions) {
    this.store = store;
    this.telemetry = telemetry;
    this.sessions = sessions;
    Gauge.builder("verge.controller.devices.connected", sessions, s -> s.connected().size())
        .description("Devices with an open config stream to this replica.").register(registry);
    Gauge.builder("verge.controller.heap.used", () -> ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed())
        .baseUnit("bytes").description("JVM heap in use.").register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    registry.getPrometheusRegistry().register((MultiCollector) this::collectFleet);
  }

  /** Prometheus text (exposition format 0.0.4) of every series. */
  public String render() {
    return registry.scrape();
  }

  private MetricSnapshots collectFleet() {
    List<DeviceRecord> records;
    try {
      records = store.devices(); // one read of the store, however large the fleet
    } catch (ControllerStore.StoreUnavailableException e) {
      // the replica's own series still say how it is; the fleet's come back with the store
      LOG.warn("metrics scrape without per-device series: {}", e.getMessage());
      return MetricSnapshots.of();
    }
    GaugeSnapshot.Builder onboarded = gauge("verge_controller_devices_onboarded", "Devices onboarded.")
        .dataPoint(point(Labels.EMPTY, records.size()));
    GaugeSnapshot.Builder connected = gauge("verge_device_connected", "1 when the device has an open config stream to this replica.");
    GaugeSnapshot.Builder applied = gauge("verge_device_config_applied", "1 when the device acknowledged the current config.");
    GaugeSnapshot.Builder rejected = gauge("verge_device_config_rejected",
        "1 when the device's last answer was a rejection of the current config.");
    // The metrics time series: the latest cumulative counters each device sent this replica. The
    // series itself lives in Prometheus (or wherever it is scraped to), not in the controller.
    CounterSnapshot.Builder rxBytes = counter("verge_device_interface_rx_bytes", "Bytes received on a device interface, as last reported.");
    CounterSnapshot.Builder txBytes = counter("verge_device_interface_tx_bytes", "Bytes sent on a device interface, as last reported.");
    GaugeSnapshot.Builder uplink = gauge("verge_device_uplink_in_use", "The port the device reaches the controller through (value 1).");
    CounterSnapshot.Builder aclDrops = counter("verge_device_acl_drops", "Packets dropped by ACLs, as last reported by the device.");
    GaugeSnapshot.Builder infoAge = gauge("verge_device_info_age_seconds", "Seconds since the device last uploaded info.");
    Map<NetworkInstanceStatus.State, Long> niStates = new EnumMap<>(NetworkInstanceStatus.State.class);
    long now = System.currentTimeMillis();
    for (DeviceRecord record : records) {
      String device = record.getDeviceUuid();
      Labels ofDevice = Labels.of("device", device);
      connected.dataPoint(point(ofDevice, sessions.isConnected(device) ? 1 : 0));
      applied.dataPoint(point(ofDevice,
          !record.getCurrentHash().isEmpty() && record.getCurrentHash().equals(record.getAppliedHash()) ? 1 : 0));
      rejected.dataPoint(point(ofDevice,
          !record.getRejectedHash().isEmpty() && record.getRejectedHash().equals(record.getCurrentHash()) ? 1 : 0));
      MetricsMessage latest = telemetry.latestMetrics(device);
      if (latest != null) {
        for (InterfaceMetrics nic : latest.getInterfacesList()) {
          Labels ofInterface = Labels.of("device", device, "interface", nic.getIfName());
          rxBytes.dataPoint(count(ofInterface, nic.getRxBytes()));
          txBytes.dataPoint(count(ofInterface, nic.getTxBytes()));
        }
      }
      TelemetryStore.Summary summary = telemetry.summary(device);
      if (!summary.uplink().isEmpty()) {
        uplink.dataPoint(point(Labels.of("device", device, "port", summary.uplink()), 1));
      }
      summary.niStates().forEach((state, count) -> niStates.merge(state, (long) count, Long::sum));
      aclDrops.dataPoint(count(ofDevice, summary.aclDrops()));
      if (summary.lastInfoAtMs() > 0) {
        infoAge.dataPoint(point(ofDevice, (now - summary.lastInfoAtMs()) / 1000.0));
      }
    }
    GaugeSnapshot.Builder networkInstances = gauge("verge_network_instances", "Network instances across the fleet by reported state.");
    for (NetworkInstanceStatus.State state : NI_STATES) {
      networkInstances.dataPoint(point(Labels.of("state", state.name().substring("STATE_".length())),
          niStates.getOrDefault(state, 0L)));
    }
    return MetricSnapshots.of(onboarded.build(), connected.build(), applied.build(), rejected.build(), rxBytes.build(),
        txBytes.build(), uplink.build(), networkInstances.build(), aclDrops.build(), infoAge.build());
  }

  private static GaugeSnapshot.Builder gauge(String name, String help) {
    return GaugeSnapshot.builder().name(name).help(help);
  }

  private static CounterSnapshot.Builder counter(String name, String help) {
    return CounterSnapshot.builder().name(name).help(help);
  }

  private static GaugeDataPointSnapshot point(Labels labels, double value) {
    return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  private static CounterDataPointSnapshot count(Labels labels, double value) {
    return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  @Override
  public void close() {
    registry.close();
  }
}
