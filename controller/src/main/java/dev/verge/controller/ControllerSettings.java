package dev.verge.controller;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How a controller runs.
 *
 * @param dataDir where keys, devices and config history live
 * @param deviceBind address the device (mutual TLS) port binds to
 * @param devicePort device API port; 0 = any free port
 * @param adminPort an extra plaintext admin port on loopback, open to every local user (tests, the demo); 0 = any,
 *     -1 = off. The admin API is always on {@code <dataDir>/admin.sock}, for the directory's owner only
 * @param metricsPort Prometheus {@code GET /metrics} port on loopback; 0 = any, -1 = off
 * @param serverNames extra DNS names / IPs for the TLS certificate (devices dial one of them)
 * @param maxConfigBytes largest config accepted (document text and serialized form)
 * @param metricsRetention how long metrics samples are kept per device
 * @param maxMetricSamples most metrics samples kept per device
 * @param maxFlowBatches most flow-log batches kept per device
 * @param configHistoryLimit most config versions kept per device (0 = all); the current one and the
 *     one the device acknowledged are kept beyond it
 * @param remoteAdmin where to serve the admin API over mutual TLS to operators holding a certificate
 *     from the controller CA (port 0 = any); null = off, the default
 * @param store where devices and configs live: null = the embedded file store in {@code dataDir} (the
 *     default, one controller); a PostgreSQL location = a store several replicas share
 * @param otlp where and how often to push the metrics over OTLP; null = off, the default (the
 *     Prometheus endpoint is there either way)
 */
public record ControllerSettings(
    Path dataDir,
    String deviceBind,
    int devicePort,
    int adminPort,
    int metricsPort,
    List<String> serverNames,
    int maxConfigBytes,
    Duration metricsRetention,
    int maxMetricSamples,
    int maxFlowBatches,
    int configHistoryLimit,
    InetSocketAddress remoteAdmin,
    dev.verge.controller.store.StoreLocation store,
    OtlpExport otlp) {

  /**
   * Push the metrics to an OpenTelemetry collector over OTLP/HTTP (protobuf) every {@code interval}.
   *
   * @param endpoint the collector's metrics URL, e.g. {@code http://collector:4318/v1/metrics}
   */
  public record OtlpExport(java.net.URI endpoint, Duration interval, boolean flowLogs) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);
    private static final String METRICS_PATH = "/v1/metrics";

    public OtlpExport {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("the OTLP export interval must be positive, not " + interval);
      }
    }

    /**
     * Reads an operator's URL: http(s) with a host; a URL without a path gets the standard
     * {@code /v1/metrics} (as OTEL_EXPORTER_OTLP_ENDPOINT does).
     */
    public static OtlpExport parse(String url, Duration interval) {
      java.net.URI uri;
      try {
        uri = new java.net.URI(url);
      } catch (java.net.URISyntaxException e) {
        throw new IllegalArgumentException("not a URL: " + url + " (" + e.getReason() + ")");
      }
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new IllegalArgumentException("OTLP/HTTP needs an http:// or https:// URL, not " + url);
      }
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("no host in " + url);
      }
      if (uri.getRawPath() == null || uri.getRawPath().isEmpty() || "/".equals(uri.getRawPath())) {
        uri = uri.resolve("/v1/metrics");
      }
      return new OtlpExport(uri, interval, false);
    }

    /** Flow logs too, as OTLP log records to the same collector, instead of the data directory's files. */
    public OtlpExport withFlowLogs() {
      logsEndpoint(); // refused now, not at the first upload
      return new OtlpExport(endpoint, interval, true);
    }

    /** The collector's logs URL: the metrics URL with {@code /v1/logs} for its {@code /v1/metrics}. */
    public java.net.URI logsEndpoint() {
      String path = endpoint.getRawPath();
      if (!path.endsWith(METRICS_PATH)) {
        throw new IllegalArgumentException("flow logs over OTLP need the collector's base URL or one ending in "
            + METRICS_PATH + " (the logs go to /v1/logs beside it), not " + endpoint);
      }
      return endpoint.resolve(path.substring(0, path.length() - METRICS_PATH.length()) + "/v1/logs");
    }
  }

  public static final int DEFAULT_DEVICE_PORT = 7443;
  public static final int DEFAULT_ADMIN_PORT = 7444;
  public static final int DEFAULT_METRICS_PORT = 7445;

  public static final int DEFAULT_CONFIG_HISTORY_LIMIT = 100;

  public ControllerSettings {
    serverNames = List.copyOf(serverNames);
    if (configHistoryLimit < 0) {
      throw new IllegalArgumentException("configHistoryLimit must be 0 (keep all) or more, not " + configHistoryLimit);
    }
  }

  /** Defaults: devices on all interfaces on 7443, admin on the data directory's socket only, metrics 7445 on loopback, 1 MiB configs. */
  public static ControllerSettings defaults(Path dataDir) {
    return new ControllerSettings(dataDir, "0.0.0.0", DEFAULT_DEVICE_PORT, -1, DEFAULT_METRICS_PORT,
        List.of(), 1 << 20, Duration.ofHours(1), 720, 1000, DEFAULT_CONFIG_HISTORY_LIMIT, null, null, null);
  }

  /** Any free ports (tests, benchmarks). */
  public static ControllerSettings ephemeral(Path dataDir) {
    return defaults(dataDir).withPorts("127.0.0.1", 0, 0, 0);
  }

  public ControllerSettings withPorts(String bind, int device, int admin, int metrics) {
    return new ControllerSettings(dataDir, bind, device, admin, metrics, serverNames, maxConfigBytes, metricsRetention,
        maxMetricSamples, maxFlowBatches, configHistoryLimit, remoteAdmin, store, otlp);
  }

  public ControllerSettings withServerNames(List<String> names) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, names, maxConfigBytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, configHistoryLimit, remoteAdmin, store, otlp);
  }

  public ControllerSettings withMaxConfigBytes(int bytes) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, serverNames, bytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, configHistoryLimit, remoteAdmin, store, otlp);
  }

  public ControllerSettings withConfigHistoryLimit(int versions) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, serverNames, maxConfigBytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, versions, remoteAdmin, store, otlp);
  }

  /** Keep devices and configs in a PostgreSQL store shared with other replicas (null = the embedded store). */
  public ControllerSettings withStore(dev.verge.controller.store.StoreLocation location) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, serverNames, maxConfigBytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, configHistoryLimit, remoteAdmin, location, otlp);
  }

  /** Export the metrics over OTLP (null = off, the default). */
  public ControllerSettings withOtlp(OtlpExport export) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, serverNames, maxConfigBytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, configHistoryLimit, remoteAdmin, store, export);
  }

  /** Also serve the admin API over mutual TLS for operator certificates on {@code address} (null = off). */
  public ControllerSettings withRemoteAdmin(InetSocketAddress address) {
    return new ControllerSettings(dataDir, deviceBind, devicePort, adminPort, metricsPort, serverNames, maxConfigBytes,
        metricsRetention, maxMetricSamples, maxFlowBatches, configHistoryLimit, address, store, otlp);
  }
}
