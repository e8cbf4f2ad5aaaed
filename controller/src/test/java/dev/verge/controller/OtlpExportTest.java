package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.proto.flowlog.v1.DnsRequest;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowRecord;
import dev.verge.proto.flowlog.v1.FlowScope;
import dev.verge.proto.flowlog.v1.IpFlow;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
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
  private final ConcurrentLinkedQueue<ExportLogsServiceRequest> logExports = new ConcurrentLinkedQueue<>();
  private InProcessController controller;

  @BeforeEach
  void startReceiver() throws Exception {
    startReceiver(0);
  }

  private void startReceiver(int port) throws Exception {
    receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    receiver.createContext("/v1/logs", exchange -> {
      try (InputStream body = exchange.getRequestBody()) {
        logExports.add(ExportLogsServiceRequest.parseFrom(body.readAllBytes()));
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, -1);
      }
    });
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
  void flowLogsReachTheCollectorAsLogRecordsAndNoneIsLostWhileItIsAway() throws Exception {
    int port = receiver.getAddress().getPort();
    receiver.stop(0); // the collector is away when the device uploads
    ControllerSettings settings = ControllerSettings.ephemeral(dataDir).withOtlp(
        ControllerSettings.OtlpExport.parse("http://127.0.0.1:" + port, Duration.ofSeconds(60)).withFlowLogs());
    controller = new InProcessController(new Controller(settings, Clock.systemUTC()));
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-1").build());
    DeviceClient device = controller.device("fp-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    FlowBatch batch = FlowBatch.newBuilder()
        .setScope(FlowScope.newBuilder().setAppUuid("app-1").setNetworkUuid("ni-1").setVifName("nbu1x1"))
        .addFlows(FlowRecord.newBuilder().setFlow(IpFlow.newBuilder().setSrc("10.1.0.128").setSrcPort(40000)
                .setDest("203.0.113.1").setDestPort(443).setProtocol(6))
            .setAction(FlowRecord.Action.ACTION_ACCEPT).setAclId(1).setStartTimeMs(1_000).setEndTimeMs(2_000).setTxBytes(1200))
        .addFlows(FlowRecord.newBuilder().setFlow(IpFlow.newBuilder().setSrc("10.1.0.128").setDest("203.0.113.1").setProtocol(1))
            .setAction(FlowRecord.Action.ACTION_DROP).setStartTimeMs(3_000))
        .addDnsRequests(DnsRequest.newBuilder().setHostName("example.com").addAddrs("93.184.215.14").setRequestTimeMs(500))
        .build();
    assertThat(device.uploadFlowLogs(List.of(batch)).getAccepted()).isEqualTo(1);

    Thread.sleep(2_500); // the sink's tries every second fail meanwhile
    startReceiver(port);
    await().atMost(Duration.ofSeconds(10)).until(() -> logRecords().size() == 3);
    Thread.sleep(1_500); // a second send of the same records would arrive by now
    List<LogRecord> records = logRecords();
    assertThat(records).hasSize(3);
    Map<String, String> accepted = attributes(records.get(0));
    assertThat(accepted).containsEntry("verge.device.id", uuid).containsEntry("verge.app.id", "app-1")
        .containsEntry("source.address", "10.1.0.128").containsEntry("source.port", "40000")
        .containsEntry("destination.address", "203.0.113.1").containsEntry("destination.port", "443")
        .containsEntry("network.protocol.number", "6").containsEntry("verge.flow.action", "ACCEPT")
        .containsEntry("verge.flow.tx_bytes", "1200");
    assertThat(records.get(0).getTimeUnixNano()).isEqualTo(1_000_000_000L);
    assertThat(attributes(records.get(1))).containsEntry("verge.flow.action", "DROP");
    assertThat(records.get(2).getBody().getStringValue()).isEqualTo("example.com");
    assertThat(attributes(records.get(2))).containsEntry("dns.question.name", "example.com");
    assertThat(logExports.peek().getResourceLogs(0).getResource().getAttributesList())
        .anyMatch(kv -> kv.getKey().equals("service.instance.id") && kv.getValue().getStringValue().equals(controller.controller.replica()));
    assertThat(dataDir.resolve("flowlogs")).doesNotExist(); // the collector instead of the files
  }

  private List<LogRecord> logRecords() {
    return logExports.stream().flatMap(e -> e.getResourceLogsList().stream()).flatMap(r -> r.getScopeLogsList().stream())
        .flatMap(s -> s.getLogRecordsList().stream()).toList();
  }

  private static Map<String, String> attributes(LogRecord record) {
    return record.getAttributesList().stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasIntValue()
        ? Long.toString(kv.getValue().getIntValue()) : kv.getValue().getStringValue()));
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
