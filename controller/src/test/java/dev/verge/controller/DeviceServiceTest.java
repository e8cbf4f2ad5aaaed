package dev.verge.controller;

import static dev.verge.controller.RpcAssertions.details;
import static dev.verge.controller.RpcAssertions.rpcError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.ConfigAck;
import dev.verge.proto.controller.v1.ControllerMessage;
import dev.verge.proto.controller.v1.DeviceMessage;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.GetFlowLogsRequest;
import dev.verge.proto.controller.v1.GetInfoRequest;
import dev.verge.proto.controller.v1.GetMetricsRequest;
import dev.verge.proto.controller.v1.OnboardResponse;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowScope;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.AclMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every device-facing RPC and its error paths, in-process. {@link #fullDeviceConversation} is the
 * reference for a device implementation (zedagent): the exact order of calls and answers.
 */
class DeviceServiceTest {
  @TempDir Path dataDir;
  private InProcessController controller;

  @BeforeEach
  void start() throws Exception {
    controller = new InProcessController(dataDir, Clock.systemUTC());
    controller.admin.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-1").addSerials("SN-2").build());
  }

  @AfterEach
  void stop() throws Exception {
    controller.close();
  }

  private ApplyConfigResponse applyExample(String device, int epoch) {
    return controller.admin.applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device)
        .setYaml(ConfigExamples.deviceConfigYaml().replace("controller_epoch: 1", "controller_epoch: " + epoch)).build());
  }

  private static List<ErrorInfo> accept(DeviceConfig config, Object signed) {
    return List.of();
  }

  @Test
  void fullDeviceConversation() throws Exception {
    DeviceClient device = controller.device("fp-device-1");
    // 1. Trust the controller's config signer, checked against the CA pinned at install time.
    device.trustControllerSigner(controller.controller.caIdentity().certificate());
    // 2. Onboard: the first time creates the device (EVE 201), a repeat answers the same UUID (200).
    OnboardResponse first = device.onboard("SN-1");
    assertThat(first.getResult()).isEqualTo(OnboardResponse.Result.RESULT_CREATED);
    assertThat(device.onboard("SN-1")).isEqualTo(first.toBuilder().setResult(OnboardResponse.Result.RESULT_ALREADY_ONBOARDED).build());
    String uuid = first.getDeviceUuid();
    // 3. Connect with no config applied yet: the controller has none either, so it says up to date.
    RecordingListener stream = new RecordingListener();
    device.connect("", DeviceServiceTest::accept, stream);
    assertThat(stream.nextMessage().getUpToDate().getConfigHash()).isEmpty();
    // 4. The operator applies a config: it is pushed on the open stream, verified and acknowledged.
    ApplyConfigResponse applied = applyExample(uuid, 1);
    assertThat(applied.getPushed()).isTrue();
    ControllerMessage pushed = stream.nextMessage();
    assertThat(pushed.getConfig().getContentHash()).isEqualTo(applied.getConfigHash());
    assertThat(pushed.getConfig().getVersion()).isEqualTo(1);
    assertThat(stream.nextAck()).isEqualTo(ConfigAck.newBuilder().setConfigHash(applied.getConfigHash()).setAccepted(true).build());
    // The ack is sent; the controller records it on its own executor.
    DeviceRecord record = awaitRecord(uuid, r -> r.getAppliedHash().equals(applied.getConfigHash()));
    assertThat(record.getAppliedHash()).isEqualTo(applied.getConfigHash());
    assertThat(record.getConnected()).isTrue();
    // 5. Telemetry: info (latest per object), metrics, flow logs.
    assertThat(device.uploadInfo(List.of(uplinkInfo(uuid, "eth0", 1))).getAccepted()).isEqualTo(1);
    assertThat(device.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(1).build()).getAccepted()).isEqualTo(1);
    assertThat(device.uploadFlowLogs(List.of(FlowBatch.getDefaultInstance())).getAccepted()).isEqualTo(1);
    assertThat(controller.admin.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(uuid).build()).getUplink()).isEqualTo("eth0");
    // 6. Reconnect resuming from the applied hash: nothing is re-sent.
    device.disconnect();
    RecordingListener resumed = new RecordingListener();
    device.connect(device.lastAppliedHash(), DeviceServiceTest::accept, resumed);
    assertThat(resumed.nextMessage().getUpToDate().getConfigHash()).isEqualTo(applied.getConfigHash());
    // The barrier: the next config the operator applies is the next message, so nothing was
    // re-sent in between (checking for an empty queue right away could simply be too early).
    ApplyConfigResponse next = applyExample(uuid, 2);
    ControllerMessage afterResume = resumed.nextMessage();
    assertThat(afterResume.getConfig().getVersion()).isEqualTo(2);
    assertThat(afterResume.getConfig().getContentHash()).isEqualTo(next.getConfigHash());
    assertThat(resumed.nextAck().getConfigHash()).isEqualTo(next.getConfigHash());
    assertThat(resumed.acks).isEmpty();
    device.close();
  }

  @Test
  void resumingFromAnOlderHashGetsTheCurrentConfig() throws Exception {
    DeviceClient device = onboarded("fp-a", "SN-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    String older = applyExample(uuid, 1).getConfigHash();
    ApplyConfigResponse current = applyExample(uuid, 2);
    assertThat(current.getPushed()).isFalse();

    RecordingListener stream = new RecordingListener();
    device.connect(older, DeviceServiceTest::accept, stream);

    assertThat(stream.nextMessage().getConfig().getContentHash()).isEqualTo(current.getConfigHash());
    assertThat(stream.nextAck().getAccepted()).isTrue();
  }

  @Test
  void deviceWithAConfigTheControllerLacksKeepsIt() throws Exception {
    DeviceClient device = onboarded("fp-l", "SN-1");
    RecordingListener stream = new RecordingListener();

    device.connect("0123abcd", DeviceServiceTest::accept, stream);

    assertThat(stream.nextMessage().getUpToDate().getConfigHash()).isEmpty();
    assertThat(device.lastAppliedHash()).isEqualTo("0123abcd");
    // The barrier: the first config the operator applies is the next message and the first ack.
    String uuid = device.onboard("SN-1").getDeviceUuid();
    String first = applyExample(uuid, 1).getConfigHash();
    assertThat(stream.nextMessage().getConfig().getContentHash()).isEqualTo(first);
    assertThat(stream.nextAck().getConfigHash()).isEqualTo(first);
  }

  @Test
  void rejectedConfigIsRecordedWithItsReason() throws Exception {
    // This device never fetched the controller certificates, so the signer is unknown to it.
    DeviceClient device = controller.device("fp-b");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    RecordingListener stream = new RecordingListener();
    device.connect("", DeviceServiceTest::accept, stream);
    stream.nextMessage();

    String hash = applyExample(uuid, 1).getConfigHash();
    ConfigAck ack = stream.nextAck();

    assertThat(ack.getAccepted()).isFalse();
    DeviceRecord record = awaitRecord(uuid, r -> r.getRejectedHash().equals(hash));
    assertThat(record.getRejectedHash()).isEqualTo(hash);
    assertThat(record.getRejectionErrorsList()).extracting(ErrorInfo::getReason).containsExactly("UNKNOWN_SIGNER");
    assertThat(record.getAppliedHash()).isEmpty();
    assertThat(device.lastAppliedHash()).isEmpty();
  }

  @Test
  void configTheDeviceCannotApplyIsRejectedWithTheDevicesFieldPath() throws Exception {
    DeviceClient device = onboarded("fp-m", "SN-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    RecordingListener stream = new RecordingListener();
    ErrorInfo failure = ErrorInfo.newBuilder().setReason("PORT_MISSING").setFieldPath("system_adapters[1].lower_layer_name")
        .setDescription("eth1 does not exist on this device").build();
    device.connect("", (config, signed) -> List.of(failure), stream);
    stream.nextMessage();

    String hash = applyExample(uuid, 1).getConfigHash();

    assertThat(stream.nextAck().getAccepted()).isFalse();
    DeviceRecord record = awaitRecord(uuid, r -> r.getRejectedHash().equals(hash));
    assertThat(record.getRejectedHash()).isEqualTo(hash);
    assertThat(record.getRejectionErrorsList()).containsExactly(failure);
  }

  @Test
  void secondStreamFromTheSameDeviceSupersedesTheFirst() throws Exception {
    DeviceClient device = onboarded("fp-c", "SN-1");
    RecordingListener first = new RecordingListener();
    device.connect("", DeviceServiceTest::accept, first);
    first.nextMessage();

    DeviceClient again = controller.device("fp-c");
    RecordingListener second = new RecordingListener();
    again.connect("", DeviceServiceTest::accept, second);

    assertThat(second.nextMessage().hasUpToDate()).isTrue();
    assertThat(Status.fromThrowable(first.nextClose()).getCode()).isEqualTo(Status.Code.ABORTED);
  }

  @Test
  void sameSerialWithAnotherCertificateIsAConflict() {
    controller.device("fp-d").onboard("SN-1");

    var error = rpcError(() -> controller.device("fp-other").onboard("SN-1"));

    assertThat(error.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(error.info().getReason()).isEqualTo("DEVICE_CERTIFICATE_CONFLICT");
  }

  @Test
  void sameCertificateWithAnotherSerialIsAConflict() {
    controller.device("fp-e").onboard("SN-1");

    assertThat(rpcError(() -> controller.device("fp-e").onboard("SN-2")).code()).isEqualTo(Status.Code.ALREADY_EXISTS);
  }

  @Test
  void unknownSerialIsPermissionDenied() {
    var error = rpcError(() -> controller.device("fp-f").onboard("SN-404"));

    assertThat(error.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(error.info().getReason()).isEqualTo("SERIAL_NOT_ALLOWED");
    assertThat(error.info().getMetadataMap()).containsEntry("serial", "SN-404");
  }

  @Test
  void onboardingWithoutClientCertificateOrSerialIsRefused() {
    assertThat(rpcError(() -> controller.device(null).onboard("SN-1")).code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    var missingSerial = rpcError(() -> controller.device("fp-g").onboard(""));
    assertThat(missingSerial.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(missingSerial.fields()).containsExactly("serial");
  }

  @Test
  void callsFromDevicesThatDidNotOnboardAreUnauthenticated() throws Exception {
    DeviceClient stranger = controller.device("fp-stranger");

    assertThat(rpcError(() -> stranger.uploadInfo(List.of(uplinkInfo("x", "eth0", 1)))).code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(rpcError(() -> stranger.uploadMetrics(MetricsMessage.getDefaultInstance())).code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(rpcError(() -> stranger.uploadFlowLogs(List.of())).code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    RecordingListener stream = new RecordingListener();
    stranger.connect("", DeviceServiceTest::accept, stream);
    var error = details(stream.nextClose());
    assertThat(error.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(error.info().getReason()).isEqualTo("DEVICE_NOT_ONBOARDED");
  }

  @Test
  void acknowledgementBeforeHelloIsAProtocolError() throws Exception {
    onboarded("fp-h", "SN-1");
    var closed = new LinkedBlockingQueue<Throwable>();
    StreamObserver<DeviceMessage> requests = DeviceServiceGrpc.newStub(controller.channel("fp-h"))
        .connect(new StreamObserver<>() {
          @Override
          public void onNext(ControllerMessage value) {}

          @Override
          public void onError(Throwable t) {
            closed.add(t);
          }

          @Override
          public void onCompleted() {}
        });

    requests.onNext(DeviceMessage.newBuilder().setAck(ConfigAck.newBuilder().setConfigHash("x").setAccepted(true)).build());

    var error = details(closed.poll(10, TimeUnit.SECONDS));
    assertThat(error.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(error.info().getReason()).isEqualTo("HELLO_REQUIRED");
  }

  @Test
  void infoKeepsTheLatestMessagePerObject() {
    DeviceClient device = onboarded("fp-i", "SN-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();

    device.uploadInfo(List.of(uplinkInfo(uuid, "eth0", 10), niInfo("ni-1", NetworkInstanceStatus.State.STATE_INIT, 10)));
    device.uploadInfo(List.of(niInfo("ni-1", NetworkInstanceStatus.State.STATE_ONLINE, 20)));
    device.uploadInfo(List.of(niInfo("ni-1", NetworkInstanceStatus.State.STATE_ERROR, 15))); // late retry of an older one

    List<InfoMessage> info = controller.admin.getInfo(GetInfoRequest.newBuilder().setDeviceUuid(uuid).build()).getItemsList();
    assertThat(info).hasSize(2);
    assertThat(info).filteredOn(InfoMessage::hasNetworkInstance).singleElement()
        .extracting(m -> m.getNetworkInstance().getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void infoWithoutAnObjectIsRefusedWithItsIndex() {
    DeviceClient device = onboarded("fp-j", "SN-1");

    var error = rpcError(() -> device.uploadInfo(List.of(uplinkInfo("d", "eth0", 1),
        InfoMessage.newBuilder().setAtTimeMs(1).setNetworkInstance(NetworkInstanceStatus.getDefaultInstance()).build())));

    assertThat(error.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(error.fields()).containsExactly("items[1].object_id");
  }

  /** zedagent sends an info without content when an object is deleted on the device (an NI, an app). */
  @Test
  void infoWithoutContentRemovesItsObject() {
    DeviceClient device = onboarded("fp-k", "SN-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    device.uploadInfo(List.of(uplinkInfo(uuid, "eth0", 10), niInfo("ni-1", NetworkInstanceStatus.State.STATE_ONLINE, 10)));

    assertThat(device.uploadInfo(List.of(InfoMessage.newBuilder().setObjectId("ni-1").setAtTimeMs(20).build()))
        .getAccepted()).isEqualTo(1);

    List<InfoMessage> info = controller.admin.getInfo(GetInfoRequest.newBuilder().setDeviceUuid(uuid).build()).getItemsList();
    assertThat(info).singleElement().matches(InfoMessage::hasDeviceNetwork);
  }

  @Test
  void metricsAndFlowLogsAreReadBackInOrder() {
    DeviceClient device = onboarded("fp-k", "SN-1");
    String uuid = device.onboard("SN-1").getDeviceUuid();
    for (int i = 1; i <= 3; i++) {
      device.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(i).setAcl(AclMetrics.newBuilder().setTotalDrops(i * 10)).build());
      device.uploadFlowLogs(List.of(FlowBatch.newBuilder().setScope(FlowScope.newBuilder().setVifName("vif" + i)).build()));
    }

    var samples = controller.admin.getMetrics(GetMetricsRequest.newBuilder().setDeviceUuid(uuid).setSinceMs(2).build()).getSamplesList();
    var flows = controller.admin.getFlowLogs(GetFlowLogsRequest.newBuilder().setDeviceUuid(uuid).setLimit(2).build()).getBatchesList();

    assertThat(samples).extracting(MetricsMessage::getAtTimeMs).containsExactly(2L, 3L);
    assertThat(flows).extracting(b -> b.getScope().getVifName()).containsExactly("vif2", "vif3");
    var empty = rpcError(() -> DeviceServiceGrpc.newBlockingStub(controller.channel("fp-k"))
        .uploadMetrics(dev.verge.proto.controller.v1.MetricsUpload.getDefaultInstance()));
    assertThat(empty.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(empty.fields()).containsExactly("metrics");
  }

  /** The device's record once it satisfies {@code recorded}: acks are recorded asynchronously. */
  private DeviceRecord awaitRecord(String uuid, Predicate<DeviceRecord> recorded) {
    var request = GetDeviceRequest.newBuilder().setDeviceUuid(uuid).build();
    return await().atMost(Duration.ofSeconds(10))
        .until(() -> controller.admin.getDevice(request), recorded);
  }

  /** An onboarded device that trusts the controller's signer. */
  private DeviceClient onboarded(String fingerprint, String serial) {
    DeviceClient device = controller.device(fingerprint);
    try {
      device.trustControllerSigner(controller.controller.caIdentity().certificate());
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
    device.onboard(serial);
    return device;
  }

  static InfoMessage uplinkInfo(String device, String uplink, long at) {
    return InfoMessage.newBuilder().setAtTimeMs(at).setObjectId(device)
        .setDeviceNetwork(DeviceNetworkStatus.newBuilder().setCurrentUplink(uplink)).build();
  }

  static InfoMessage niInfo(String ni, NetworkInstanceStatus.State state, long at) {
    return InfoMessage.newBuilder().setAtTimeMs(at).setObjectId(ni)
        .setNetworkInstance(NetworkInstanceStatus.newBuilder().setState(state)).build();
  }
}
