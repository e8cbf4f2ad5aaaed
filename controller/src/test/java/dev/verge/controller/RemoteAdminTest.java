package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.Certificates;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ListOnboardingRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote administration over mutual TLS (--admin-listen), as a gRPC client meets it: only an
 * operator certificate issued by this controller's CA gets in; everyone else gets one status line
 * saying why, on every service of that listener.
 */
class RemoteAdminTest {
  @TempDir Path dir;
  private ControllerServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = ControllerServer.start(ControllerSettings.ephemeral(dir.resolve("data"))
        .withRemoteAdmin(new InetSocketAddress("127.0.0.1", 0)));
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    server.close();
  }

  private ManagedChannel remote(Certificates.Identity client) {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder()
        .trustManager(Certificates.trustManagers(server.controller().caIdentity().certificate()));
    if (client != null) {
      tls.keyManager(Certificates.keyManagers(client));
    }
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", server.remoteAdminPort(), tls.build()).build();
    channels.add(channel);
    return channel;
  }

  private static AdminServiceGrpc.AdminServiceBlockingStub admin(ManagedChannel channel) {
    return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private Certificates.Identity issuedOperator(String name) throws Exception {
    OperatorCertificates.Issued issued = OperatorCertificates.issue(dir.resolve("data"), name, dir.resolve("out-" + name));
    return Certificates.load(issued.certificate(), issued.key()).orElseThrow();
  }

  private static Status refusal(Throwable thrown) {
    assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
    return Status.fromThrowable(thrown);
  }

  @Test
  void offByDefault() throws Exception {
    try (ControllerServer plain = ControllerServer.start(ControllerSettings.ephemeral(dir.resolve("other")))) {
      assertThat(plain.remoteAdminPort()).isEqualTo(-1);
    }
  }

  @Test
  void anOperatorCertificateFromThisCaAdministersTheController() throws Exception {
    var stub = admin(remote(issuedOperator("alice")));

    stub.addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-REMOTE").build());

    assertThat(stub.listOnboarding(ListOnboardingRequest.getDefaultInstance()).getSerialsList()).containsExactly("SN-REMOTE");
  }

  @Test
  void withoutAClientCertificateEveryServiceIsRefusedWithTheReason() {
    ManagedChannel anonymous = remote(null);

    Status admin = refusal(catchThrowable(() -> admin(anonymous).listOnboarding(ListOnboardingRequest.getDefaultInstance())));
    Status health = refusal(catchThrowable(() -> HealthGrpc.newBlockingStub(anonymous).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())));

    assertThat(admin.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(admin.getDescription()).isEqualTo("no client certificate: the remote admin API needs an operator certificate "
        + "issued by this controller's CA (verge controller issue-operator-cert)");
    assertThat(health.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void anOnboardedDevicesCertificateIsRefused() throws Exception {
    Certificates.Identity deviceIdentity = Certificates.selfSigned("device SN-DEV", false, Duration.ofDays(30));
    server.controller(); // the device onboards over its own API, as in the field
    ManagedChannel plainAdmin = Grpc.newChannelBuilder("unix://" + server.adminSocket().toAbsolutePath(),
        io.grpc.InsecureChannelCredentials.create()).build();
    channels.add(plainAdmin);
    admin(plainAdmin).addOnboarding(OnboardingRequest.newBuilder().addSerials("SN-DEV").build());
    ManagedChannel deviceChannel = DeviceClient.tlsChannel("localhost", server.devicePort(), deviceIdentity,
        server.controller().caIdentity().certificate());
    channels.add(deviceChannel);
    String uuid = new DeviceClient(deviceChannel).onboard("SN-DEV").getDeviceUuid();

    Status status = refusal(catchThrowable(() -> admin(remote(deviceIdentity)).listOnboarding(ListOnboardingRequest.getDefaultInstance())));

    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("the client certificate (CN=device SN-DEV) is the identity of device " + uuid
        + "; devices cannot use the admin API");
  }

  @Test
  void anOperatorCertificateFromAnotherCaIsRefused() throws Exception {
    Certificates.Identity otherCa = Certificates.selfSigned("verge controller CA", true, Duration.ofDays(30)); // same name, other key
    Certificates.Identity stranger = Certificates.issueClient(otherCa, "mallory", "verge operator", Duration.ofDays(1));

    Status status = refusal(catchThrowable(() -> admin(remote(stranger)).listOnboarding(ListOnboardingRequest.getDefaultInstance())));

    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(status.getDescription()).isEqualTo("the client certificate (OU=verge operator,CN=mallory, issued by "
        + "CN=verge controller CA) is not issued by this controller's CA");
  }

  @Test
  void aCertificateOfThisCaThatIsNotAnOperatorsIsRefused() {
    // The controller's own TLS certificate: issued by the CA, but a server identity.
    Status status = refusal(catchThrowable(() -> admin(remote(server.controller().serverIdentity()))
        .listOnboarding(ListOnboardingRequest.getDefaultInstance())));

    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).isEqualTo("the client certificate (CN=verge controller) is not an operator certificate "
        + "(OU=verge operator, client authentication)");
  }

  @Test
  void issuingNeedsAValidNameAnExistingCaAndDoesNotOverwrite() throws Exception {
    issuedOperator("bob");

    assertThat(catchThrowable(() -> OperatorCertificates.issue(dir.resolve("data"), "bob", dir.resolve("out-bob"))))
        .hasMessage(dir.resolve("out-bob").resolve("bob.crt") + " already exists; remove it or choose another --out");
    assertThat(catchThrowable(() -> OperatorCertificates.issue(dir.resolve("data"), "../x", dir.resolve("o"))))
        .hasMessageStartingWith("the operator name must be");
    assertThat(catchThrowable(() -> OperatorCertificates.issue(dir.resolve("nothing"), "carol", dir.resolve("o"))))
        .hasMessage("no controller CA in " + dir.resolve("nothing").resolve("pki") + " (start the controller once on that data directory)");
  }
}
