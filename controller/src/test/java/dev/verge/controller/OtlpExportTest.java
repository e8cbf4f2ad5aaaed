package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --otlp-endpoint}: the controller pushes its metrics over OTLP/HTTP to a collector.
 * The collector here is a small OTLP metrics receiver on loopback that parses each export with the
 * protocol's own message classes (opentelemetry-proto).
 */
class OtlpExportTest {
  @TempDir Path dataDir;
  private HttpServer receiver;
  private final ConcurrentLinkedQueue<ExportMetricsServiceRequest> exports = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
  private InProcessController controller;

  @BeforeEach
  void startReceiver() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    receiver.createContext("/v1/metrics", exchange -> {
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      try (InputStream body = exchange.getRequestBody(); OutputStream out = exchange.getResponseBody()) {
        if (!"POST".equals(exchange.getRequestMethod()) || !"application/x-protobuf".equals(type)) {
          refusals.add(exchange.getRequestMethod() + " " + type);
          exchange.sendResponseHeaders(415, -1);
          return;
        }
        exports.add(ExportMetricsServiceRequest.parseFrom(body.readAllBytes()));
        byte[] answer = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
        out.write(answer);
      }
    });
    receiver.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
    receiver.stop(0);
  }

  private InProcessController controllerExportingTo(String url) throws Exception {
    ControllerSettings settings = ControllerSettings.ephemeral(dataDir)
        .withOtlp(ControllerSettings.OtlpExport.parse(url, Duration.ofMillis(200)));
    controller = new InProcessController(new Controller(settings, Clock.systemUTC()));
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-1").build());
    return controller;
  }

  @Test
  void eachDevicesInterfaceCountersReachTheCollectorAsASeries() throws Exception {
    controllerExportingTo("http://127.0.0.1:" + receiver.getAddress().getPort()); // no path: /v1/metrics
    DeviceClient device = controller.device("fp-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    device.connect("", (config, signed) -> List.of(), new DeviceClient.StreamListener() {});
    device.uploadMetrics(counters(1500, 900));

    await().atMost(Duration.ofSeconds(10)).until(() -> latest("verge.device.interface.rx_bytes", uuid, "eth0").orElse(-1L) == 1500);
    assertThat(latest("verge.device.interface.tx_bytes", uuid, "eth0")).contains(900L);
    assertThat(latest("verge.device.connected", uuid, null)).contains(1L);
    device.uploadMetrics(counters(4500, 1800));
    await().atMost(Duration.ofSeconds(10)).until(() -> latest("verge.device.interface.rx_bytes", uuid, "eth0").orElse(-1L) == 4500);

    ResourceMetrics from = exports.peek().getResourceMetrics(0);
    Map<String, String> resource = from.getResource().getAttributesList().stream()
        .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue()));
    assertThat(resource).containsEntry("service.name", "verge-controller")
        .containsEntry("service.instance.id", controller.controller.replica());
    Metric rx = exports.stream().map(e -> metric(e, "verge.device.interface.rx_bytes")).flatMap(Optional::stream)
        .reduce((first, second) -> second).orElseThrow();
    assertThat(rx.getSum().getIsMonotonic()).as("a counter: the backend computes rates").isTrue();
    assertThat(rx.getUnit()).isEqualTo("By");
    assertThat(refusals).isEmpty();
  }

  @Test
  void aBadEndpointIsRefusedWithItsReason() {
    assertThatThrownBy(() -> ControllerSettings.OtlpExport.parse("grpc://collector:4317", Duration.ofSeconds(60)))
        .hasMessage("OTLP/HTTP needs an http:// or https:// URL, not grpc://collector:4317");
    assertThatThrownBy(() -> ControllerSettings.OtlpExport.parse("http:///v1/metrics", Duration.ofSeconds(60)))
        .hasMessage("no host in http:///v1/metrics");
    assertThat(ControllerSettings.OtlpExport.parse("http://c:4318/custom/path", Duration.ofSeconds(60)).endpoint())
        .isEqualTo(URI.create("http://c:4318/custom/path"));
  }

  private static MetricsMessage counters(long rx, long tx) {
    return MetricsMessage.newBuilder().setAtTimeMs(System.currentTimeMillis())
        .addInterfaces(InterfaceMetrics.newBuilder().setIfName("eth0").setRxBytes(rx).setTxBytes(tx)).build();
  }

  /** The value of the series (metric, device[, interface]) in the newest export that has it. */
  private Optional<Long> latest(String name, String device, String nic) {
    List<ExportMetricsServiceRequest> received = List.copyOf(exports);
    for (int i = received.size() - 1; i >= 0; i--) {
      Optional<Metric> metric = metric(received.get(i), name);
      if (metric.isEmpty()) {
        continue;
      }
      List<NumberDataPoint> points = metric.get().hasSum() ? metric.get().getSum().getDataPointsList()
          : metric.get().getGauge().getDataPointsList();
      for (NumberDataPoint point : points) {
        Map<String, String> labels = point.getAttributesList().stream()
            .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue()));
        if (device.equals(labels.get("device")) && (nic == null || nic.equals(labels.get("interface")))) {
          return Optional.of(point.getAsInt());
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<Metric> metric(ExportMetricsServiceRequest export, String name) {
    return export.getResourceMetricsList().stream().flatMap(r -> r.getScopeMetricsList().stream())
        .flatMap(s -> s.getMetricsList().stream()).filter(m -> m.getName().equals(name)).findFirst();
  }
}
