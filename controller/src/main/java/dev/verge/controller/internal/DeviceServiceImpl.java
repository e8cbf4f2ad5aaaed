package dev.verge.controller.internal;

import dev.verge.controller.store.ControllerStore;
import dev.verge.controller.telemetry.FlowLogSink;
import com.google.protobuf.ByteString;
import dev.verge.proto.Certificates;
import dev.verge.controller.ClientCertificates;
import dev.verge.proto.ConfigViolation;
import dev.verge.proto.controller.v1.ConfigAck;
import dev.verge.proto.controller.v1.ControllerCerts;
import dev.verge.proto.controller.v1.ControllerMessage;
import dev.verge.proto.controller.v1.DeviceMessage;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import dev.verge.proto.controller.v1.FlowLogUpload;
import dev.verge.proto.controller.v1.GetControllerCertsRequest;
import dev.verge.proto.controller.v1.InfoUpload;
import dev.verge.proto.controller.v1.MetricsUpload;
import dev.verge.proto.controller.v1.OnboardRequest;
import dev.verge.proto.controller.v1.OnboardResponse;
import dev.verge.proto.controller.v1.UpToDate;
import dev.verge.proto.controller.v1.UploadAck;
import dev.verge.proto.info.v1.InfoMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The device-facing API: onboarding, the config stream with acknowledgements, telemetry upload. */
public final class DeviceServiceImpl extends DeviceServiceGrpc.DeviceServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceServiceImpl.class);

  private final ControllerStore store;
  private final TelemetryStore telemetry;
  private final DeviceSessions sessions;
  private final ConfigSigner signer;
  private final ControllerCerts certs;
  private final java.time.Clock clock;
  private final FlowLogSink flowLogs;

  public DeviceServiceImpl(ControllerStore store, TelemetryStore telemetry, DeviceSessions sessions, ConfigSigner signer,
      ControllerKeys keys, java.time.Clock clock, FlowLogSink flowLogs) {
    this.store = store;
    this.flowLogs = flowLogs;
    this.clock = clock;
    this.telemetry = telemetry;
    this.sessions = sessions;
    this.signer = signer;
    this.certs = ControllerCerts.newBuilder()
        .setCaCertDer(ByteString.copyFrom(Certificates.der(keys.ca().certificate())))
        .setSigningCertDer(ByteString.copyFrom(Certificates.der(keys.signing().certificate())))
        .setSigningCertHash(signer.signerHash())
        .build();
  }

  /**
   * A new version was stored for the device, possibly by another replica: push the current config
   * if this replica holds the device's stream (the session skips a hash it already sent).
   */
  public void configStored(String device) {
    DeviceSessions.Session session = sessions.get(device);
    if (session == null) {
      return;
    }
    try {
      store.currentConfig(device).ifPresent(current -> session.sendConfig(current.getConfigHash(), ControllerMessage.newBuilder()
          .setConfig(signer.sign(device, current.getVersion(), current.getConfig())).build()));
    } catch (RuntimeException e) {
      LOG.warn("could not push the new config of device {}: {}", device, e.toString());
    }
  }

  @Override
  public void getControllerCerts(GetControllerCertsRequest request, StreamObserver<ControllerCerts> response) {
    response.onNext(certs);
    response.onCompleted();
  }

  @Override
  public void onboard(OnboardRequest request, StreamObserver<OnboardResponse> response) {
    String fingerprint = ClientCertificates.FINGERPRINT.get();
    if (fingerprint == null) {
      response.onError(RpcErrors.error(Status.Code.UNAUTHENTICATED, "CLIENT_CERTIFICATE_REQUIRED",
          "onboarding needs the device certificate in the TLS handshake"));
      return;
    }
    if (request.getSerial().isEmpty()) {
      response.onError(RpcErrors.badRequest("INVALID_ONBOARD_REQUEST",
          List.of(new ConfigViolation("serial", ConfigViolation.MISSING_VALUE, "the device serial is required"))));
      return;
    }
    try {
      ControllerStore.OnboardOutcome outcome = store.onboard(request.getSerial(), fingerprint);
      switch (outcome.kind()) {
        case CREATED, REPEAT -> {
          LOG.info("onboard serial={} device={} result={}", request.getSerial(), outcome.deviceUuid(), outcome.kind());
          response.onNext(OnboardResponse.newBuilder()
              .setResult(outcome.kind() == ControllerStore.OnboardKind.CREATED
                  ? OnboardResponse.Result.RESULT_CREATED : OnboardResponse.Result.RESULT_ALREADY_ONBOARDED)
              .setDeviceUuid(outcome.deviceUuid())
              .build());
          response.onCompleted();
        }
        case CONFLICT -> response.onError(RpcErrors.error(Status.Code.ALREADY_EXISTS, "DEVICE_CERTIFICATE_CONFLICT",
            "serial or certificate already belongs to an onboarded device with a different certificate or serial",
            Map.of("serial", request.getSerial())));
        case NOT_LISTED -> response.onError(RpcErrors.error(Status.Code.PERMISSION_DENIED, "SERIAL_NOT_ALLOWED",
            "serial " + request.getSerial() + " is not on the onboarding list", Map.of("serial", request.getSerial())));
      }
    } catch (IOException e) {
      response.onError(storageError(e));
    }
  }

  @Override
  public StreamObserver<DeviceMessage> connect(StreamObserver<ControllerMessage> response) {
    Optional<String> device = authenticatedDevice();
    if (device.isEmpty()) {
      response.onError(RpcErrors.notOnboarded());
      return new DiscardingObserver();
    }
    return new ConfigStream(device.get(), response);
  }

  /** One device's Connect stream: Hello first, then acknowledgements. */
  private final class ConfigStream implements StreamObserver<DeviceMessage> {
    private final String device;
    private final StreamObserver<ControllerMessage> response;
    private DeviceSessions.Session session;

    ConfigStream(String device, StreamObserver<ControllerMessage> response) {
      this.device = device;
      this.response = response;
    }

    @Override
    public void onNext(DeviceMessage message) {
      try {
        switch (message.getKindCase()) {
          case HELLO -> hello(message.getHello().getLastAppliedHash());
          case ACK -> acknowledge(message.getAck());
          default -> fail(RpcErrors.error(Status.Code.INVALID_ARGUMENT, "EMPTY_DEVICE_MESSAGE", "a DeviceMessage needs hello or ack"));
        }
      } catch (IOException e) {
        fail(storageError(e));
      }
    }

    private void hello(String lastAppliedHash) throws IOException {
      if (session != null) {
        fail(RpcErrors.error(Status.Code.FAILED_PRECONDITION, "DUPLICATE_HELLO", "Hello is sent once, first"));
        return;
      }
      session = sessions.open(device, response);
      // One store call (one transaction on PostgreSQL): note the stream, read the current config,
      // and acknowledge it when the device resumes by its hash.
      var current = store.streamResumed(device, sessions.replica(), lastAppliedHash);
      String currentHash = current.map(c -> c.getConfigHash()).orElse("");
      if (currentHash.isEmpty() || currentHash.equals(lastAppliedHash)) {
        // Resume: the device runs the current config already (or there is none here: it keeps its own).
        session.noteCurrent(currentHash);
        session.send(ControllerMessage.newBuilder().setUpToDate(UpToDate.newBuilder().setConfigHash(currentHash)).build());
      } else {
        session.sendConfig(currentHash, ControllerMessage.newBuilder()
            .setConfig(signer.sign(device, current.get().getVersion(), current.get().getConfig())).build());
      }
      LOG.info("device {} connected, last applied {}, current {}", device, abbreviate(lastAppliedHash), abbreviate(currentHash));
    }

    private void acknowledge(ConfigAck ack) throws IOException {
      if (session == null) {
        fail(RpcErrors.error(Status.Code.FAILED_PRECONDITION, "HELLO_REQUIRED", "send Hello before acknowledgements"));
        return;
      }
      store.recordAck(device, ack.getConfigHash(), ack.getAccepted(), ack.getErrorsList());
      if (ack.getAccepted()) {
        LOG.info("device {} applied config {}", device, abbreviate(ack.getConfigHash()));
      } else {
        LOG.warn("device {} rejected config {}: {}", device, abbreviate(ack.getConfigHash()),
            ack.getErrorsList().stream().map(e -> e.getDescription()).toList());
      }
    }

    private void fail(RuntimeException error) {
      if (session != null) {
        session.close(Status.fromThrowable(error));
        sessions.closed(device, session);
      } else {
        response.onError(error);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (session != null) {
        sessions.closed(device, session);
      }
      LOG.info("device {} stream ended: {}", device, Status.fromThrowable(t).getCode());
    }

    @Override
    public void onCompleted() {
      if (session == null) {
        response.onCompleted();
        return;
      }
      session.complete();
      sessions.closed(device, session);
    }
  }

  /** An upload from an onboarded device: checks its content, stores it, answers how many items were kept. */
  @FunctionalInterface
  private interface Upload {
    int store(String device) throws InvalidUploadException, IOException;
  }

  /** Refuses an upload with the field paths of its problems. */
  private static final class InvalidUploadException extends Exception {
    final transient RuntimeException status;

    InvalidUploadException(String reason, List<ConfigViolation> violations) {
      super(reason, null, false, false);
      this.status = RpcErrors.badRequest(reason, violations);
    }
  }

  private void upload(StreamObserver<UploadAck> response, Upload upload) {
    Optional<String> device = authenticatedDevice();
    if (device.isEmpty()) {
      response.onError(RpcErrors.notOnboarded());
      return;
    }
    try {
      response.onNext(UploadAck.newBuilder().setAccepted(upload.store(device.get())).build());
      response.onCompleted();
    } catch (InvalidUploadException e) {
      response.onError(e.status);
    } catch (IOException e) {
      response.onError(storageError(e));
    }
  }

  @Override
  public void uploadInfo(InfoUpload request, StreamObserver<UploadAck> response) {
    upload(response, device -> {
      // An item without content is the device saying its object is gone (TelemetryStore.apply).
      List<ConfigViolation> violations = new ArrayList<>();
      for (int i = 0; i < request.getItemsCount(); i++) {
        if (request.getItems(i).getObjectId().isEmpty()) {
          violations.add(new ConfigViolation("items[" + i + "].object_id", ConfigViolation.MISSING_VALUE,
              "an info message names its object"));
        }
      }
      if (!violations.isEmpty()) {
        throw new InvalidUploadException("INVALID_INFO", violations);
      }
      store.putInfo(device, request.getItemsList(), clock.millis());
      return telemetry.addInfo(device, request.getItemsList());
    });
  }

  @Override
  public void uploadMetrics(MetricsUpload request, StreamObserver<UploadAck> response) {
    upload(response, device -> {
      if (!request.hasMetrics()) {
        throw new InvalidUploadException("INVALID_METRICS",
            List.of(new ConfigViolation("metrics", ConfigViolation.MISSING_VALUE, "the metrics message is required")));
      }
      telemetry.addMetrics(device, request.getMetrics());
      return 1;
    });
  }

  @Override
  public void uploadFlowLogs(FlowLogUpload request, StreamObserver<UploadAck> response) {
    upload(response, device -> {
      flowLogs.accept(device, request.getBatchesList()); // out of the controller: the sink batches its writes
      return telemetry.addFlows(device, request.getBatchesList()); // a bounded recent window for `get flowlogs`
    });
  }

  private Optional<String> authenticatedDevice() {
    String fingerprint = ClientCertificates.FINGERPRINT.get();
    return fingerprint == null ? Optional.empty() : store.deviceByFingerprint(fingerprint);
  }

  static RuntimeException storageError(IOException e) {
    LOG.error("store write failed", e);
    return RpcErrors.error(Status.Code.INTERNAL, "STORAGE_FAILURE", "the controller could not persist the change");
  }

  private static String abbreviate(String hash) {
    return hash.isEmpty() ? "(none)" : hash.substring(0, Math.min(12, hash.length()));
  }

  /** Swallows messages of a stream that was refused before it started. */
  private static final class DiscardingObserver implements StreamObserver<DeviceMessage> {
    @Override
    public void onNext(DeviceMessage value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
