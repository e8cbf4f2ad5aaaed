package dev.verge.controller;

import dev.verge.testkit.ManualClock;
import static dev.verge.controller.RpcAssertions.rpcError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetConfigRequest;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.GetInfoRequest;
import dev.verge.proto.controller.v1.GetMetricsRequest;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.ListOnboardingRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every admin RPC and its error paths, in-process; bad configs are refused with exact field paths. */
class AdminServiceTest {
  @TempDir Path dataDir;
  private final ManualClock clock = new ManualClock();
  private InProcessController controller;
  private String device;


  @BeforeEach
  void start() throws Exception {
    controller = new InProcessController(dataDir, clock);
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-1").build());
    device = controller.device("fp-1").onboard("SN-1").getDeviceUuid();
  }

  @AfterEach
  void stop() throws Exception {
    controller.close();
  }

  private ApplyConfigResponse applyYaml(String yaml) {
    return controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device).setYaml(yaml).build());
  }

  private RpcAssertions.RpcError refusedYaml(String yaml) {
    return rpcError(() -> applyYaml(yaml));
  }

  @Test
  void applyingTheSameContentTwiceKeepsOneVersion() {
    ApplyConfigResponse first = applyYaml(ConfigExamples.deviceConfigYaml());
    ApplyConfigResponse again = applyYaml(ConfigExamples.deviceConfigYaml());

    assertThat(first.getVersion()).isEqualTo(1);
    assertThat(first.getUnchanged()).isFalse();
    assertThat(first.getPushed()).isFalse(); // the device is not connected
    assertThat(again.getUnchanged()).isTrue();
    assertThat(again.getVersion()).isEqualTo(1);
    assertThat(again.getConfigHash()).isEqualTo(first.getConfigHash());
  }

  @Test
  void jsonYamlAndProtoFormsOfOneConfigHashTheSame() throws Exception {
    DeviceConfig config = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
    String viaYaml = applyYaml(ConfigExamples.deviceConfigYaml()).getConfigHash();
    String viaJson = controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device)
        .setJson(ConfigCodec.toJson(config)).build()).getConfigHash();
    String viaProto = controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device)
        .setConfig(config).build()).getConfigHash();

    assertThat(viaJson).isEqualTo(viaYaml);
    assertThat(viaProto).isEqualTo(viaYaml);
  }

  private ApplyConfigResponse apply(DeviceConfig config) {
    return controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device).setConfig(config).build());
  }

  private DeviceConfig stored(long version) {
    return controller.admin.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).setVersion(version).build())
        .getConfig().getConfig();
  }

  /**
   * The device orders configs by their timestamp, so the controller sets it on every config it
   * issues: later than any before it for that device, whatever the operator wrote, even when the
   * clock stands still or, after a restart, went back.
   */
  @Test
  void theControllerStampsEachConfigLaterThanTheDevicesLastWhateverTheOperatorOrTheClockSay() throws Exception {
    DeviceConfig example = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
    long now = clock.millis();

    ApplyConfigResponse first = apply(example.toBuilder().setConfigTimestampMs(5).build());
    ApplyConfigResponse second = apply(example.toBuilder().setControllerEpoch(2).setConfigTimestampMs(now + 1_000_000).build());
    ApplyConfigResponse same = apply(example.toBuilder().setControllerEpoch(2).setConfigTimestampMs(42).build());
    clock.advance(Duration.ofSeconds(10));
    ApplyConfigResponse third = apply(example.toBuilder().setControllerEpoch(3).build());

    assertThat(stored(first.getVersion()).getConfigTimestampMs()).isEqualTo(now);
    assertThat(stored(second.getVersion()).getConfigTimestampMs()).as("the clock stood still").isEqualTo(now + 1);
    assertThat(same.getUnchanged()).as("only the operator's timestamp differed").isTrue();
    assertThat(same.getVersion()).isEqualTo(second.getVersion());
    assertThat(stored(third.getVersion()).getConfigTimestampMs()).isEqualTo(now + 10_000);
    assertThat(third.getConfigHash()).as("the hash the device verifies covers the stamp")
        .isEqualTo(dev.verge.proto.ConfigDigest.contentHash(stored(third.getVersion())));

    controller.close();
    ManualClock earlier = new ManualClock(clock.instant().minus(Duration.ofHours(1))); // stepped back across a restart
    controller = new InProcessController(dataDir, earlier);
    ApplyConfigResponse afterRestart = apply(example.toBuilder().setControllerEpoch(4).build());

    assertThat(stored(afterRestart.getVersion()).getConfigTimestampMs()).isEqualTo(now + 10_001);
  }

  @Test
  void configHistoryKeepsEveryVersion() {
    applyYaml(ConfigExamples.deviceConfigYaml());
    ApplyConfigResponse second = applyYaml(ConfigExamples.deviceConfigYaml().replace("controller_epoch: 1", "controller_epoch: 2"));

    var current = controller.admin.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).build());
    var first = controller.admin.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).setVersion(1).build());

    assertThat(current.getConfig().getVersion()).isEqualTo(2);
    assertThat(current.getConfig().getConfigHash()).isEqualTo(second.getConfigHash());
    assertThat(current.getConfig().getConfig().getId().getUuid()).isEqualTo(device);
    assertThat(current.getHistoryList()).extracting(ConfigVersionSummary::getVersion).containsExactly(1L, 2L);
    assertThat(first.getConfig().getConfig().getControllerEpoch()).isEqualTo(1);
    var missing = rpcError(() -> controller.admin.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).setVersion(7).build()));
    assertThat(missing.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(missing.info().getReason()).isEqualTo("CONFIG_NOT_FOUND");
  }

  @Test
  void malformedYamlIsRefusedWithItsLocation() {
    var error = refusedYaml("network_instances:\n  - id: {uuid: x\n");

    assertThat(error.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(error.info().getReason()).isEqualTo("INVALID_CONFIG");
    assertThat(error.fields()).singleElement().asString().startsWith("<input>:");
  }

  @Test
  void malformedJsonIsRefusedWithLineAndColumn() {
    var error = rpcError(() -> controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device)
        .setJson("{\n \"vlans\": [,]\n}").build()));

    assertThat(error.fields()).containsExactly("<input>:2:12");
  }

  @Test
  void unknownFieldIsRefusedWithItsPath() {
    var error = refusedYaml(ConfigExamples.deviceConfigYaml().replace("    display_name: vpn1\n", "    display_name: vpn1\n    colour: red\n"));

    assertThat(error.fields()).containsExactly("network_instances[1].colour");
    assertThat(error.message()).contains("network_instances[1].colour");
  }

  @Test
  void referenceToAnUnknownNetworkInstanceIsRefusedWithItsPath() {
    var error = refusedYaml(ConfigExamples.deviceConfigYaml()
        .replace("network_id: 6f0a1c2e-0000-4000-8000-000000000013", "network_id: 6f0a1c2e-0000-4000-8000-000000000099"));

    assertThat(error.fields()).containsExactly("apps[0].interfaces[1].network_id");
  }

  @Test
  void referenceToAnUnknownPortIsRefusedWithItsPath() {
    var error = refusedYaml(ConfigExamples.deviceConfigYaml().replace("port: {name: vlan100}", "port: {name: vlan200}"));

    assertThat(error.fields()).containsExactly("network_instances[2].port.name");
  }

  @Test
  void overlappingLocalSubnetsAreRefused() {
    var error = refusedYaml(ConfigExamples.deviceConfigYaml()
        .replace("ip: {subnet: 10.2.0.0/24, gateway: 10.2.0.1}", "ip: {subnet: 10.1.0.0/16, gateway: 10.1.0.1}")
        .replace("local_subnets: [10.2.0.0/24]", "local_subnets: [10.1.0.0/16]"));

    assertThat(error.fields()).containsExactly("network_instances[1].ip.subnet");
  }

  @Test
  void oversizedConfigIsRefused() {
    String huge = ConfigExamples.deviceConfigYaml() + "config_items:\n" + "  - {key: filler, value: \"" + "x".repeat(1 << 20) + "\"}\n";

    var error = refusedYaml(huge);

    assertThat(error.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(error.message()).contains("TOO_LARGE");
  }

  @Test
  void configForAnotherDeviceIsRefused() {
    var error = refusedYaml("id: {uuid: 6f0a1c2e-0000-4000-8000-0000000000aa}\n");

    assertThat(error.fields()).containsExactly("id.uuid");
  }

  @Test
  void unknownOrMissingDeviceIsRefused() {
    var unknown = rpcError(() -> controller.admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid("nope").build()));
    var missing = rpcError(() -> controller.admin.getInfo(GetInfoRequest.getDefaultInstance()));
    var noSource = rpcError(() -> controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device).build()));
    var unknownApply = rpcError(() -> controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid("nope")
        .setConfig(DeviceConfig.newBuilder().setControllerEpoch(1)).build()));

    assertThat(unknown.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unknown.info().getReason()).isEqualTo("DEVICE_NOT_FOUND");
    assertThat(missing.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(missing.fields()).containsExactly("device_uuid");
    assertThat(noSource.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unknownApply.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unknownApply.info().getReason()).isEqualTo("DEVICE_NOT_FOUND");
  }

  @Test
  void onboardingListIsManaged() {
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-3").addSerials("SN-2").build());
    var afterRemove = controller.admin.removeOnboarding(OnboardingRequest.newBuilder().addSerials("SN-1").build());

    assertThat(afterRemove.getSerialsList()).containsExactly("SN-2", "SN-3");
    assertThat(controller.admin.listOnboarding(ListOnboardingRequest.getDefaultInstance()).getSerialsList()).containsExactly("SN-2", "SN-3");
    var blank = rpcError(() -> controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-4").addSerials(" ").build()));
    assertThat(blank.fields()).containsExactly("serials[1]");
    assertThat(rpcError(() -> controller.admin.addOnboarding(OnboardingRequest.getDefaultInstance())).fields()).containsExactly("serials");
  }

  @Test
  void devicesAreListedWithTheirConfigState() {
    ApplyConfigResponse applied = applyYaml(ConfigExamples.deviceConfigYaml());

    var devices = controller.admin.listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();

    assertThat(devices).singleElement().satisfies(d -> {
      assertThat(d.getDeviceUuid()).isEqualTo(device);
      assertThat(d.getSerial()).isEqualTo("SN-1");
      assertThat(d.getCertFingerprint()).isEqualTo("fp-1");
      assertThat(d.getCurrentHash()).isEqualTo(applied.getConfigHash());
      assertThat(d.getConnected()).isFalse();
    });
  }

  @Test
  void metricsOlderThanTheRetentionAreDropped() {
    var client = controller.device("fp-1");
    client.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(1).build());
    clock.advance(Duration.ofMinutes(59));
    client.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(2).build());
    clock.advance(Duration.ofMinutes(2));

    var samples = controller.admin.getMetrics(GetMetricsRequest.newBuilder().setDeviceUuid(device).build()).getSamplesList();

    assertThat(samples).extracting(MetricsMessage::getAtTimeMs).containsExactly(2L);
    DeviceRecord record = controller.admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device).build());
    assertThat(record.getLastInfoAtMs()).isZero();
  }
}
