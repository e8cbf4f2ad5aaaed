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
import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.AgentNode;
import dev.verge.agent.RuntimeSettings;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.proto.Certificates;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Graphs;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.AgentGraphs;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.zedagent.internal.ControllerChannels;
import dev.verge.zedagent.internal.PortProxyDetector;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device side of the controller API, an agent on the runtime like the others. It dials out
 * (devices live behind NAT), onboards once, keeps a config stream open and resumes it with the
 * hash of the config it runs, so an unchanged config is never sent again. A pushed config is
 * verified, applied by splitting it into bus topics, persisted as the last good config, and
 * acknowledged; a bad one is rejected with its reason and the last good config stays. Without a
 * controller the device runs on the persisted config. When nim moves controller traffic to
 * another port, zedagent re-dials at once instead of waiting out its back-off. When a session the
 * controller had answered breaks (the replica holding it went away; behind a load balancer the next
 * dial reaches one that is there), the first re-dial goes after a jitter spread over
 * {@code [0, reconnectMin)}, not after the back-off meant for a controller that fails to answer.
 *
 * <p>zedagent acts on no kernel object: its intended state is empty. All state is confined to
 * the agent's loop; blocking calls run on an I/O thread.
 */
public final class ZedAgent implements Agent, LocalApi.DeviceView {
  public static final String NAME = ZedagentTopics.AGENT;
  private static final Logger log = LoggerFactory.getLogger(ZedAgent.class);
  static final String LAST_GOOD_KEY = "last-good";
  static final String DEVICE_KEY = "device";

  static final Topic<SignedConfig> LAST_GOOD_CONFIG = Topic.of(NAME, SignedConfig.getDefaultInstance());
  static final Topic<ControllerCerts> CONTROLLER_CERTS = Topic.of(NAME, ControllerCerts.getDefaultInstance());
  static final Topic<OnboardResponse> ONBOARDING = Topic.of(NAME, OnboardResponse.getDefaultInstance());

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
  private final ExecutorService io;
  private final DeviceIdentity identity;
  private final ConfigCheck configCheck;
  private final X509Certificate controllerCa;
  /** Made at the first dial, on the I/O thread: building it loads gRPC and TLS, a second that a restart need not wait for. */
  private Stubs stubs;
  /** The proxy of the port nim has in use for controller traffic (read by grpc at each dial). */
  private final PortProxyDetector proxies = new PortProxyDetector();
  private record Stubs(ManagedChannel channel, DeviceServiceGrpc.DeviceServiceBlockingStub blocking,
      DeviceServiceGrpc.DeviceServiceStub async) {}
  /** The other agents' health and graphs, for the local API (written on the loop, read anywhere). */
  private final Map<String, AgentHealth> agentHealth = new ConcurrentHashMap<>();
  private final Map<String, AgentGraphs> agentGraphs = new ConcurrentHashMap<>();

  // Made at start, on the loop.
  private AgentContext context;
  private AgentLoop loop;
  private ConfigPublisher configPublisher;
  private Publication<SignedConfig> lastGood;
  private Publication<ControllerCerts> controllerCerts;
  private Publication<OnboardResponse> onboarding;
  private Publication<ConfigApplyStatus> applyStatus;
  private volatile TelemetryReporter telemetry;
  private LocalApi localApi;

  // Loop-confined state.
  private String deviceUuid = "";
  private String appliedHash = "";
  private long appliedVersion;
  /** The running config's signed order (controller epoch, config timestamp): no going back from it. */
  private DeviceConfig appliedConfig;
  private StreamObserver<DeviceMessage> stream;
  private StreamObserver<ControllerMessage> currentResponses;
  private String rejectedHash = "";
  private List<String> rejection = List.of();
  private int failures;
  /** The current stream got a message from the controller: it was a working session, not a failed dial. */
  private boolean answered;
  /** Uniform in [0, 1): the jitter of every re-dial (a test fixes it). */
  private java.util.function.DoubleSupplier jitter = () -> ThreadLocalRandom.current().nextDouble();
  private int reconnects;
  private boolean closed;
  private String controllerPort = "";
  private java.util.concurrent.Future<?> redial;
  private volatile AgentStatus status;

  /** Loads (or makes) the device identity and reads the controller's CA; nothing runs yet. */
  public ZedAgent(ZedAgentSettings settings) throws IOException, GeneralSecurityException {
    this.settings = settings;
    this.io = Executors.newSingleThreadExecutor(r -> daemon(r, "zedagent-io"));
    this.identity = DeviceIdentity.loadOrCreate(settings.stateDir().resolve("identity"), settings.serial());
    this.controllerCa = Certificates.readCertificate(settings.controllerCaPem());
    this.configCheck = new ConfigCheck(controllerCa);
  }

  /** The controller channel and its stubs, made on first use (any thread). */
  private synchronized Stubs stubs() {
    if (stubs == null) {
      if (closed) {
        throw new IllegalStateException("zedagent has stopped");
      }
      ManagedChannel channel = ControllerChannels.open(settings.controllerTarget(), settings.controllerAuthority(),
          controllerCa, identity, proxies);
      stubs = new Stubs(channel, DeviceServiceGrpc.newBlockingStub(channel), DeviceServiceGrpc.newStub(channel));
    }
    return stubs;
  }

  /** The next dial resolves and connects afresh (no channel yet: it will anyway). */
  private synchronized void idleChannel() {
    if (stubs != null) {
      stubs.channel().enterIdle();
    }
  }

  /** zedagent alone on a loop of its own (tools and benchmarks); a node runs it with its agents. */
  public static AgentNode run(ZedAgentSettings settings, PubSub bus) throws IOException, GeneralSecurityException {
    return AgentNode.of(new ZedAgent(settings), bus, null, RuntimeSettings.DEFAULT);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Publishes, subscribes, starts the local API; then restores the last good config and dials. */
  @Override
  public void start(AgentContext context) {
    this.loop = context.loop();
    this.lastGood = context.output(LAST_GOOD_CONFIG, Durability.PERSISTENT);
    this.controllerCerts = context.output(CONTROLLER_CERTS, Durability.PERSISTENT);
    this.onboarding = context.output(ONBOARDING, Durability.PERSISTENT);
    this.applyStatus = context.output(ZedagentTopics.CONFIG_APPLY_STATUS, Durability.PERSISTENT);
    this.context = context;
    this.configPublisher = new ConfigPublisher(this::persistentOutput);
    this.telemetry =
        new TelemetryReporter(
            context, io, new GrpcUploader(), settings.metricsInterval(), settings.flowLogInterval(),
            settings.reconnectMin());
    for (String agent : AgentTopics.AGENTS) {
      context.watch(AgentTopics.health(agent), mirror(agentHealth));
      context.watch(AgentTopics.graphs(agent), mirror(agentGraphs));
    }
    context.watch(NimTopics.DEVICE_NETWORK, new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, DeviceNetwork value) {
        networkIs(value);
      }

      @Override
      public void onModify(String key, DeviceNetwork oldValue, DeviceNetwork newValue) {
        networkIs(newValue);
      }
    });
    restore(); // first: the other agents wait for the restored config, not for the local API
    if (settings.localApi().isPresent()) {
      try {
        localApi = LocalApi.start(settings.localApi().get(), settings.localApiToken(), this,
            context.output(ZedagentTopics.LOCAL_PORT_OVERRIDE, Durability.PERSISTENT), settings.stateDir());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot serve the local API on " + settings.localApi().get(), e);
      }
    }
    connect();
  }

  private <T extends com.google.protobuf.Message> Publication<T> persistentOutput(Topic<T> topic) {
    return context.output(topic, Durability.PERSISTENT);
  }

  /** zedagent acts on no kernel object. */
  @Override
  public GraphR intendedState() {
    return Graphs.newGraph(NAME, "zedagent acts on no kernel object");
  }

  private static <T extends com.google.protobuf.Message> SubscriptionHandler<T> mirror(Map<String, T> into) {
    return new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, T value) {
        into.put(key, value);
      }

      @Override
      public void onModify(String key, T oldValue, T newValue) {
        into.put(key, newValue);
      }

      @Override
      public void onDelete(String key, T lastValue) {
        into.remove(key);
      }
    };
  }

  /** The address the local API listens on, once started. */
  public Optional<java.net.InetSocketAddress> localApiAddress() {
    LocalApi api = localApi;
    return api == null ? Optional.empty() : Optional.of(api.address());
  }

  @Override
  public Map<String, InfoMessage> reportedInfo() {
    TelemetryReporter reporter = telemetry;
    return reporter == null ? Map.of() : reporter.currentInfo();
  }

  @Override
  public Map<String, dev.verge.proto.metrics.v1.MetricsMessage> reportedMetrics() {
    TelemetryReporter reporter = telemetry;
    return reporter == null ? Map.of() : reporter.currentMetrics();
  }

  @Override
  public Map<String, AgentHealth> agentHealth() {
    return new TreeMap<>(agentHealth);
  }

  @Override
  public Optional<AgentGraphs> agentGraphs(String agent) {
    return Optional.ofNullable(agentGraphs.get(agent));
  }

  /**
   * nim's view of the device's ports: the proxy of the port in use for controller traffic is the
   * one the controller session goes through; a new port or a new proxy means dialling again now.
   */
  private void networkIs(DeviceNetwork network) {
    PortProxyDetector.PortProxy proxy = network.getPortsList().stream()
        .filter(p -> p.getLabel().equals(network.getControllerPort()))
        .findFirst()
        .map(p -> new PortProxyDetector.PortProxy(p.getProxy(), p.getProxyExceptionsList()))
        .orElse(PortProxyDetector.PortProxy.DIRECT);
    boolean proxyChanged;
    try {
      proxyChanged = proxies.use(proxy);
    } catch (IllegalArgumentException e) {
      log.warn("port {}: keeping proxy '{}': {}", network.getControllerPort(), proxies.current().url(), e.getMessage());
      proxyChanged = false;
    }
    if (proxyChanged) {
      log.info("controller traffic on port {} goes {}", network.getControllerPort(),
          proxy.url().isEmpty() ? "direct" : "through proxy " + proxy.url());
      idleChannel(); // the next dial resolves again, and so asks for the proxy again
    }
    boolean portChanged = !network.getControllerPort().equals(controllerPort);
    String before = controllerPort;
    controllerPort = network.getControllerPort();
    if (portChanged && !before.isEmpty() && !controllerPort.isEmpty()) {
      redialNow("controller traffic moved from port " + before + " to " + controllerPort);
    } else if (proxyChanged && !controllerPort.isEmpty()) {
      redialNow("the proxy of port " + controllerPort + " changed");
    } else if (portChanged && !controllerPort.isEmpty() && !status().connected()) {
      // nim just proved the controller reachable (e.g. the uplink's first DHCP lease): no need to
      // wait out the back-off of the attempts that failed without a port.
      redialNow("nim reaches the controller on port " + controllerPort);
    }
    // Otherwise no port works: the back-off goes on.
  }

  /**
   * The session on the old port or proxy is stale (or the reconnect is waiting out its back-off),
   * so dial again now, the new way.
   */
  private void redialNow(String why) {
    if (closed) {
      return;
    }
    log.info("{}: re-dialling now", why);
    if (redial != null) {
      redial.cancel(false);
      redial = null;
    }
    if (stream != null) {
      StreamObserver<DeviceMessage> old = stream;
      stream = null;
      currentResponses = null;
      old.onError(Status.UNAVAILABLE.withDescription("controller port changed").asRuntimeException());
    }
    failures = 0;
    telemetry.setOnline(false);
    idleChannel(); // a fresh connection, on the new route and through the new proxy
    connect();
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
        appliedConfig = verified.config();
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
            ControllerCerts certs = withDeadline(stubs().blocking()).getControllerCerts(GetControllerCertsRequest.getDefaultInstance());
            String problem = configCheck.trustSigner(certs.getSigningCertDer().toByteArray());
            if (!problem.isEmpty()) {
              log.error("controller signing certificate rejected: {}", problem);
            }
            OnboardResponse onboarded = null;
            if (deviceUuid.isEmpty()) {
              onboarded = withDeadline(stubs().blocking()).onboard(OnboardRequest.newBuilder().setSerial(settings.serial()).build());
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
    if (stream != null) {
      return; // a re-dial raced a connect already under way
    }
    stream = stubs().async().connect(responses);
    currentResponses = responses;
    answered = false;
    stream.onNext(DeviceMessage.newBuilder().setHello(Hello.newBuilder().setLastAppliedHash(appliedHash)).build());
  }

  private void onControllerMessage(ControllerMessage message) {
    if (failures > 0 || !status().connected()) {
      log.info("connected to controller {}", settings.controllerTarget());
    }
    failures = 0;
    answered = true;
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
      Optional<String> rollback = appliedConfig == null || verified.hash().equals(appliedHash)
          ? Optional.empty() : ConfigCheck.rollback(appliedConfig, verified.config());
      if (rollback.isPresent()) {
        throw ConfigRejectedException.of(verified.hash(), "ROLLBACK", rollback.get());
      }
      int changes = configPublisher.apply(verified.config());
      lastGood.publish(LAST_GOOD_KEY, signed);
      appliedHash = verified.hash();
      appliedVersion = verified.version();
      appliedConfig = verified.config();
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
    boolean sessionBroke = answered;
    answered = false;
    disconnected(reason, sessionBroke);
  }

  private void disconnected(String reason) {
    disconnected(reason, false);
  }

  /**
   * @param sessionBroke a stream the controller had answered ended: the first re-dial is not a
   *     retry of a failing controller (see {@link #redialDelayMillis})
   */
  private void disconnected(String reason, boolean sessionBroke) {
    telemetry.setOnline(false);
    if (closed) {
      return;
    }
    failures = sessionBroke ? 0 : failures + 1;
    reconnects++;
    Duration delay = Duration.ofMillis(redialDelayMillis(failures, settings.reconnectMin().toMillis(),
        settings.reconnectMax().toMillis(), jitter.getAsDouble()));
    log.warn("controller {} unreachable ({}); retrying in {} ms", settings.controllerTarget(), reason, delay.toMillis());
    publishStatus(reason);
    redial = loop.schedule(delay, () -> {
      redial = null;
      connect();
    });
  }

  /**
   * The wait before the next dial, given the dials that failed since the controller last answered.
   *
   * <p>None failed (0: a session the controller had answered just broke): {@code [0, min)}, spread
   * evenly by {@code random}. The controller was there a moment ago; what went is most likely one
   * replica (a crash, a restart, a rolling update), and the next dial, through the load balancer,
   * reaches one that is up: the device need not wait out a back-off meant for a controller that
   * does not answer. The jitter stays: every device that replica held lost it at the same instant,
   * and spread over the window their dials do not arrive as one burst. A controller that answers and
   * then drops each session gets a dial per device every {@code min/2} on average instead of every
   * {@code 3min/4} (its answer reset the back-off before too).
   *
   * <p>{@code n} failed: exponential back-off, {@code min} doubling to {@code max}, jittered to
   * {@code [0.5, 1.0]x} so a fleet does not retry in lockstep.
   *
   * @param random uniform in [0, 1)
   */
  static long redialDelayMillis(int failedDials, long min, long max, double random) {
    if (failedDials <= 0) {
      return (long) (min * random);
    }
    long base = Math.min(max, min << Math.min(20, failedDials - 1));
    return (long) (base * (0.5 + 0.5 * random));
  }

  /** Fixes the re-dial jitter (uniform in [0, 1)) for a test; call before the agent starts. */
  void jitterForTest(java.util.function.DoubleSupplier fixed) {
    this.jitter = fixed;
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

  /** One line naming why the controller could not be reached, in the operator's terms when known. */
  private String describe(Throwable t) {
    for (Throwable cause = t; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof java.security.cert.CertPathValidatorException
          || cause instanceof java.security.cert.CertPathBuilderException
          || (cause instanceof javax.net.ssl.SSLHandshakeException && String.valueOf(cause.getMessage()).contains("PKIX"))) {
        return "the controller's certificate is not issued by the CA in " + settings.controllerCaPem();
      }
      if (cause instanceof java.security.cert.CertificateException && String.valueOf(cause.getMessage()).contains("No subject alternative")) {
        return "the controller's certificate does not name " + settings.controllerTarget() + " (" + cause.getMessage() + ")";
      }
    }
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
      withDeadline(stubs().blocking()).uploadInfo(InfoUpload.newBuilder().addAllItems(items).build());
    }

    @Override
    public void uploadMetrics(MetricsMessage metrics) {
      withDeadline(stubs().blocking()).uploadMetrics(MetricsUpload.newBuilder().setMetrics(metrics).build());
    }

    @Override
    public void uploadFlowLogs(List<FlowBatch> batches) {
      withDeadline(stubs().blocking()).uploadFlowLogs(FlowLogUpload.newBuilder().addAllBatches(batches).build());
    }
  }

  /** On the loop, when the runtime stops the agent; the runtime closes the publications. */
  @Override
  public void stop() {
    closed = true;
    if (redial != null) {
      redial.cancel(false);
    }
    if (stream != null) {
      stream.onCompleted();
      stream = null;
    }
    if (localApi != null) {
      localApi.close();
    }
    if (telemetry != null) {
      telemetry.close();
    }
    synchronized (this) {
      if (stubs != null) {
        stubs.channel().shutdownNow();
      }
    }
    io.shutdownNow();
  }

}
