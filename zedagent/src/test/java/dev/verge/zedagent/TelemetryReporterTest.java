package dev.verge.zedagent;

import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowScope;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.ManualAgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The delivery rules of telemetry, on virtual time: the agent loop and the upload executor run
 * only when the test drives them, so "nothing was sent" is checked after everything queued has
 * run, and every retry and interval is checked to the millisecond.
 */
class TelemetryReporterTest {
  private static final Duration METRICS_INTERVAL = Duration.ofMillis(100);
  private static final Duration FLOW_INTERVAL = Duration.ofSeconds(1);
  private static final Duration RETRY = Duration.ofMillis(50);
  private static final Duration MS = Duration.ofMillis(1);

  private PubSub bus;
  private final ManualAgentLoop loop = new ManualAgentLoop("zedagent");
  /** The I/O executor: uploads queue here and run when the test says (an upload "in flight"). */
  private final QueuedExecutor io = new QueuedExecutor();
  private TelemetryReporter reporter;

  private final List<List<InfoMessage>> infoAttempts = new ArrayList<>();
  private final List<List<InfoMessage>> infoAccepted = new ArrayList<>();
  private final List<MetricsMessage> metricsSent = new ArrayList<>();
  private final List<List<FlowBatch>> flowAttempts = new ArrayList<>();
  private final List<List<FlowBatch>> flowAccepted = new ArrayList<>();
  private int failNextInfo;
  private int failNextFlows;

  private final TelemetryReporter.Uploader uploader =
      new TelemetryReporter.Uploader() {
        @Override
        public void uploadInfo(List<InfoMessage> items) {
          infoAttempts.add(items);
          if (failNextInfo > 0) {
            failNextInfo--;
            throw new IllegalStateException("controller unavailable");
          }
          infoAccepted.add(items);
        }

        @Override
        public void uploadMetrics(MetricsMessage metrics) {
          metricsSent.add(metrics);
        }

        @Override
        public void uploadFlowLogs(List<FlowBatch> batches) {
          flowAttempts.add(batches);
          if (failNextFlows > 0) {
            failNextFlows--;
            throw new IllegalStateException("controller unavailable");
          }
          flowAccepted.add(batches);
        }
      };

  @BeforeEach
  void start() {
    bus = PubSub.inJvm(PubSubConfig.defaults());
    reporter = new TelemetryReporter(bus, loop, io, uploader, METRICS_INTERVAL, FLOW_INTERVAL, RETRY);
  }

  @AfterEach
  void stop() {
    reporter.close();
    loop.close();
    bus.close();
  }

  /** Runs the loop and the uploads until neither has anything left to do (no time passes). */
  private void settle() {
    while (loop.runPending() + io.runAll() > 0) {
      // an upload reports back to the loop, which may start the next one
    }
  }

  /** Moves virtual time, completing uploads as they are started. */
  private void advance(Duration by) {
    long target = loop.elapsed().plus(by).toNanos();
    settle();
    while (loop.elapsed().toNanos() < target) {
      loop.advance(Duration.ofNanos(Math.min(MS.toNanos(), target - loop.elapsed().toNanos())));
      settle();
    }
  }

  private static DeviceNetworkStatus uplink(String port) {
    return DeviceNetworkStatus.newBuilder().setCurrentUplink(port).build();
  }

  private static FlowBatch flows(String vif) {
    return FlowBatch.newBuilder().setScope(FlowScope.newBuilder().setVifName(vif)).build();
  }

  private static List<String> objects(List<InfoMessage> batch) {
    return batch.stream().map(InfoMessage::getObjectId).toList();
  }

  private static List<String> vifs(List<FlowBatch> batch) {
    return batch.stream().map(b -> b.getScope().getVifName()).toList();
  }

  @Test
  void infoIsHeldWhileOfflineThenSentAndRetriedWithADoublingDelayUntilAccepted() {
    try (Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      status.publish("global", uplink("eth0"));
      advance(RETRY.multipliedBy(10));
      assertThat(infoAttempts).as("offline: nothing is sent").isEmpty();

      failNextInfo = 2;
      reporter.setOnline(true);
      settle();
      assertThat(infoAttempts).as("sent at once when online").hasSize(1);
      advance(RETRY.minus(MS));
      assertThat(infoAttempts).as("no retry before the retry delay").hasSize(1);
      advance(MS);
      assertThat(infoAttempts).as("first retry after exactly the retry delay").hasSize(2);
      advance(RETRY);
      assertThat(infoAttempts).as("the delay doubles after each failure").hasSize(2);
      advance(RETRY);
      assertThat(infoAttempts).as("second retry, after twice the retry delay, accepted").hasSize(3);
      advance(RETRY.multipliedBy(10));
      assertThat(infoAttempts).as("nothing more once accepted").hasSize(3);

      assertThat(infoAccepted).hasSize(1);
      assertThat(infoAccepted.get(0)).singleElement().satisfies(info -> {
        assertThat(info.getObjectId()).isEqualTo("device_network/global");
        assertThat(info.getDeviceNetwork()).isEqualTo(uplink("eth0"));
      });
    }
  }

  @Test
  void afterAReconnectTheLatestInfoOfEveryLiveObjectIsSentAgain() {
    try (Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE);
        Publication<NetworkInstanceStatus> nis = bus.publish(ZedrouterTopics.NETWORK_INSTANCE_STATUS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      status.publish("global", uplink("eth0"));
      settle();
      status.publish("global", uplink("eth1"));
      nis.publish("ni-1", NetworkInstanceStatus.newBuilder().setState(NetworkInstanceStatus.State.STATE_ONLINE).build());
      nis.publish("ni-2", NetworkInstanceStatus.newBuilder().setState(NetworkInstanceStatus.State.STATE_INIT).build());
      settle();
      nis.unpublish("ni-2");
      settle();
      // One batch in flight at a time: what changes meanwhile goes in the next batch.
      assertThat(infoAccepted).extracting(TelemetryReporterTest::objects).containsExactly(
          List.of("device_network/global"),
          List.of("device_network/global"),
          List.of("network_instance/ni-1", "network_instance/ni-2"),
          List.of("network_instance/ni-2"));
      assertThat(infoAccepted.get(3).get(0).hasNetworkInstance()).as("a deleted object goes without payload").isFalse();

      reporter.setOnline(false);
      reporter.setOnline(true);
      settle();

      assertThat(infoAccepted).hasSize(5);
      List<InfoMessage> resent = infoAccepted.get(4);
      assertThat(objects(resent)).as("every live object, the deleted one not")
          .containsExactly("device_network/global", "network_instance/ni-1");
      assertThat(resent.get(0).getDeviceNetwork()).as("the latest value").isEqualTo(uplink("eth1"));
    }
  }

  @Test
  void aReconnectWhileABatchIsInFlightStillSendsEverythingAgain() {
    try (Publication<DeviceNetworkStatus> status = bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      status.publish("global", uplink("eth0"));
      loop.runPending();
      assertThat(io.pending()).as("the upload is in flight").isEqualTo(1);

      reporter.setOnline(false);
      reporter.setOnline(true);
      loop.runPending();
      assertThat(io.pending()).as("one batch in flight at a time").isEqualTo(1);
      io.runAll(); // the old connection's batch completes after the reconnect
      settle();

      assertThat(infoAccepted).extracting(TelemetryReporterTest::objects)
          .containsExactly(List.of("device_network/global"), List.of("device_network/global"));
      advance(RETRY.multipliedBy(10));
      assertThat(infoAttempts).hasSize(2);
    }
  }

  @Test
  void metricsOfTheAgentsAreMergedAndSentEveryIntervalWhileOnline() {
    try (Publication<MetricsMessage> nim = bus.publish(NimTopics.METRICS, Durability.VOLATILE);
        Publication<MetricsMessage> zedrouter = bus.publish(ZedrouterTopics.METRICS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      nim.publish("nim", MetricsMessage.newBuilder().addInterfaces(InterfaceMetrics.newBuilder().setIfName("eth0").setRxBytes(10)).build());
      zedrouter.publish("zedrouter", MetricsMessage.newBuilder().addInterfaces(InterfaceMetrics.newBuilder().setIfName("bn1").setTxBytes(5)).build());
      settle();

      advance(METRICS_INTERVAL.minus(MS));
      assertThat(metricsSent).isEmpty();
      advance(MS);
      assertThat(metricsSent).hasSize(1);
      assertThat(metricsSent.get(0).getInterfacesList()).extracting(InterfaceMetrics::getIfName).containsExactly("eth0", "bn1");
      assertThat(metricsSent.get(0).getInterfaces(0).getRxBytes()).isEqualTo(10);
      assertThat(metricsSent.get(0).getInterfaces(1).getTxBytes()).isEqualTo(5);
      advance(METRICS_INTERVAL.multipliedBy(2));
      assertThat(metricsSent).hasSize(3);

      reporter.setOnline(false);
      advance(METRICS_INTERVAL.multipliedBy(5));
      assertThat(metricsSent).as("metrics are not kept for later").hasSize(3);
    }
  }

  @Test
  void flowLogsAreBatchedAndSentOncePerInterval() {
    try (Publication<FlowBatch> flowLog = bus.publish(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      settle(); // online before the batches come: going online sends what is pending at once
      flowLog.publish("b1", flows("vif1"));
      flowLog.publish("b2", flows("vif2"));
      flowLog.publish("b3", flows("vif3"));

      advance(FLOW_INTERVAL.minus(MS));
      assertThat(flowAttempts).as("held until the interval ends").isEmpty();
      advance(MS);
      assertThat(flowAttempts).extracting(TelemetryReporterTest::vifs).containsExactly(List.of("vif1", "vif2", "vif3"));

      flowLog.publish("b4", flows("vif4"));
      advance(FLOW_INTERVAL);
      advance(FLOW_INTERVAL.multipliedBy(3));
      assertThat(flowAccepted).extracting(TelemetryReporterTest::vifs)
          .as("each batch once; an interval with nothing new sends nothing")
          .containsExactly(List.of("vif1", "vif2", "vif3"), List.of("vif4"));
    }
  }

  @Test
  void aFailedFlowUploadIsRetriedAtTheNextIntervalWithWhatCameMeanwhile() {
    try (Publication<FlowBatch> flowLog = bus.publish(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      settle(); // online before the batches come: going online sends what is pending at once
      failNextFlows = 1;
      flowLog.publish("b1", flows("vif1"));
      advance(FLOW_INTERVAL);
      flowLog.publish("b2", flows("vif2"));
      advance(FLOW_INTERVAL.minus(MS));
      assertThat(flowAttempts).as("a failed upload waits for the next interval").hasSize(1);
      advance(MS);
      advance(FLOW_INTERVAL.multipliedBy(3));

      assertThat(flowAttempts).extracting(TelemetryReporterTest::vifs)
          .containsExactly(List.of("vif1"), List.of("vif1", "vif2"));
      assertThat(flowAccepted).extracting(TelemetryReporterTest::vifs).containsExactly(List.of("vif1", "vif2"));
    }
  }

  @Test
  void flowBatchesArrivingDuringAnUploadGoInTheNextOneNeitherLostNorRepeated() {
    try (Publication<FlowBatch> flowLog = bus.publish(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE)) {
      reporter.setOnline(true);
      settle(); // online before the batches come: going online sends what is pending at once
      flowLog.publish("b1", flows("vif1"));
      loop.advance(FLOW_INTERVAL);
      assertThat(io.pending()).as("the upload of vif1 is in flight").isEqualTo(1);
      flowLog.publish("b2", flows("vif2"));
      loop.advance(FLOW_INTERVAL);
      assertThat(io.pending()).as("no second upload while one is in flight").isEqualTo(1);

      settle();
      advance(FLOW_INTERVAL.multipliedBy(3));

      assertThat(flowAccepted).extracting(TelemetryReporterTest::vifs).containsExactly(List.of("vif1"), List.of("vif2"));
    }
  }

  @Test
  void whileOfflineFlowBatchesAreBoundedAndTheOldestAreDropped() {
    int extra = 5;
    int published = TelemetryReporter.MAX_PENDING_FLOW_BATCHES + extra;
    try (Publication<FlowBatch> flowLog = bus.publish(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE)) {
      for (int i = 0; i < published; i++) {
        flowLog.publish("b" + i, flows("vif" + i));
      }
      advance(FLOW_INTERVAL.multipliedBy(3));
      assertThat(flowAttempts).as("offline").isEmpty();
      assertThat(reporter.droppedFlowBatches()).isEqualTo(extra);

      reporter.setOnline(true);
      settle();

      assertThat(flowAccepted).hasSize(1);
      assertThat(vifs(flowAccepted.get(0))).as("the newest batches, oldest first")
          .containsExactlyElementsOf(IntStream.range(extra, published).mapToObj(i -> "vif" + i).toList());
    }
  }

  /** An executor whose tasks run only in {@link #runAll()}, on the calling thread. */
  private static final class QueuedExecutor implements Executor {
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    int pending() {
      return tasks.size();
    }

    int runAll() {
      int ran = 0;
      for (Runnable task; (task = tasks.poll()) != null; ran++) {
        task.run();
      }
      return ran;
    }
  }
}
