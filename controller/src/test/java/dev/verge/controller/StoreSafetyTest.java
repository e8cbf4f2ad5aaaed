package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetConfigRequest;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store under concurrent controllers, damaged files and a long history, seen through gRPC. */
class StoreSafetyTest {
  @TempDir Path dataDir;
  private InProcessController controller;

  @AfterEach
  void stop() throws Exception {
    if (controller != null) {
      controller.close();
    }
  }

  private void start(ControllerSettings settings) throws Exception {
    controller = new InProcessController(new Controller(settings, Clock.systemUTC()));
  }

  private String onboard(String serial, String fingerprint) {
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials(serial).build());
    return controller.device(fingerprint).onboard(serial).getDeviceUuid();
  }

  private ApplyConfigResponse apply(String device, int epoch) {
    return controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device)
        .setYaml(ConfigExamples.deviceConfigYaml().replace("controller_epoch: 1", "controller_epoch: " + epoch)).build());
  }

  private DeviceRecord record(String device) {
    return controller.admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device).build());
  }

  private List<Long> history(String device) {
    return controller.admin.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).build()).getHistoryList().stream()
        .map(ConfigVersionSummary::getVersion).toList();
  }

  private static List<ErrorInfo> accept(DeviceConfig config, Object signed) {
    return List.of();
  }

  @Test
  void aSecondControllerOnTheSameDataDirIsRefusedUntilTheFirstStops() throws Exception {
    start(ControllerSettings.ephemeral(dataDir));

    assertThatThrownBy(() -> new Controller(ControllerSettings.ephemeral(dataDir)))
        .isInstanceOf(DataDirInUseException.class)
        .hasMessage("data directory " + dataDir + " is in use by another controller (pid " + ProcessHandle.current().pid()
            + "); stop it or choose another --data-dir");

    controller.close();
    controller = null;
    start(ControllerSettings.ephemeral(dataDir)); // the lock went with the first one
  }

  @Test
  void aTruncatedConfigIsQuarantinedForItsDeviceAndTheFleetIsServed() throws Exception {
    start(ControllerSettings.ephemeral(dataDir));
    String damaged = onboard("SN-A", "fp-a");
    String healthy = onboard("SN-B", "fp-b");
    apply(damaged, 1);
    apply(damaged, 2);
    String healthyHash = apply(healthy, 1).getConfigHash();
    controller.close();
    Path newest = dataDir.resolve("devices").resolve(damaged).resolve("configs").resolve("0000000002.json");
    byte[] whole = Files.readAllBytes(newest);
    Files.write(newest, java.util.Arrays.copyOf(whole, whole.length / 2)); // a torn write from outside the store

    start(ControllerSettings.ephemeral(dataDir));

    DeviceRecord damagedRecord = record(damaged);
    assertThat(damagedRecord.getStoreProblemsList()).singleElement().asString()
        .startsWith("configs/0000000002.json: 0000000002.json is not readable: ");
    assertThat(damagedRecord.getCurrentHash()).as("not rolled back to version 1").isEmpty();
    assertThat(Files.exists(dataDir.resolve("devices").resolve(damaged).resolve("quarantine").resolve("0000000002.json"))).isTrue();
    assertThat(record(healthy).getCurrentHash()).isEqualTo(healthyHash);
    assertThat(record(healthy).getStoreProblemsList()).isEmpty();
    // The damaged device connecting is told to keep what it runs, not sent version 1.
    RecordingListener stream = new RecordingListener();
    DeviceClient device = controller.device("fp-a");
    device.trustControllerSigner(controller.controller.caIdentity().certificate());
    device.connect("", StoreSafetyTest::accept, stream);
    assertThat(stream.nextMessage().getUpToDate().getConfigHash()).isEmpty();
    // The operator's next config gets a new version number: 2 is never reused.
    ApplyConfigResponse next = apply(damaged, 3);
    assertThat(next.getVersion()).isEqualTo(3);
    assertThat(stream.nextMessage().getConfig().getVersion()).isEqualTo(3);
    device.close();
  }

  @Test
  void aDamagedDeviceRecordIsReportedAndTheRestIsServed() throws Exception {
    start(ControllerSettings.ephemeral(dataDir));
    String damaged = onboard("SN-A", "fp-a");
    String healthy = onboard("SN-B", "fp-b");
    controller.close();
    Files.write(dataDir.resolve("devices").resolve(damaged).resolve("device.json"), new byte[] {(byte) 0xff, (byte) 0xfe, '{'});

    start(ControllerSettings.ephemeral(dataDir));

    assertThat(record(damaged).getStoreProblemsList()).containsExactly("device.json: device.json is not UTF-8 text");
    assertThat(record(healthy).getSerial()).isEqualTo("SN-B");
  }

  @Test
  void historyKeepsTheLimitPlusTheCurrentAndTheAcknowledgedVersion() throws Exception {
    start(ControllerSettings.ephemeral(dataDir).withConfigHistoryLimit(3));
    String uuid = onboard("SN-A", "fp-a");
    apply(uuid, 1);
    String acknowledged = apply(uuid, 2).getConfigHash();
    DeviceClient device = controller.device("fp-a");
    device.trustControllerSigner(controller.controller.caIdentity().certificate());
    RecordingListener stream = new RecordingListener();
    device.connect("", StoreSafetyTest::accept, stream);
    assertThat(stream.nextAck().getConfigHash()).isEqualTo(acknowledged);
    await().atMost(Duration.ofSeconds(10)).until(() -> record(uuid).getAppliedHash().equals(acknowledged));
    device.disconnect();

    for (int epoch = 3; epoch <= 6; epoch++) {
      apply(uuid, epoch);
    }

    assertThat(history(uuid)).containsExactly(2L, 5L, 6L);
    try (Stream<Path> files = Files.list(dataDir.resolve("devices").resolve(uuid).resolve("configs"))) {
      assertThat(files.map(f -> f.getFileName().toString()).sorted())
          .containsExactly("0000000002.json", "0000000005.json", "0000000006.json");
    }
    controller.close();
    start(ControllerSettings.ephemeral(dataDir).withConfigHistoryLimit(3));
    assertThat(history(uuid)).containsExactly(2L, 5L, 6L);
    assertThat(apply(uuid, 7).getVersion()).isEqualTo(7);
  }
}
