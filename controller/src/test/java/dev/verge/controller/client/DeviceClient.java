package dev.verge.controller.client;

import dev.verge.proto.Certificates;
import dev.verge.proto.ConfigValidator;
import dev.verge.proto.ConfigViolation;
import dev.verge.proto.SignedConfigVerifier;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.common.v1.Severity;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigAck;
import dev.verge.proto.controller.v1.ControllerCerts;
import dev.verge.proto.controller.v1.ControllerMessage;
import dev.verge.proto.controller.v1.DeviceMessage;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import dev.verge.proto.controller.v1.FlowLogUpload;
import dev.verge.proto.controller.v1.GetControllerCertsRequest;
import dev.verge.proto.controller.v1.Hello;
import dev.verge.proto.controller.v1.InfoUpload;
import dev.verge.proto.controller.v1.MetricsUpload;
import dev.verge.proto.controller.v1.OnboardRequest;
import dev.verge.proto.controller.v1.OnboardResponse;
import dev.verge.proto.controller.v1.SignedConfig;
import dev.verge.proto.controller.v1.UploadAck;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The device side of the controller API, as a small reference for zedagent, the tests and the
 * benchmark. It follows the conversation documented in controller.proto: fetch and check the
 * controller certificates, onboard, open the Connect stream with the last applied hash, verify
 * each pushed config (hash, signer, signature, content) and acknowledge or reject it, upload
 * telemetry. Reconnection and persistence of the last good config are the caller's job.
 */
public final class DeviceClient implements AutoCloseable {
  /** Applies a verified, valid config on the device; returns the errors if it could not. */
  @FunctionalInterface
  public interface ConfigApplier {
    List<ErrorInfo> apply(DeviceConfig config, SignedConfig signed);
  }

  /** What happened on the Connect stream, for callers that watch it. */
  public interface StreamListener {
    default void onMessage(ControllerMessage message) {}

    default void onAcknowledged(ConfigAck ack) {}

    default void onClosed(Throwable error) {}
  }

  private static final long CALL_DEADLINE_SECONDS = 10;

  private final ManagedChannel channel;
  private final DeviceServiceGrpc.DeviceServiceBlockingStub blocking;
  private final DeviceServiceGrpc.DeviceServiceStub async;
  private final SignedConfigVerifier verifier = new SignedConfigVerifier(List.of());
  private final ConfigValidator validator = new ConfigValidator();
  private volatile String lastAppliedHash = "";
  private volatile ClientCallStreamObserver<DeviceMessage> stream;

  public DeviceClient(ManagedChannel channel) {
    this.channel = channel;
    this.blocking = DeviceServiceGrpc.newBlockingStub(channel);
    this.async = DeviceServiceGrpc.newStub(channel);
  }

  /** A mutual-TLS channel: the device presents {@code device}, and trusts only {@code controllerCa}. */
  public static ManagedChannel tlsChannel(String host, int port, Certificates.Identity device, X509Certificate controllerCa) {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder()
        .keyManager(Certificates.keyManagers(device))
        .trustManager(Certificates.trustManagers(controllerCa));
    return NettyChannelBuilder.forAddress(host, port, tls.build())
        .keepAliveTime(30, TimeUnit.SECONDS)
        .build();
  }

  /**
   * The device's TLS setup, built once and reused for every dial (as a device keeps its own): its
   * certificate and key, trusting only {@code controllerCa}.
   */
  public static io.netty.handler.ssl.SslContext tlsContext(Certificates.Identity device,
      X509Certificate controllerCa) {
    try {
      return io.grpc.netty.GrpcSslContexts.forClient()
          .keyManager(device.keys().getPrivate(), device.certificate())
          .trustManager(controllerCa)
          .build();
    } catch (javax.net.ssl.SSLException e) {
      throw new IllegalStateException("cannot set up TLS for the device: " + e.getMessage(), e);
    }
  }

  /** A mutual-TLS channel with a TLS setup made by {@link #tlsContext}. */
  public static ManagedChannel tlsChannel(String host, int port, io.netty.handler.ssl.SslContext tls) {
    return NettyChannelBuilder.forAddress(host, port).sslContext(tls).keepAliveTime(30, TimeUnit.SECONDS).build();
  }

  /**
   * Step 1: fetch the controller's certificates and trust its signing certificate, after checking
   * that the CA the device pinned issued it.
   */
  public ControllerCerts trustControllerSigner(X509Certificate pinnedCa) throws GeneralSecurityException {
    ControllerCerts certs = deadline().getControllerCerts(GetControllerCertsRequest.getDefaultInstance());
    verifier.trustIssuedBy(certs.getSigningCertDer().toByteArray(), pinnedCa);
    return certs;
  }

  /**
   * Step 1 without blocking a thread (a fleet simulation re-dials thousands of devices at once):
   * completes with the certificates once the signing certificate is trusted, or exceptionally.
   */
  public java.util.concurrent.CompletableFuture<ControllerCerts> trustControllerSignerAsync(X509Certificate pinnedCa) {
    java.util.concurrent.CompletableFuture<ControllerCerts> trusted = new java.util.concurrent.CompletableFuture<>();
    async.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS).getControllerCerts(GetControllerCertsRequest.getDefaultInstance(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(ControllerCerts certs) {
            try {
              verifier.trustIssuedBy(certs.getSigningCertDer().toByteArray(), pinnedCa);
              trusted.complete(certs);
            } catch (GeneralSecurityException | RuntimeException e) {
              trusted.completeExceptionally(e);
            }
          }

          @Override
          public void onError(Throwable error) {
            trusted.completeExceptionally(error);
          }

          @Override
          public void onCompleted() {
            trusted.completeExceptionally(new IllegalStateException("no controller certificates in the answer"));
          }
        });
    return trusted;
  }

  /** Step 2: onboard with the device serial (the certificate comes from the TLS handshake). */
  public OnboardResponse onboard(String serial) {
    return deadline().onboard(OnboardRequest.newBuilder().setSerial(serial).build());
  }

  /** Step 3: open the config stream, resuming from {@code lastApplied} (empty when none). */
  public void connect(String lastApplied, ConfigApplier applier, StreamListener listener) {
    lastAppliedHash = lastApplied;
    async.connect(new ClientResponseObserver<DeviceMessage, ControllerMessage>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<DeviceMessage> requestStream) {
        stream = requestStream;
      }

      @Override
      public void onNext(ControllerMessage message) {
        listener.onMessage(message);
        if (message.hasConfig()) {
          ConfigAck ack = handle(message.getConfig(), applier);
          send(DeviceMessage.newBuilder().setAck(ack).build());
          listener.onAcknowledged(ack);
        }
      }

      @Override
      public void onError(Throwable error) {
        listener.onClosed(error);
      }

      @Override
      public void onCompleted() {
        listener.onClosed(null);
      }
    });
    send(DeviceMessage.newBuilder().setHello(Hello.newBuilder().setLastAppliedHash(lastApplied)).build());
  }

  private ConfigAck handle(SignedConfig signed, ConfigApplier applier) {
    ConfigAck.Builder ack = ConfigAck.newBuilder().setConfigHash(signed.getContentHash());
    DeviceConfig config;
    try {
      config = verifier.verify(signed);
    } catch (SignedConfigVerifier.RejectedConfigException e) {
      return ack.setAccepted(false).addErrors(error(e.reason(), "", e.getMessage())).build();
    }
    List<ConfigViolation> violations = validator.validate(config);
    if (!violations.isEmpty()) {
      violations.forEach(v -> ack.addErrors(error(v.reason(), v.fieldPath(), v.description())));
      return ack.setAccepted(false).build();
    }
    List<ErrorInfo> errors = applier.apply(config, signed);
    if (!errors.isEmpty()) {
      return ack.setAccepted(false).addAllErrors(errors).build();
    }
    lastAppliedHash = signed.getContentHash();
    return ack.setAccepted(true).build();
  }

  private static ErrorInfo error(String reason, String fieldPath, String description) {
    return ErrorInfo.newBuilder().setReason(reason).setFieldPath(fieldPath).setDescription(description)
        .setSeverity(Severity.SEVERITY_ERROR).setTimestampMs(System.currentTimeMillis()).build();
  }

  private synchronized void send(DeviceMessage message) {
    ClientCallStreamObserver<DeviceMessage> current = stream;
    if (current != null) {
      current.onNext(message);
    }
  }

  /** Closes the config stream (the channel stays open). */
  public synchronized void disconnect() {
    if (stream != null) {
      stream.onCompleted();
      stream = null;
    }
  }

  public String lastAppliedHash() {
    return lastAppliedHash;
  }

  /** Step 4: telemetry. Info must be retried by the caller until it is acknowledged. */
  public UploadAck uploadInfo(List<InfoMessage> items) {
    return deadline().uploadInfo(InfoUpload.newBuilder().addAllItems(items).build());
  }

  public UploadAck uploadMetrics(MetricsMessage metrics) {
    return deadline().uploadMetrics(MetricsUpload.newBuilder().setMetrics(metrics).build());
  }

  public UploadAck uploadFlowLogs(List<FlowBatch> batches) {
    return deadline().uploadFlowLogs(FlowLogUpload.newBuilder().addAllBatches(new ArrayList<>(batches)).build());
  }

  private DeviceServiceGrpc.DeviceServiceBlockingStub deadline() {
    return blocking.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** Drops a client whose connection is already gone, without waiting for its channel to terminate. */
  public void abandon() {
    disconnect();
    channel.shutdownNow();
  }

  @Override
  public void close() {
    disconnect();
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
