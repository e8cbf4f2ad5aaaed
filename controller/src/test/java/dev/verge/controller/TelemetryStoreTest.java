package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.internal.TelemetryStore;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowScope;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TelemetryStoreTest {
  private final TelemetryStore store = new TelemetryStore(Clock.systemUTC(), Duration.ofHours(1), 5, 3);

  @Test
  void metricsKeepOnlyTheNewestSamplesPerDevice() {
    IntStream.rangeClosed(1, 8).forEach(i -> store.addMetrics("d1", MetricsMessage.newBuilder().setAtTimeMs(i).build()));
    store.addMetrics("d2", MetricsMessage.newBuilder().setAtTimeMs(100).build());

    assertThat(store.metrics("d1", 0)).extracting(MetricsMessage::getAtTimeMs).containsExactly(4L, 5L, 6L, 7L, 8L);
    assertThat(store.metrics("d2", 0)).hasSize(1);
    assertThat(store.metrics("unknown", 0)).isEmpty();
  }

  @Test
  void flowLogsKeepOnlyTheNewestBatches() {
    for (int i = 1; i <= 5; i++) {
      store.addFlows("d1", List.of(FlowBatch.newBuilder().setScope(FlowScope.newBuilder().setVifName("v" + i)).build()));
    }

    assertThat(store.flows("d1", 0)).extracting(b -> b.getScope().getVifName()).containsExactly("v3", "v4", "v5");
  }

  @Test
  void aclDropsComeFromTheLatestCumulativeCounters() {
    store.addMetrics("d1", MetricsMessage.newBuilder()
        .addInterfaces(InterfaceMetrics.newBuilder().setAclDrops(3))
        .addInterfaces(InterfaceMetrics.newBuilder().setAclDrops(4)).build());
    assertThat(store.summary("d1").aclDrops()).isEqualTo(7);

    store.addMetrics("d1", MetricsMessage.newBuilder().addInterfaces(InterfaceMetrics.newBuilder().setAclDrops(9)).build());
    assertThat(store.summary("d1").aclDrops()).isEqualTo(9);
  }
}
