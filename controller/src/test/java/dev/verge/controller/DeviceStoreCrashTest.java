package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.internal.DeviceStore;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.verge.testkit.ProcessOutput;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config store survives kill -9 at any moment and leftovers of interrupted writes. */
class DeviceStoreCrashTest {
  @TempDir Path dataDir;

  /** Child process: onboards one device, then stores versions forever, printing each stored one. */
  public static void main(String[] args) throws Exception {
    DeviceStore store = new DeviceStore(Path.of(args[0]), Clock.systemUTC());
    store.addOnboarding(List.of("SN-CRASH"));
    String device = store.onboard("SN-CRASH", "fp-crash").deviceUuid();
    System.out.println("device " + device);
    for (int i = 1; ; i++) {
      DeviceStore.ApplyOutcome outcome = store.apply(device, config(i));
      store.recordAck(device, outcome.version().getConfigHash(), i % 2 == 0, List.of());
      System.out.println("stored " + outcome.version().getVersion());
      System.out.flush();
    }
  }

  static DeviceConfig config(int i) {
    return DeviceConfig.newBuilder().setControllerEpoch(i)
        .addConfigItems(ConfigItem.newBuilder().setKey("padding").setValue("x".repeat(4096 + i))).build();
  }

  @Test
  void storeSurvivesKillDashNineWithEveryPromisedVersionIntact() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        DeviceStoreCrashTest.class.getName(), dataDir.toString()).redirectErrorStream(true).start();
    String device;
    long promised;
    try {
      // Bounded reads: a child that hangs fails the test with its output instead of hanging it.
      ProcessOutput out = ProcessOutput.of("store child", child);
      device = out.awaitLine(line -> line.startsWith("device "), Duration.ofSeconds(60)).substring(7);
      out.awaitLine(line -> line.equals("stored 40"), Duration.ofSeconds(60));
      child.destroyForcibly(); // SIGKILL while it keeps writing
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(out.awaitEnd(Duration.ofSeconds(10))).as("the child's output ends with it").isTrue();
      // The last version it promised: printed (and flushed) only after the store returned.
      promised = out.lines().stream().filter(line -> line.startsWith("stored "))
          .mapToLong(line -> Long.parseLong(line.substring(7))).max().orElseThrow();
    } finally {
      child.destroyForcibly();
    }
    assertThat(promised).isGreaterThanOrEqualTo(40);

    DeviceStore reopened = new DeviceStore(dataDir, Clock.systemUTC());

    ConfigVersion current = reopened.currentConfig(device).orElseThrow();
    // Every promised version, and at most the one being written when the kill came.
    assertThat(current.getVersion()).isBetween(promised, promised + 1);
    assertThat(reopened.history(device)).extracting(ConfigVersionSummary::getVersion)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, current.getVersion()).boxed().toList());
    long previousStamp = 0;
    for (long v = 1; v <= current.getVersion(); v++) {
      ConfigVersion version = reopened.configVersion(device, v).orElseThrow();
      assertThat(version.getConfig().toBuilder().clearConfigTimestampMs().build()).isEqualTo(config((int) v));
      assertThat(version.getConfig().getConfigTimestampMs()).as("stamped by the store, later each version").isGreaterThan(previousStamp);
      previousStamp = version.getConfig().getConfigTimestampMs();
      assertThat(version.getConfigHash()).isEqualTo(ConfigDigest.contentHash(version.getConfig()));
    }
    assertThat(reopened.device(device).orElseThrow().getCertFingerprint()).isEqualTo("fp-crash");
    assertThat(reopened.deviceByFingerprint("fp-crash")).contains(device);
  }

  @Test
  void leftoversOfInterruptedWritesAreIgnoredAndRemoved() throws Exception {
    DeviceStore store = new DeviceStore(dataDir, Clock.systemUTC());
    store.addOnboarding(List.of("SN-1"));
    String device = store.onboard("SN-1", "fp-1").deviceUuid();
    store.apply(device, config(1));
    Path configs = dataDir.resolve("devices").resolve(device).resolve("configs");
    Path torn = configs.resolve(".tmp-0000000002.json-crashed");
    Files.writeString(torn, "{\"version\": \"2\", \"config_ha");

    DeviceStore reopened = new DeviceStore(dataDir, Clock.systemUTC());

    assertThat(reopened.currentConfig(device).orElseThrow().getVersion()).isEqualTo(1);
    assertThat(torn).doesNotExist();
    assertThat(reopened.apply(device, config(2)).version().getVersion()).isEqualTo(2);
  }

  @Test
  void acknowledgementsAndRejectionsPersist() throws Exception {
    DeviceStore store = new DeviceStore(dataDir, Clock.systemUTC());
    store.addOnboarding(List.of("SN-1"));
    String device = store.onboard("SN-1", "fp-1").deviceUuid();
    String good = store.apply(device, config(1)).version().getConfigHash();
    store.recordAck(device, good, true, List.of());
    String bad = store.apply(device, config(2)).version().getConfigHash();
    store.recordAck(device, bad, false, List.of(dev.verge.proto.common.v1.ErrorInfo.newBuilder().setReason("BAD_SIGNATURE").build()));

    var record = new DeviceStore(dataDir, Clock.systemUTC()).device(device).orElseThrow();

    assertThat(record.getAppliedHash()).isEqualTo(good);
    assertThat(record.getRejectedHash()).isEqualTo(bad);
    assertThat(record.getRejectionErrors(0).getReason()).isEqualTo("BAD_SIGNATURE");
    assertThat(record.getCurrentHash()).isEqualTo(bad);
  }
}
