package dev.verge.controller.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.store.ControllerStore;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FleetMetricsTest {

  @Test
  void aStoreThatCannotBeReadLeavesTheReplicasOwnSeries() {
    ControllerStore unreachable = (ControllerStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ControllerStore.class}, (proxy, method, args) -> {
          throw new ControllerStore.StoreUnavailableException("connection refused", null);
        });
    try (FleetMetrics metrics = new FleetMetrics(unreachable,
        new TelemetryStore(Clock.systemUTC(), Duration.ofHours(1), 5, 3), new DeviceSessions(unreachable, "r1"))) {
      String text = metrics.render();

      assertThat(text).contains("verge_controller_devices_connected 0.0\n", "verge_controller_heap_used_bytes ",
          "jvm_memory_used_bytes{area=\"heap\"");
      assertThat(text).doesNotContain("verge_controller_devices_onboarded", "verge_device_");
    }
  }
}
