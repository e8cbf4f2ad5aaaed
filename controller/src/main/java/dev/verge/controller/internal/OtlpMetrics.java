package dev.verge.controller.internal;

import dev.verge.controller.ControllerSettings;
import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes the controller's metrics to an OpenTelemetry collector over OTLP/HTTP (the SDK's periodic
 * reader and OTLP exporter), beside the Prometheus endpoint: the same sources as
 * {@link FleetMetrics}, read at each export, so the series lives in the collector's backend and not
 * in the controller. Each replica exports the devices whose telemetry it received, marked with its
 * replica id ({@code service.instance.id}).
 */
public final class OtlpMetrics implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OtlpMetrics.class);
  static final AttributeKey<String> DEVICE = AttributeKey.stringKey("device");
  static final AttributeKey<String> INTERFACE = AttributeKey.stringKey("interface");

  private final SdkMeterProvider provider;

  private OtlpMetrics(SdkMeterProvider provider) {
    this.provider = provider;
  }

  public static OtlpMetrics start(ControllerSettings.OtlpExport export, String replica, ControllerStore store,
      TelemetryStore telemetry, DeviceSessions sessions) {
    OtlpHttpMetricExporter exporter = OtlpHttpMetricExporter.builder().setEndpoint(export.endpoint().toString()).build();
    SdkMeterProvider provider = SdkMeterProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
            AttributeKey.stringKey("service.name"), "verge-controller",
            AttributeKey.stringKey("service.instance.id"), replica))))
        .registerMetricReader(PeriodicMetricReader.builder(exporter).setInterval(export.interval()).build())
        .build();
    Meter meter = provider.get("dev.verge.controller");
    ObservableLongMeasurement rx = meter.counterBuilder("verge.device.interface.rx_bytes").setUnit("By")
        .setDescription("Bytes received on a device interface, as last reported.").buildObserver();
    ObservableLongMeasurement tx = meter.counterBuilder("verge.device.interface.tx_bytes").setUnit("By")
        .setDescription("Bytes sent on a device interface, as last reported.").buildObserver();
    ObservableLongMeasurement aclDrops = meter.counterBuilder("verge.device.acl_drops").setUnit("{packet}")
        .setDescription("Packets dropped by ACLs, as last reported by the device.").buildObserver();
    ObservableDoubleMeasurement infoAge = meter.gaugeBuilder("verge.device.info_age").setUnit("s")
        .setDescription("Seconds since the device last uploaded info to this replica.").buildObserver();
    ObservableLongMeasurement connected = meter.gaugeBuilder("verge.device.connected").ofLongs()
        .setDescription("1 when the device has an open config stream to this replica.").buildObserver();
    ObservableLongMeasurement connectedHere = meter.gaugeBuilder("verge.controller.devices.connected").ofLongs()
        .setDescription("Devices with an open config stream to this replica.").buildObserver();
    ObservableLongMeasurement heap = meter.gaugeBuilder("verge.controller.heap.used").ofLongs().setUnit("By")
        .setDescription("JVM heap in use.").buildObserver();
    // One callback for all instruments: one read of the device list per export.
    meter.batchCallback(() -> {
      List<String> devices;
      try {
        devices = store.deviceUuids();
      } catch (ControllerStore.StoreUnavailableException e) {
        LOG.warn("OTLP export without per-device series: {}", e.getMessage());
        devices = List.of();
      }
      long now = System.currentTimeMillis();
      for (String device : devices) {
        Attributes ofDevice = Attributes.of(DEVICE, device);
        connected.record(sessions.isConnected(device) ? 1 : 0, ofDevice);
        MetricsMessage latest = telemetry.latestMetrics(device);
        if (latest != null) {
          for (InterfaceMetrics nic : latest.getInterfacesList()) {
            Attributes ofInterface = Attributes.of(DEVICE, device, INTERFACE, nic.getIfName());
            rx.record(nic.getRxBytes(), ofInterface);
            tx.record(nic.getTxBytes(), ofInterface);
          }
        }
        TelemetryStore.Summary summary = telemetry.summary(device);
        if (summary.lastInfoAtMs() > 0) {
          infoAge.record((now - summary.lastInfoAtMs()) / 1000.0, ofDevice);
          aclDrops.record(summary.aclDrops(), ofDevice);
        }
      }
      connectedHere.record(sessions.connected().size());
      heap.record(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }, rx, tx, aclDrops, infoAge, connected, connectedHere, heap);
    LOG.info("exporting metrics over OTLP to {} every {} s", export.endpoint(), export.interval().toSeconds());
    return new OtlpMetrics(provider);
  }

  /** Exports once more (what was observed last is not lost) and stops. */
  @Override
  public void close() {
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }
}
