package dev.verge.zedagent;

import dev.verge.proto.common.v1.ErrorInfo;
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
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.ConfigApplyStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Topic;
import dev.verge.proto.Certificates;
import dev.verge.zedagent.internal.ControllerChannels;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of the controller API. It dials out (devices live behind NAT), onboards once,
 * keeps a config stream open and resumes it with the hash of the config it runs, so an unchanged
 * config is never sent again. A pushed config is verified, applied by splitting it into bus
 * topics, persisted as the last good config, and acknowledged; a bad one is rejected with its
 * reason and the last good config stays. Without a controller the device runs on the persisted
 * config.
 *
 * <p>All state is confined to the agent loop; blocking calls run on an I/O thread.
 */
public final class ZedAgent implements LocalApi.DeviceView, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ZedAgent.class);
  static final String LAST_GOOD_KEY = "last-good";
  static final String DEVICE_KEY = "device";

  static final Topic<SignedConfig> LAST_GOOD_CONFIG = Topic.of(DeviceTopics.AGENT, SignedConfig.getDefaultInstance());
  static final Topic<ControllerCerts> CONTROLLER_CERTS = Topic.of(DeviceTopics.AGENT, ControllerCerts.getDefaultInstance());
  static final Topic<OnboardResponse> ONBOARDING = Topic.of(DeviceTopics.AGENT, OnboardResponse.getDefaultInstance());

  /** What zedagent reports about itself (local API, CLI). */
  public record AgentStatus(
      String serial,
      String deviceUuid,
      boolean connected,
      String appliedHash,
      long appliedVersion,
      String lastRejectedHash,
      List<String> lastRejection,
      String lastError,
      int reconnects) {}

  private final ZedAgentSettings settings;
  private final AgentLoop loop;
  private final ExecutorService io;
  private final DeviceIdentity identity;
  private final ConfigCheck configCheck;
  private final ConfigPublisher configPublisher;
  private final Publication<SignedConfig> lastGood;
  private final Publication<ControllerCerts> controllerCerts;
  private final Publication<OnboardResponse> onboarding;
  private final Publication<ConfigApplyStatus> applyStatus;
  private final TelemetryReporter telemetry;
  private final ManagedChannel channel;
  private final DeviceServiceGrpc.DeviceServiceBlockingStub blocking;
  private final DeviceServiceGrpc.DeviceServiceStub async;

  // Loop-confined state.
  private String deviceUuid = "";
  private String appliedHash = "";
  private long appliedVersion;
  private StreamObserver<DeviceMessage> stream;
  private StreamObserver<ControllerMessage> currentResponses;
  private String rejectedHash = "";
  private List<String> rejection = List.of();
  private int failures;
  private int reconnects;
  private boolean closed;
  private volatile AgentStatus status;

  private ZedAgent(ZedAgentSettings settings, PubSub bus, AgentLoop loop) throws IOException, GeneralSecurityException {
    this.settings = settings;
    this.loop = loop;
    this.io = Executors.newSingleThreadExecutor(r -> daemon(r, "zedagent-io"));
    this.identity = DeviceIdentity.loadOrCreate(settings.stateDir().resolve("identity"), settings.serial());
    X509Certificate controllerCa = Certificates.readCertificate(settings.controllerCaPem());
    this.configCheck = new ConfigCheck(controllerCa);
    this.lastGood = bus.publish(LAST_GOOD_CONFIG, Durability.PERSISTENT, loop);
    this.controllerCerts = bus.publish(CONTROLLER_CERTS, Durability.PERSISTENT, loop);
    this.onboarding = bus.publish(ONBOARDING, Durability.PERSISTENT, loop);
    this.applyStatus = bus.publish(DeviceTopics.CONFIG_APPLY_STATUS, Durability.PERSISTENT, loop);
    this.configPublisher = new ConfigPublisher(bus, Durability.PERSISTENT, loop);
    this.channel = ControllerChannels.open(settings.controllerTarget(), settings.controllerAuthority(), controllerCa, identity);
    this.blocking = DeviceServiceGrpc.newBlockingStub(channel);
    this.async = DeviceServiceGrpc.newStub(channel);
    this.telemetry =
        new TelemetryReporter(
            bus, loop, io, new GrpcUploader(), settings.metricsInterval(), settings.flowLogInterval(),
            settings.reconnectMin());
  }

  /** Starts zedagent: restores the last good config, then connects to the controller. */
  public static ZedAgent start(ZedAgentSettings settings, PubSub bus) throws IOException, GeneralSecurityException {
    AgentLoop loop = AgentLoop.create("zedagent");
    ZedAgent agent = new ZedAgent(settings, bus, loop);
    loop.execute(agent::restore);
    loop.execute(agent::connect);
    return agent;
  }

  public DeviceIdentity identity() {
    return identity;
  }

  @Override
  public String certFingerprint() {
    return identity.fingerprint();
  }

  @Override
  public AgentStatus status() {
    AgentStatus current = status;
    return current != null ? current : snapshot("");
  }

  /** The config the device runs (safe from any thread: publications are thread-safe). */
  @Override
  public DeviceConfig appliedConfig() {
    return lastGood.get(LAST_GOOD_KEY).map(this::parse).orElse(DeviceConfig.getDefaultInstance());
  }

  private DeviceConfig parse(SignedConfig signed) {
    try {
      return DeviceConfig.parseFrom(signed.getPayload());
    } catch (IOException e) {
      return DeviceConfig.getDefaultInstance();
    }
  }

  // ---------------------------------------------------------------- restore and connect

  /** Re-verifies the persisted config (disk is not trusted blindly) and puts it on the bus. */
  private void restore() {
    onboarding.get(DEVICE_KEY).ifPresent(o -> deviceUuid = o.getDeviceUuid());
    controllerCerts.get("current").ifPresent(certs -> {
      String problem = configCheck.trustSigner(certs.getSigningCertDer().toByteArray());
      if (!problem.isEmpty()) {
        log.warn("persisted signing certificate no longer trusted: {}", problem);
      }
    });
    Optional<SignedConfig> persisted = lastGood.get(LAST_GOOD_KEY);
    if (persisted.isPresent()) {
      try {
        var verified = configCheck.check(persisted.get(), deviceUuid);
        int changes = configPublisher.apply(verified.config());
        appliedHash = verified.hash();
        appliedVersion = verified.version();
        log.info("restored last good config {} (version {}, {} topic changes)", appliedHash, appliedVersion, changes);
      } catch (ConfigRejectedException e) {
        log.error("persisted config fails verification, not applied: {}", e.getMessage());
      }
    }
    publishStatus("");
  }

  private void connect() {
    if (closed) {
      return;
    }
    io.execute(
        () -> {
          try {
            ControllerCerts certs = withDeadline(blocking).getControllerCerts(GetControllerCertsRequest.getDefaultInstance());
            String problem = configCheck.trustSigner(certs.getSigningCertDer().toByteArray());
            if (!problem.isEmpty()) {
              log.error("controller signing certificate rejected: {}", problem);
            }
            OnboardResponse onboarded = null;
            if (deviceUuid.isEmpty()) {
              onboarded = withDeadline(blocking).onboard(OnboardRequest.newBuilder().setSerial(settings.serial()).build());
            }
            boolean signerTrusted = problem.isEmpty();
            OnboardResponse newOnboarding = onboarded;
            loop.execute(() -> openStream(certs, signerTrusted, newOnboarding));
          } catch (StatusRuntimeException e) {
            loop.execute(() -> disconnected(describe(e)));
          } catch (RuntimeException e) {
            loop.execute(() -> disconnected(e.toString()));
          }
        });
  }

  private void openStream(ControllerCerts certs, boolean signerTrusted, OnboardResponse newOnboarding) {
    if (closed) {
      return;
    }
    if (signerTrusted) {
      controllerCerts.publish("current", certs);
    }
    if (newOnboarding != null) {
      deviceUuid = newOnboarding.getDeviceUuid();
      onboarding.publish(DEVICE_KEY, newOnboarding);
      log.info("onboarded as device {} ({})", deviceUuid, newOnboarding.getResult());
    }
    StreamObserver<ControllerMessage> responses =
        new StreamObserver<>() {
          @Override
          public void onNext(ControllerMessage message) {
            loop.execute(() -> onControllerMessage(message));
          }

          @Override
          public void onError(Throwable t) {
            loop.execute(() -> streamEnded(this, describe(t)));
          }

          @Override
          public void onCompleted() {
            loop.execute(() -> streamEnded(this, "controller closed the stream"));
          }
        };
    stream = async.connect(responses);
    currentResponses = responses;
    stream.onNext(DeviceMessage.newBuilder().setHello(Hello.newBuilder().setLastAppliedHash(appliedHash)).build());
  }

  private void onControllerMessage(ControllerMessage message) {
    if (failures > 0 || !status().connected()) {
      log.info("connected to controller {}", settings.controllerTarget());
    }
    failures = 0;
    telemetry.setOnline(true);
    switch (message.getKindCase()) {
      case CONFIG -> applyPushed(message.getConfig());
      case UP_TO_DATE -> log.debug("config {} is current", message.getUpToDate().getConfigHash());
      default -> log.warn("unknown controller message {}", message.getKindCase());
    }
    publishStatus("");
  }

  private void applyPushed(SignedConfig signed) {
    ConfigAck.Builder ack = ConfigAck.newBuilder().setConfigHash(signed.getContentHash());
    try {
      var verified = configCheck.check(signed, deviceUuid);
      int changes = configPublisher.apply(verified.config());
      lastGood.publish(LAST_GOOD_KEY, signed);
      appliedHash = verified.hash();
      appliedVersion = verified.version();
      applyStatus.publish("current", ConfigApplyStatus.newBuilder().setConfigHash(appliedHash).setAccepted(true).build());
      ack.setAccepted(true);
      log.info("applied config {} version {} ({} topic changes)", appliedHash, appliedVersion, changes);
    } catch (ConfigRejectedException e) {
      List<ErrorInfo> errors = e.errors();
      rejectedHash = signed.getContentHash();
      rejection = errors.stream().map(ErrorInfo::getDescription).toList();
      applyStatus.publish(
          "current", ConfigApplyStatus.newBuilder().setConfigHash(rejectedHash).setAccepted(false).addAllErrors(errors).build());
      ack.setAccepted(false).addAllErrors(errors);
      log.warn("rejected config {}: {}; keeping {}", rejectedHash, rejection, appliedHash.isEmpty() ? "no config" : appliedHash);
    } catch (RuntimeException e) {
      // A config that verified but cannot be put on the bus (e.g. an object over the size limit).
      rejectedHash = signed.getContentHash();
      rejection = List.of("cannot apply: " + e.getMessage());
      ack.setAccepted(false).addErrors(ErrorInfo.newBuilder().setReason("APPLY_FAILED").setDescription(rejection.get(0)));
      log.error("config {} could not be applied", rejectedHash, e);
    }
    if (stream != null) {
      stream.onNext(DeviceMessage.newBuilder().setAck(ack).build());
    }
  }

  private void streamEnded(StreamObserver<ControllerMessage> which, String reason) {
    if (which != currentResponses) {
      return; // an old stream's late callback
    }
    stream = null;
    currentResponses = null;
    disconnected(reason);
  }

  private void disconnected(String reason) {
    telemetry.setOnline(false);
    if (closed) {
      return;
    }
    failures++;
    reconnects++;
    Duration delay = backoff(failures);
    log.warn("controller {} unreachable ({}); retrying in {} ms", settings.controllerTarget(), reason, delay.toMillis());
    publishStatus(reason);
    loop.schedule(delay, this::connect);
  }

  /** Exponential back-off with jitter in [0.5, 1.0]x so a fleet does not reconnect in lockstep. */
  Duration backoff(int attempt) {
    long min = settings.reconnectMin().toMillis();
    long max = settings.reconnectMax().toMillis();
    long base = Math.min(max, min << Math.min(20, Math.max(0, attempt - 1)));
    return Duration.ofMillis((long) (base * (0.5 + 0.5 * ThreadLocalRandom.current().nextDouble())));
  }

  private void publishStatus(String lastError) {
    status = snapshot(lastError);
  }

  private AgentStatus snapshot(String lastError) {
    return new AgentStatus(
        settings.serial(), deviceUuid, stream != null && failures == 0, appliedHash, appliedVersion,
        rejectedHash, rejection, lastError, reconnects);
  }

  private <S extends io.grpc.stub.AbstractStub<S>> S withDeadline(S stub) {
    return stub.withDeadlineAfter(settings.rpcDeadline().toMillis(), TimeUnit.MILLISECONDS);
  }

  private static String describe(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      Status s = e.getStatus();
      return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
    }
    return t.toString();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Telemetry over the device service; a call fails unless the controller acknowledged it. */
  private final class GrpcUploader implements TelemetryReporter.Uploader {
    @Override
    public void uploadInfo(List<InfoMessage> items) {
      withDeadline(blocking).uploadInfo(InfoUpload.newBuilder().addAllItems(items).build());
    }

    @Override
    public void uploadMetrics(MetricsMessage metrics) {
      withDeadline(blocking).uploadMetrics(MetricsUpload.newBuilder().setMetrics(metrics).build());
    }

    @Override
    public void uploadFlowLogs(List<FlowBatch> batches) {
      withDeadline(blocking).uploadFlowLogs(FlowLogUpload.newBuilder().addAllBatches(batches).build());
    }
  }

  @Override
  public void close() {
    CountDownLatch done = new CountDownLatch(1);
    loop.execute(
        () -> {
          closed = true;
          if (stream != null) {
            stream.onCompleted();
            stream = null;
          }
          done.countDown();
        });
    try {
      done.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    telemetry.close();
    configPublisher.close();
    lastGood.close();
    controllerCerts.close();
    onboarding.close();
    applyStatus.close();
    loop.close(); // before the executor: a timer on the loop would hand work to a closed one
    channel.shutdownNow();
    io.shutdownNow();
  }
}
