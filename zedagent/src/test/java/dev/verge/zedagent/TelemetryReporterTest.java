package dev.verge.zedagent;

import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TelemetryReporterTest {
  private PubSub bus;
  private AgentLoop loop;
  private ExecutorService io;
  private final List<List<InfoMessage>> infoCalls = new CopyOnWriteArrayList<>();
  private final List<MetricsMessage> metricsCalls = new CopyOnWriteArrayList<>();
  private final AtomicInteger failNextInfo = new AtomicInteger();
  /** Holds each info upload until released, when a test needs a batch in flight. */
  private volatile CountDownLatch infoGate = new CountDownLatch(0);

  private final TelemetryReporter.Uploader uploader =
      new TelemetryReporter.Uploader() {
        @Override
        public void uploadInfo(List<InfoMessage> items) {
          if (failNextInfo.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IllegalStateException("controller unavailable");
          }
          try {
            infoGate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          infoCalls.add(items);
        }

        @Override
        public void uploadMetrics(MetricsMessage metrics) {
          metricsCalls.add(metrics);
        }

        @Override
        public void uploadFlowLogs(List<FlowBatch> batches) {}
      };

  @BeforeEach
  void start() {
    bus = PubSub.inJvm(PubSubConfig.defaults());
    loop = AgentLoop.create("zedagent-test");
    io = Executors.newFixedThreadPool(1); // a ThreadPoolExecutor: tests read its active count
  }

  @AfterEach
  void stop() {
    loop.close(); // first: a timer on the loop would otherwise hand work to a closed executor
    io.shutdownNow();
    bus.close();
  }

  private TelemetryReporter reporter() {
    return new TelemetryReporter(bus, loop, io, uploader, Duration.ofMillis(100), Duration.ofSeconds(60), Duration.ofMillis(50));
  }

  private static DeviceNetworkStatus uplink(String port) {
    return DeviceNetworkStatus.newBuilder().setCurrentUplink(port).build();
  }

  private List<String> uplinksSent() {
    return infoCalls.stream().flatMap(List::stream).map(i -> i.getDeviceNetwork().getCurrentUplink()).toList();
  }

  @Test
  void infoIsHeldWhileOfflineThenSentAndRetriedUntilAccepted() {
    try (TelemetryReporter reporter = reporter();
        Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      status.publish("global", uplink("eth0"));
      await().during(Duration.ofMillis(200)).until(infoCalls::isEmpty);

      failNextInfo.set(2);
      reporter.setOnline(true);

      await().until(() -> uplinksSent().equals(List.of("eth0")));
      assertThat(infoCalls.get(0).get(0).getObjectId()).isEqualTo("device_network/global");
    }
  }

  @Test
  void afterAReconnectTheLatestInfoOfEveryLiveObjectIsSentAgain() {
    try (TelemetryReporter reporter = reporter();
        Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      status.publish("global", uplink("eth0"));
      status.publish("global", uplink("eth1"));
      await().until(() -> !uplinksSent().isEmpty() && uplinksSent().get(uplinksSent().size() - 1).equals("eth1"));
      int before = infoCalls.size();

      reporter.setOnline(false);
      reporter.setOnline(true);

      await().until(() -> infoCalls.size() > before);
      assertThat(infoCalls.get(infoCalls.size() - 1)).extracting(i -> i.getDeviceNetwork().getCurrentUplink())
          .containsExactly("eth1");
    }
  }

  @Test
  void aReconnectWhileABatchIsInFlightStillSendsEverythingAgain() throws Exception {
    try (TelemetryReporter reporter = reporter();
        Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      infoGate = new CountDownLatch(1);
      reporter.setOnline(true);
      status.publish("global", uplink("eth0"));
      await().until(() -> ((ThreadPoolExecutor) io).getActiveCount() == 1); // the upload is blocked

      reporter.setOnline(false);
      reporter.setOnline(true);
      var reconnected = new CountDownLatch(1);
      loop.execute(reconnected::countDown);
      assertThat(reconnected.await(10, TimeUnit.SECONDS)).isTrue();
      infoGate.countDown(); // the old connection's batch completes after the reconnect

      await().until(() -> uplinksSent().equals(List.of("eth0", "eth0")));
    }
  }

  @Test
  void metricsOfTheAgentsAreMergedAndSentPeriodically() {
    try (TelemetryReporter reporter = reporter();
        Publication<MetricsMessage> nim = bus.publish(NimTopics.METRICS, Durability.VOLATILE);
        Publication<MetricsMessage> zedrouter = bus.publish(ZedrouterTopics.METRICS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      nim.publish("nim", MetricsMessage.newBuilder().addInterfaces(InterfaceMetrics.newBuilder().setIfName("eth0").setRxBytes(10)).build());
      zedrouter.publish("zedrouter", MetricsMessage.newBuilder().addInterfaces(InterfaceMetrics.newBuilder().setIfName("bn1").setTxBytes(5)).build());

      await().until(() -> metricsCalls.stream().anyMatch(m -> m.getInterfacesCount() == 2));
      MetricsMessage merged = metricsCalls.stream().filter(m -> m.getInterfacesCount() == 2).findFirst().orElseThrow();
      assertThat(merged.getInterfacesList()).extracting(InterfaceMetrics::getIfName).containsExactlyInAnyOrder("eth0", "bn1");
    }
  }
}
