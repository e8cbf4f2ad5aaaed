package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.Certificates;
import dev.verge.testkit.ProcessOutput;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Controller and node as the operator runs them, in processes of their own: one controller per data
 * directory, and SIGTERM stops either (the node also as one process per agent) with a log line and exit 0.
 */
class ProcessLifecycleTest {
  @TempDir Path dir;
  private final List<Process> children = new ArrayList<>();

  record Run(int exitCode, String out, String err) {}

  @AfterEach
  void killChildren() throws InterruptedException {
    for (Process child : children) {
      child.descendants().forEach(ProcessHandle::destroyForcibly); // a node's agent processes too
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Process verge(List<String> args) throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(args);
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    children.add(child);
    return child;
  }

  private static Run vergeHere(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  private List<String> serve(Path dataDir) {
    return List.of("controller", "serve", "--data-dir", dataDir.toString(), "--listen", "127.0.0.1", "--port", "0",
        "--admin-port", "0", "--metrics-port", "-1");
  }

  @Test
  void aSecondControllerOnOneDataDirIsRefusedAndSigtermStopsTheFirstCleanly() throws Exception {
    Path data = dir.resolve("data");
    Process first = verge(serve(data));
    ProcessOutput firstOut = ProcessOutput.of("first controller", first);
    firstOut.awaitLine(line -> line.startsWith("controller serving"), Duration.ofSeconds(60));

    Run second = vergeHere(serve(data).toArray(String[]::new));

    assertThat(second.exitCode()).isEqualTo(1);
    assertThat(second.err()).isEqualTo("error: data directory " + data + " is in use by another controller (pid "
        + first.pid() + "); stop it or choose another --data-dir" + System.lineSeparator());

    first.toHandle().destroy(); // SIGTERM; Process.destroy() would also close the pipe we read the log from
    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(firstOut.awaitEnd(Duration.ofSeconds(10))).isTrue();
    assertThat(first.exitValue()).isZero();
    assertThat(firstOut.lines()).anyMatch(line -> line.endsWith("controller stopping on SIGTERM"))
        .anyMatch(line -> line.endsWith("controller stopped"));
  }

  @Test
  void sigtermStopsTheNodeWithALogLineAndExitZero() throws Exception {
    Path data = dir.resolve("data");
    Process controller = verge(serve(data));
    ProcessOutput controllerOut = ProcessOutput.of("controller", controller);
    String serving = controllerOut.awaitLine(line -> line.startsWith("controller serving"), Duration.ofSeconds(60));
    Matcher port = Pattern.compile("devices 127\\.0\\.0\\.1:(\\d+)").matcher(serving);
    assertThat(port.find()).as(serving).isTrue();
    Process node = verge(List.of("node", "run", "--controller", "127.0.0.1:" + port.group(1), "--controller-name", "localhost",
        "--ca-cert", data.resolve("pki").resolve("ca.crt").toString(), "--serial", "SN-TERM",
        "--state-dir", dir.resolve("node").toString(), "--host", "sim"));
    ProcessOutput nodeOut = ProcessOutput.of("node", node);
    nodeOut.awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(60));

    node.toHandle().destroy(); // SIGTERM, keeping our end of its output open

    assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(nodeOut.awaitEnd(Duration.ofSeconds(10))).isTrue();
    assertThat(node.exitValue()).as(String.join("\n", nodeOut.lines())).isZero();
    assertThat(nodeOut.lines()).anyMatch(line -> line.endsWith("node stopping on SIGTERM"))
        .anyMatch(line -> line.endsWith("node stopped"));
  }

  private static String scrape(String runningLine) throws Exception {
    Matcher endpoint = Pattern.compile("prometheus=([0-9.]+:\\d+)").matcher(runningLine);
    assertThat(endpoint.find()).as(runningLine).isTrue();
    java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://" + endpoint.group(1) + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  @Test
  void aNodeServesPrometheusMetricsOfItsAgentsInOneProcessAndAsProcesses() throws Exception {
    Path ca = dir.resolve("ca.crt");
    java.nio.file.Files.writeString(ca, Certificates.toPem(Certificates.selfSigned("test CA", true, Duration.ofDays(1)).certificate()));
    for (boolean asProcesses : new boolean[] {false, true}) {
      List<String> args = new ArrayList<>(List.of("node", "run", "--controller", "127.0.0.1:9", "--ca-cert", ca.toString(),
          "--serial", "SN-PROM", "--state-dir", dir.resolve(asProcesses ? "node-p" : "node-1").toString(), "--host", "sim",
          "--prometheus", "127.0.0.1:0"));
      if (asProcesses) {
        args.add("--processes");
      }
      Process node = verge(args);
      ProcessOutput nodeOut = ProcessOutput.of("node", node);
      String running = nodeOut.awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(90));
      // nim reconciles at start on sim: its runs reach the endpoint over the bus (the socket bus with processes)
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(scrape(running)).as("processes=" + asProcesses)
              .containsPattern("verge_reconcile_runs_total\\{agent=\"nim\"} [1-9]")
              .containsPattern("verge_agent_health\\{agent=\"zedrouter\",state=\"[a-z_]+\"} 1.0")
              .contains("jvm_threads_live_threads"));
      node.toHandle().destroy();
      assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(String.join("\n", nodeOut.lines())).isZero();
    }
  }

  @Test
  void logFormatJsonGivesJsonLinesWithTheAgentOfEachLineInAllAgentProcesses() throws Exception {
    Path ca = dir.resolve("ca.crt");
    java.nio.file.Files.writeString(ca, Certificates.toPem(Certificates.selfSigned("test CA", true, Duration.ofDays(1)).certificate()));
    Process node = verge(List.of("--log-format", "json", "node", "run", "--processes", "--controller", "127.0.0.1:9",
        "--ca-cert", ca.toString(), "--serial", "SN-JSON", "--state-dir", dir.resolve("node").toString(), "--host", "sim"));
    ProcessOutput nodeOut = ProcessOutput.of("node", node);
    nodeOut.awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(90));
    node.toHandle().destroy();
    assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(nodeOut.awaitEnd(Duration.ofSeconds(10))).isTrue();

    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    List<com.fasterxml.jackson.databind.JsonNode> events = new ArrayList<>();
    for (String line : nodeOut.lines()) {
      String body = line.replaceFirst("^\\[[a-z]+\\] ", ""); // an agent process's lines carry its name
      if (body.startsWith("{")) {
        events.add(json.readTree(body));
      } else {
        assertThat(body).as("every log line is JSON; only the command's own output is text").startsWith("verge node: running");
      }
    }
    // each agent process logs on its own loop with its name as the line's "agent" field
    assertThat(events).extracting(event -> event.path("mdc").path("agent").asText())
        .contains("nim", "zedrouter", "domainmgr", "zedagent");
    assertThat(events).allSatisfy(event -> assertThat(event.path("level").asText()).isNotEmpty());
  }

  @Test
  void nodeGraphPrintsAnAgentsCurrentAndIntendedGraphAsDotOrSvg() throws Exception {
    Path ca = dir.resolve("ca.crt");
    java.nio.file.Files.writeString(ca, Certificates.toPem(Certificates.selfSigned("test CA", true, Duration.ofDays(1)).certificate()));
    Path token = dir.resolve("token");
    java.nio.file.Files.writeString(token, "graph-test-token-0123456789\n");
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String api = "127.0.0.1:" + port;
    Process node = verge(List.of("node", "run", "--controller", "127.0.0.1:9", "--ca-cert", ca.toString(),
        "--serial", "SN-GRAPH", "--state-dir", dir.resolve("node").toString(), "--host", "sim",
        "--local-api", api, "--token-file", token.toString()));
    ProcessOutput.of("node", node).awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(90));

    List<String> graph = List.of("node", "graph", "--local-api", api, "--token-file", token.toString(), "--agent", "nim");
    // nim's graph is published every few seconds once it reconciled: wait for both states
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Run intended = vergeProcess(concat(graph, "--intended"));
      assertThat(intended.exitCode()).as(intended.err()).isZero();
      assertThat(intended.out()).startsWith("digraph").contains("label = \"nim\"");
    });
    // (on sim nim has no ports: both states are the same empty graph; which one is asked is NodeGraphCommandTest's)
    Run current = vergeProcess(graph);
    assertThat(current.exitCode()).as(current.err()).isZero();
    assertThat(current.out()).startsWith("digraph").contains("label = \"nim\"");

    Path svg = dir.resolve("nim.svg");
    Run rendered = vergeProcess(concat(graph, "--format", "svg", "-o", svg.toString()));
    assertThat(rendered.exitCode()).as(rendered.err()).isZero();
    assertThat(java.nio.file.Files.readString(svg)).contains("<svg");

    Run refused = vergeProcess(List.of("node", "graph", "--local-api", api, "--token-file", token.toString(), "--intended"));
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.err()).contains("--intended needs --agent");
  }

  private static List<String> concat(List<String> head, String... tail) {
    List<String> all = new ArrayList<>(head);
    all.addAll(List.of(tail));
    return all;
  }

  /** A verge command in a process of its own: the graph command prints on System.out. */
  private Run vergeProcess(List<String> args) throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(args);
    Path out = java.nio.file.Files.createTempFile(dir, "out", ".txt");
    Path err = java.nio.file.Files.createTempFile(dir, "err", ".txt");
    Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), java.nio.file.Files.readString(out), java.nio.file.Files.readString(err));
  }

  private Process nodeOfProcesses(String serial) throws Exception {
    Path ca = dir.resolve("ca.crt");
    java.nio.file.Files.writeString(ca, Certificates.toPem(Certificates.selfSigned("test CA", true, Duration.ofDays(1)).certificate()));
    // No controller at port 9: zedagent rides that out; the test is about stopping.
    return verge(List.of("node", "run", "--processes", "--controller", "127.0.0.1:9", "--ca-cert", ca.toString(),
        "--serial", serial, "--state-dir", dir.resolve("node").toString(), "--host", "sim"));
  }

  @Test
  void sigtermStopsANodeOfAgentProcessesWithOneLogLineAndExitZero() throws Exception {
    Process node = nodeOfProcesses("SN-PROC-TERM");
    ProcessOutput nodeOut = ProcessOutput.of("node", node);
    nodeOut.awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(90));
    List<ProcessHandle> agents = node.toHandle().children().toList();
    assertThat(agents).isNotEmpty();

    node.toHandle().destroy(); // SIGTERM to the parent only, as `kill PID` does

    assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(nodeOut.awaitEnd(Duration.ofSeconds(10))).isTrue();
    assertThat(node.exitValue()).as(String.join("\n", nodeOut.lines())).isZero();
    // the parent's own line; an agent's lines are forwarded with its "[name]" prefix and may say it stops too
    assertThat(nodeOut.lines().stream().filter(line -> !line.startsWith("["))
        .filter(line -> line.contains("node stopping on SIGTERM")).toList()).singleElement()
        .satisfies(line -> assertThat(line).endsWith("node stopping on SIGTERM: " + agents.size() + " agent processes stopped"));
    assertThat(agents).noneMatch(ProcessHandle::isAlive);
  }

  @Test
  void aSignalToTheWholeGroupStopsANodeOfAgentProcessesWithExitZero() throws Exception {
    Process node = nodeOfProcesses("SN-PROC-GROUP");
    ProcessOutput nodeOut = ProcessOutput.of("node", node);
    nodeOut.awaitLine(line -> line.startsWith("verge node: running"), Duration.ofSeconds(90));
    List<ProcessHandle> agents = node.toHandle().children().toList();

    // systemd's control-group kill and Ctrl-C reach every process; here the agents get it first.
    agents.forEach(ProcessHandle::destroy);
    node.toHandle().destroy();

    assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(nodeOut.awaitEnd(Duration.ofSeconds(10))).isTrue();
    assertThat(node.exitValue()).as(String.join("\n", nodeOut.lines())).isZero();
    assertThat(nodeOut.lines()).noneMatch(line -> line.contains("stopping the node"))
        .anyMatch(line -> line.endsWith("agent processes stopped"));
  }
}
