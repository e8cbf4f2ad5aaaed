package dev.verge.controller;

import dev.verge.proto.Certificates;
import dev.verge.controller.internal.AdminServiceImpl;
import dev.verge.controller.internal.ConfigSigner;
import dev.verge.controller.internal.ControllerKeys;
import dev.verge.controller.internal.DataDirLock;
import dev.verge.controller.internal.DeviceServiceImpl;
import dev.verge.controller.internal.DeviceSessions;
import dev.verge.controller.internal.DeviceStore;
import dev.verge.controller.internal.PostgresStore;
import dev.verge.controller.store.ControllerStore;
import java.util.UUID;
import dev.verge.controller.telemetry.FileFlowLogSink;
import dev.verge.controller.telemetry.OtlpFlowLogSink;
import dev.verge.controller.telemetry.FlowLogSink;
import dev.verge.controller.internal.FleetMetrics;
import dev.verge.controller.internal.TelemetryStore;
import dev.verge.controller.internal.OperatorAccess;
import dev.verge.controller.internal.OtlpMetrics;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import java.io.IOException;
import java.time.Clock;

/**
 * The controller's state and its two gRPC services, without any transport: {@link ControllerServer}
 * serves them over TLS, tests serve them in-process. Creating one loads (or on first start
 * creates) the keys and the device store in {@link ControllerSettings#dataDir()}.
 */
public final class Controller {
  private final ControllerSettings settings;
  private final DataDirLock lock;
  private final ControllerKeys keys;
  private final ControllerStore store;
  private final TelemetryStore telemetry;
  private final DeviceSessions sessions;
  private final DeviceServiceImpl deviceService;
  private final AdminServiceImpl adminService;
  private final FleetMetrics fleetMetrics;
  /** The metrics pushed over OTLP; null when not asked for (the default). */
  private final OtlpMetrics otlpMetrics;
  private final OperatorAccess operatorAccess;
  private final String replica;
  private final FlowLogSink flowLogs;
  /** Samples and flow batches kept per device in memory when the store is shared (the rest left through the pipes). */
  static final int SHARED_STORE_RECENT_SAMPLES = 2;
  /** Flow records kept while the OTLP collector is away (~100 MB at most); the oldest go first, counted. */
  static final int OTLP_MAX_PENDING_FLOW_RECORDS = 200_000;

  public Controller(ControllerSettings settings, Clock clock) throws IOException {
    this.settings = settings;
    this.replica = UUID.randomUUID().toString();
    this.lock = DataDirLock.acquire(settings.dataDir()); // before anything is read or written there
    try {
      this.keys = ControllerKeys.loadOrCreate(settings.dataDir(), settings.serverNames());
      this.store = settings.store() == null
          ? new DeviceStore(settings.dataDir(), clock, settings.configHistoryLimit())
          : PostgresStore.open(settings.store(), clock, settings.configHistoryLimit(), replica);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    // With a shared store the fleet is large: the metrics series leaves through each replica's
    // Prometheus endpoint and flow logs through the sink, so memory keeps only a short recent window.
    boolean shared = settings.store() != null;
    this.telemetry = new TelemetryStore(clock, settings.metricsRetention(),
        shared ? Math.min(settings.maxMetricSamples(), SHARED_STORE_RECENT_SAMPLES) : settings.maxMetricSamples(),
        shared ? Math.min(settings.maxFlowBatches(), SHARED_STORE_RECENT_SAMPLES) : settings.maxFlowBatches());
    try {
      this.flowLogs = settings.otlp() != null && settings.otlp().flowLogs()
          ? new OtlpFlowLogSink(settings.otlp().logsEndpoint(), replica, OTLP_MAX_PENDING_FLOW_RECORDS)
          : new FileFlowLogSink(settings.dataDir().resolve("flowlogs"), clock);
    } catch (IOException e) {
      store.close();
      lock.close();
      throw e;
    }
    this.sessions = new DeviceSessions(store, replica);
    ConfigSigner signer = new ConfigSigner(keys.signing());
    this.deviceService = new DeviceServiceImpl(store, telemetry, sessions, signer, keys, clock, flowLogs);
    store.onConfigStored(deviceService::configStored); // applies made on other replicas
    this.adminService = new AdminServiceImpl(store, telemetry, sessions, signer, settings.maxConfigBytes());
    this.fleetMetrics = new FleetMetrics(store, telemetry, sessions);
    this.otlpMetrics = settings.otlp() == null ? null : OtlpMetrics.start(settings.otlp(), replica, store, telemetry, sessions);
    this.operatorAccess = new OperatorAccess(keys.ca().certificate(), store::deviceByFingerprint);
  }

  public Controller(ControllerSettings settings) throws IOException {
    this(settings, Clock.systemUTC());
  }

  public BindableService deviceService() {
    return deviceService;
  }

  public BindableService adminService() {
    return adminService;
  }

  /** Lets through remote admin calls from operator certificates of this controller's CA only. */
  public ServerInterceptor operatorAccess() {
    return operatorAccess;
  }

  public ControllerSettings settings() {
    return settings;
  }

  /** The CA devices must trust (give its PEM, {@code <data>/pki/ca.crt}, to each device). */
  public Certificates.Identity caIdentity() {
    return keys.ca();
  }

  public Certificates.Identity serverIdentity() {
    return keys.server();
  }

  public Certificates.Identity signingIdentity() {
    return keys.signing();
  }

  /** This replica's id (unique per process; marks the device streams it holds in a shared store). */
  public String replica() {
    return replica;
  }

  /** The store this controller keeps devices and configs in. */
  public ControllerStore store() {
    return store;
  }

  /** Prometheus text exposition of the fleet metrics. */
  public String prometheusText() {
    return fleetMetrics.render();
  }

  /**
   * Closes device streams so devices reconnect elsewhere and releases the data directory (every
   * store write is already durable).
   */
  public void shutdown() {
    sessions.closeAll();
    if (otlpMetrics != null) {
      otlpMetrics.close(); // a last export, while the store can still be read
    }
    fleetMetrics.close();
    try {
      flowLogs.close();
    } catch (IOException e) {
      // logged by the sink's last flush attempt; nothing else to do on the way out
    }
    store.close();
    try {
      lock.close();
    } catch (IOException e) {
      // the lock goes with the process anyway; nothing is left half-written
    }
  }
}
