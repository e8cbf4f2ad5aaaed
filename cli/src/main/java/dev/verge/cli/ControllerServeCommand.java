package dev.verge.cli;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code verge controller serve}: runs the controller until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Run the controller: device API over mutual TLS, admin API and /metrics on loopback.",
        "Keys are created on first start in DATA_DIR/pki; give DATA_DIR/pki/ca.crt to each device."})
final class ControllerServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ControllerServeCommand.class);
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--data-dir", required = true, description = "Where keys, devices and config history live.")
  Path dataDir;

  @Option(names = "--listen", defaultValue = "0.0.0.0", description = "Device API bind address (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--port", defaultValue = "" + ControllerSettings.DEFAULT_DEVICE_PORT, description = "Device API port (default: ${DEFAULT-VALUE}; 0 = any).")
  int port;

  @Option(names = "--admin-port", defaultValue = "-1", paramLabel = "PORT",
      description = {"Also serve the admin API in plaintext on this loopback port, open to EVERY local user (default: off;",
          "the admin API is always on DATA_DIR/admin.sock, which only the directory's owner can open). 0 = any free port."})
  int adminPort;

  @Option(names = "--admin-listen", paramLabel = "HOST:PORT",
      description = {"Also serve the admin API over mutual TLS on HOST:PORT, for operators holding a certificate from",
          "'verge controller issue-operator-cert' (default: off). Add --server-name for the name operators dial."})
  String adminListen;

  @Option(names = "--metrics-port", defaultValue = "" + ControllerSettings.DEFAULT_METRICS_PORT,
      description = "Prometheus /metrics port on loopback (default: ${DEFAULT-VALUE}; -1 = off).")
  int metricsPort;

  @Option(names = "--server-name", paramLabel = "NAME", description = "Extra DNS name or IP for the TLS certificate (repeatable).")
  List<String> serverNames = new ArrayList<>();

  @Option(names = "--keep-configs", paramLabel = "N", defaultValue = "" + ControllerSettings.DEFAULT_CONFIG_HISTORY_LIMIT,
      description = "Config versions kept per device (default: ${DEFAULT-VALUE}; 0 = all). The current and the acknowledged one are always kept.")
  int keepConfigs;

  @Option(names = "--store", paramLabel = "URI",
      description = "Keep devices and configs in PostgreSQL, shared by several replicas: postgresql://[user[:password]@]host[:port]/database. "
          + "Default: the embedded file store in --data-dir (one controller). Replicas share one CA: copy <data-dir>/pki from the first.")
  String store;

  @Option(names = "--otlp-endpoint", paramLabel = "URL",
      description = {"Also push the metrics to an OpenTelemetry collector over OTLP/HTTP (protobuf), e.g. http://collector:4318",
          "(a URL without a path gets /v1/metrics). Default: off; the Prometheus /metrics endpoint is there either way."})
  String otlpEndpoint;

  @Option(names = "--otlp-interval", paramLabel = "SECONDS", defaultValue = "60",
      description = "Seconds between two OTLP exports (default: ${DEFAULT-VALUE}).")
  long otlpIntervalSeconds;

  @Option(names = "--otlp-flow-logs",
      description = "Send the devices' flow logs to the --otlp-endpoint collector as OTLP log records (to /v1/logs) "
          + "instead of the JSON-lines files under --data-dir/flowlogs.")
  boolean otlpFlowLogs;

  @Override
  public Integer call() throws Exception {
    if (keepConfigs < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--keep-configs must be 0 (all) or more, not " + keepConfigs);
    }
    ControllerSettings settings = ControllerSettings.defaults(dataDir)
        .withPorts(listen, port, adminPort, metricsPort).withServerNames(serverNames).withConfigHistoryLimit(keepConfigs);
    if (store != null) {
      try {
        settings = settings.withStore(dev.verge.controller.store.StoreLocation.parse(store));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--store: " + e.getMessage());
      }
    }
    if (otlpEndpoint != null) {
      try {
        ControllerSettings.OtlpExport otlp = ControllerSettings.OtlpExport.parse(otlpEndpoint, java.time.Duration.ofSeconds(otlpIntervalSeconds));
        settings = settings.withOtlp(otlpFlowLogs ? otlp.withFlowLogs() : otlp);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--otlp-endpoint: " + e.getMessage());
      }
    }
    if (otlpFlowLogs && otlpEndpoint == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--otlp-flow-logs needs --otlp-endpoint (the collector)");
    }
    if (adminListen != null) {
      try {
        settings = settings.withRemoteAdmin(NodeCommand.parseAddress(adminListen));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--admin-listen: " + e.getMessage());
      }
    }
    StopSignal stop = StopSignal.install();
    try (ControllerServer server = ControllerServer.start(settings)) {
      var out = spec.commandLine().getOut();
      out.printf("controller serving: devices %s:%d (mutual TLS), admin %s, metrics %s%n", listen, server.devicePort(),
          "unix:" + server.adminSocket().toAbsolutePath() + (server.adminPort() < 0 ? "" : " and 127.0.0.1:" + server.adminPort()),
          server.metricsPort() < 0 ? "off" : "http://127.0.0.1:" + server.metricsPort() + "/metrics");
      if (server.remoteAdminPort() >= 0) {
        out.printf("remote admin: %s:%d (mutual TLS, operator certificates only)%n",
            settings.remoteAdmin().getHostString(), server.remoteAdminPort());
      }
      if (settings.otlp() != null) {
        out.printf("metrics over OTLP: %s every %d s%n", settings.otlp().endpoint(), settings.otlp().interval().toSeconds());
        if (settings.otlp().flowLogs()) {
          out.printf("flow logs over OTLP: %s%n", settings.otlp().logsEndpoint());
        }
      }
      out.printf("store: %s%n", settings.store() == null ? "embedded, " + dataDir.toAbsolutePath() : settings.store());
      out.printf("device trust anchor: %s%n", dataDir.resolve("pki").resolve("ca.crt"));
      out.flush();
      stop.await(LOG, "controller");
    }
    LOG.info("controller stopped");
    return 0;
  }
}
