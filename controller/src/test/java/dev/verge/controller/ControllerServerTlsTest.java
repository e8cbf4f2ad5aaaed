package dev.verge.controller;

import dev.verge.proto.Certificates;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import dev.verge.proto.controller.v1.GetControllerCertsRequest;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.OnboardResponse;
import dev.verge.proto.controller.v1.OnboardingRequest;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.AclMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real transport: mutual TLS on a loopback port, health, reflection, /metrics, restarts. */
class ControllerServerTlsTest {
  @TempDir Path dataDir;
  private ControllerServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final Certificates.Identity deviceIdentity = Certificates.selfSigned("device SN-TLS", false, Duration.ofDays(30));

  @BeforeEach
  void start() throws Exception {
    server = ControllerServer.start(ControllerSettings.ephemeral(dataDir));
    admin().addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-TLS").build());
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    server.close();
  }

  private AdminServiceGrpc.AdminServiceBlockingStub admin() {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.adminPort(), InsecureChannelCredentials.create()).build();
    channels.add(channel);
    return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private DeviceClient device(Certificates.Identity identity) {
    ManagedChannel channel = DeviceClient.tlsChannel("localhost", server.devicePort(), identity, server.controller().caIdentity().certificate());
    channels.add(channel);
    return new DeviceClient(channel);
  }

  private static List<ErrorInfo> accept(Object config, Object signed) {
    return List.of();
  }

  @Test
  void deviceOnboardsOverMutualTlsAndAcknowledgesAPushedConfig() throws Exception {
    DeviceClient device = device(deviceIdentity);
    device.trustControllerSigner(server.controller().caIdentity().certificate());
    OnboardResponse onboarded = device.onboard("SN-TLS");
    RecordingListener stream = new RecordingListener();
    device.connect("", ControllerServerTlsTest::accept, stream);
    assertThat(stream.nextMessage().hasUpToDate()).isTrue();

    ApplyConfigResponse applied = admin().applyConfig(ApplyConfigRequest.newBuilder()
        .setDeviceUuid(onboarded.getDeviceUuid()).setYaml(ConfigExamples.deviceConfigYaml()).build());

    assertThat(stream.nextAck().getConfigHash()).isEqualTo(applied.getConfigHash());
    awaitApplied(onboarded.getDeviceUuid(), applied.getConfigHash());
    var record = admin().getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(onboarded.getDeviceUuid()).build());
    assertThat(record.getCertFingerprint()).isEqualTo(deviceIdentity.fingerprint());
  }

  @Test
  void everyPrivateKeyTheControllerWritesIsReadableByItsOwnerOnly() throws Exception {
    List<String> keys = new ArrayList<>();
    try (var files = java.nio.file.Files.walk(dataDir)) {
      for (Path file : files.filter(java.nio.file.Files::isRegularFile).toList()) {
        if (java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1).contains("PRIVATE KEY")) {
          keys.add(dataDir.relativize(file) + " "
              + java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)));
        }
      }
    }
    assertThat(keys).containsExactlyInAnyOrder(
        "pki/ca.key rw-------", "pki/server.key rw-------", "pki/signing.key rw-------");
  }

  @Test
  void clientWithoutCertificateIsRefusedInTheHandshake() {
    TlsChannelCredentials.Builder noCert = TlsChannelCredentials.newBuilder()
        .trustManager(Certificates.trustManagers(server.controller().caIdentity().certificate()));
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", server.devicePort(), noCert.build()).build();
    channels.add(channel);

    Throwable thrown = catchThrowable(() -> DeviceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getControllerCerts(GetControllerCertsRequest.getDefaultInstance()));

    // TLS 1.3: the server's alert that it requires a client certificate.
    TlsAssertions.assertRefusedInHandshake(thrown, "CERTIFICATE_REQUIRED");
  }

  @Test
  void unknownClientCertificateCannotUseTheDeviceApi() {
    DeviceClient stranger = device(Certificates.selfSigned("stranger", false, Duration.ofDays(1)));

    Throwable thrown = catchThrowable(() -> stranger.uploadMetrics(MetricsMessage.getDefaultInstance()));

    assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
    assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void deviceRefusesAControllerItsPinnedCaDidNotIssue() {
    Certificates.Identity otherCa = Certificates.selfSigned("other CA", true, Duration.ofDays(1));
    ManagedChannel channel = DeviceClient.tlsChannel("localhost", server.devicePort(), deviceIdentity, otherCa.certificate());
    channels.add(channel);

    Throwable thrown = catchThrowable(() -> new DeviceClient(channel).onboard("SN-TLS"));

    TlsAssertions.assertRefusedInHandshake(thrown, "unable to find valid certification path");
  }

  @Test
  void healthAndReflectionAreServed() throws Exception {
    ManagedChannel deviceChannel = DeviceClient.tlsChannel("localhost", server.devicePort(), deviceIdentity,
        server.controller().caIdentity().certificate());
    channels.add(deviceChannel);
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(deviceChannel).withDeadlineAfter(10, TimeUnit.SECONDS);

    assertThat(health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService(DeviceServiceGrpc.SERVICE_NAME).build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(Status.fromThrowable(catchThrowable(() -> health.check(HealthCheckRequest.newBuilder().setService("nope").build())))
        .getCode()).isEqualTo(Status.Code.NOT_FOUND);

    ManagedChannel adminChannel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.adminPort(), InsecureChannelCredentials.create()).build();
    channels.add(adminChannel);
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> reflection = ServerReflectionGrpc.newStub(adminChannel).serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    reflection.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName).toList();
    reflection.onCompleted();
    assertThat(services).contains(AdminServiceGrpc.SERVICE_NAME, HealthGrpc.SERVICE_NAME);
  }

  /** A device that onboarded over TLS, holds an open stream and acknowledged the example config. */
  private record ConfiguredDevice(DeviceClient client, String uuid, RecordingListener stream, String appliedHash) {}

  private ConfiguredDevice configuredDevice() throws Exception {
    DeviceClient device = device(deviceIdentity);
    device.trustControllerSigner(server.controller().caIdentity().certificate());
    String uuid = device.onboard("SN-TLS").getDeviceUuid();
    RecordingListener stream = new RecordingListener();
    device.connect("", ControllerServerTlsTest::accept, stream);
    stream.nextMessage();
    admin().applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(uuid).setYaml(ConfigExamples.deviceConfigYaml()).build());
    String applied = stream.nextAck().getConfigHash();
    awaitApplied(uuid, applied);
    return new ConfiguredDevice(device, uuid, stream, applied);
  }

  /** The device has sent its ack; the controller records it on its own executor. */
  private void awaitApplied(String uuid, String hash) {
    var request = GetDeviceRequest.newBuilder().setDeviceUuid(uuid).build();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> admin().getDevice(request).getAppliedHash().equals(hash));
  }

  @Test
  void metricsEndpointShowsTheFleet() throws Exception {
    ConfiguredDevice configured = configuredDevice();
    DeviceClient device = configured.client();
    String uuid = configured.uuid();
    device.uploadInfo(List.of(DeviceServiceTest.uplinkInfo(uuid, "vlan100", 1),
        DeviceServiceTest.niInfo("ni-1", NetworkInstanceStatus.State.STATE_ONLINE, 1),
        DeviceServiceTest.niInfo("ni-2", NetworkInstanceStatus.State.STATE_ERROR, 1)));
    device.uploadMetrics(MetricsMessage.newBuilder().setAcl(AclMetrics.newBuilder().setTotalDrops(42)).build());

    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(response.body()).contains(
        "verge_controller_devices_connected 1.0\n",
        "verge_controller_devices_onboarded 1.0\n",
        "verge_device_connected{device=\"" + uuid + "\"} 1.0\n",
        "verge_device_config_applied{device=\"" + uuid + "\"} 1.0\n",
        "verge_device_uplink_in_use{device=\"" + uuid + "\",port=\"vlan100\"} 1.0\n",
        "verge_network_instances{state=\"ONLINE\"} 1.0\n",
        "verge_network_instances{state=\"ERROR\"} 1.0\n",
        "verge_device_acl_drops_total{device=\"" + uuid + "\"} 42.0\n",
        "# TYPE verge_device_acl_drops_total counter\n",
        "jvm_memory_used_bytes{area=\"heap\"");
  }

  @Test
  void deviceResumesAfterAControllerRestartWithoutReapplying() throws Exception {
    ConfiguredDevice configured = configuredDevice();
    RecordingListener stream = configured.stream();
    String applied = configured.appliedHash();
    String caBefore = server.controller().caIdentity().fingerprint();
    int port = server.devicePort();

    server.close();
    assertThat(Status.fromThrowable(stream.nextClose()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    server = ControllerServer.start(ControllerSettings.ephemeral(dataDir).withPorts("127.0.0.1", port, 0, 0));
    DeviceClient reconnected = device(deviceIdentity);
    reconnected.trustControllerSigner(server.controller().caIdentity().certificate());
    RecordingListener resumed = new RecordingListener();
    reconnected.connect(applied, ControllerServerTlsTest::accept, resumed);

    assertThat(server.controller().caIdentity().fingerprint()).isEqualTo(caBefore);
    assertThat(resumed.nextMessage().getUpToDate().getConfigHash()).isEqualTo(applied);
    // The barrier: the next config applied is the next message and the first ack on this stream.
    String next = admin().applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(configured.uuid())
        .setYaml(ConfigExamples.deviceConfigYaml().replace("controller_epoch: 1", "controller_epoch: 2")).build()).getConfigHash();
    assertThat(resumed.nextMessage().getConfig().getContentHash()).isEqualTo(next);
    assertThat(resumed.nextAck().getConfigHash()).isEqualTo(next);
    assertThat(reconnected.onboard("SN-TLS").getResult()).isEqualTo(OnboardResponse.Result.RESULT_ALREADY_ONBOARDED);
  }
}
