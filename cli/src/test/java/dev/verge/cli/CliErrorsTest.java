package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Usage problems exit 2 and runtime problems exit 1, each with one 'error:' line naming the cause. */
class CliErrorsTest {
  private static final String NL = System.lineSeparator();
  @TempDir Path dir;

  record Run(int exitCode, String out, String err) {}

  private static Run verge(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  private Run nodeRun(String... extra) {
    List<String> args = new ArrayList<>(List.of("node", "run", "--controller", "127.0.0.1:1", "--ca-cert",
        dir.resolve("ca.crt").toString(), "--serial", "SN-E", "--state-dir", dir.resolve("node").toString(), "--host", "sim"));
    args.addAll(List.of(extra));
    return verge(args.toArray(String[]::new));
  }

  private Path token(String text) throws Exception {
    return Files.writeString(dir.resolve("token"), text);
  }

  @Test
  void aLocalApiAddressWithoutHostIsAUsageError() throws Exception {
    Run run = nodeRun("--local-api", "8099", "--token-file", token("0123456789abcdef").toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: --local-api: expected HOST:PORT (e.g. 127.0.0.1:8088), not '8099'"
        + " (see 'verge node run --help')" + NL);
  }

  @Test
  void aShortTokenIsAUsageError() throws Exception {
    Path file = token("short\n");

    Run run = nodeRun("--local-api", "127.0.0.1:8099", "--token-file", file.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: the token in " + file + " is 5 characters; the local API needs at least 16"
        + " (see 'verge node run --help')" + NL);
  }

  @Test
  void aMissingTokenFileIsAUsageErrorForRunAndStatus() {
    Path missing = dir.resolve("no-token");

    Run run = nodeRun("--local-api", "127.0.0.1:8099", "--token-file", missing.toString());
    Run status = verge("node", "status", "--token-file", missing.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: --token-file " + missing + " does not exist (see 'verge node run --help')" + NL);
    assertThat(status.exitCode()).isEqualTo(2);
    assertThat(status.err()).isEqualTo("error: --token-file " + missing + " does not exist (see 'verge node status --help')" + NL);
  }

  @Test
  void anUnreachableNodeIsARuntimeErrorInOneLine() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    Run run = verge("node", "status", "--local-api", "127.0.0.1:" + closedPort, "--token-file", token("0123456789abcdef").toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("error: node not reachable at 127.0.0.1:" + closedPort
        + ": connection refused (is verge node run serving --local-api there?)" + NL);
  }

  @Test
  void anOtlpEndpointThatIsNotHttpIsAUsageError() {
    Run run = verge("controller", "serve", "--data-dir", dir.resolve("data").toString(), "--otlp-endpoint", "grpc://collector:4317");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: --otlp-endpoint: OTLP/HTTP needs an http:// or https:// URL, not grpc://collector:4317"
        + " (see 'verge controller serve --help')" + NL);
  }

  @Test
  void flowLogsOverOtlpNeedACollectorWithALogsUrl() {
    Run alone = verge("controller", "serve", "--data-dir", dir.resolve("data").toString(), "--otlp-flow-logs");
    Run custom = verge("controller", "serve", "--data-dir", dir.resolve("data").toString(), "--otlp-flow-logs",
        "--otlp-endpoint", "http://collector:4318/ingest");

    assertThat(alone.exitCode()).isEqualTo(2);
    assertThat(alone.err()).isEqualTo("error: --otlp-flow-logs needs --otlp-endpoint (the collector)"
        + " (see 'verge controller serve --help')" + NL);
    assertThat(custom.exitCode()).isEqualTo(2);
    assertThat(custom.err()).isEqualTo("error: --otlp-endpoint: flow logs over OTLP need the collector's base URL or one"
        + " ending in /v1/metrics (the logs go to /v1/logs beside it), not http://collector:4318/ingest"
        + " (see 'verge controller serve --help')" + NL);
  }

  @Test
  void aControllerPortInUseIsARuntimeErrorInOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Run run = verge("controller", "serve", "--data-dir", dir.resolve("data").toString(), "--listen", "127.0.0.1",
          "--port", String.valueOf(taken.getLocalPort()), "--metrics-port", "-1");

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.err()).isEqualTo("error: Failed to bind to address /127.0.0.1:" + taken.getLocalPort()
          + ": address already in use" + NL);
      // the refused start released the data directory: a controller can start there now
      new dev.verge.controller.Controller(dev.verge.controller.ControllerSettings.ephemeral(dir.resolve("data"))).shutdown();
    }
  }
}
