package dev.verge.cli;

import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.zedagent.LocalApi;
import dev.verge.zedagent.ZedAgent;
import dev.verge.zedagent.ZedAgentSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code verge node ...}: run an edge node and talk to a running one. */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = "Run an edge node, or query and override a running one through its local API.",
    footer = {"", "Exit codes: 0 ok, 1 runtime error (node unreachable, request refused), 2 usage error."},
    subcommands = {NodeCommand.Run.class, NodeCommand.Status.class, NodeCommand.Graph.class, NodeCommand.SetOverride.class})
final class NodeCommand {

  /** How to reach a node's local API. */
  static final class LocalApiOptions {
    @Option(names = "--local-api", defaultValue = "127.0.0.1:8088", description = "Local API address (default ${DEFAULT-VALUE}).")
    String address;

    @Option(names = "--token-file", required = true, description = "File holding the local API bearer token.")
    Path tokenFile;

    String token() throws IOException {
      return Files.readString(tokenFile).strip();
    }

    HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://" + address + path))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", "Bearer " + token())
              .header("Content-Type", "application/json")
              .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
              .build();
      return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .send(request, HttpResponse.BodyHandlers.ofString());
    }
  }

  static InetSocketAddress parseAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected host:port, got '" + hostPort + "'");
    }
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the node's agents until stopped (SIGTERM).")
  static final class Run implements Callable<Integer> {
    @Option(names = "--controller", required = true, description = "Controller device service, host:port.")
    String controller;

    @Option(names = "--controller-name", defaultValue = "", description = "Name on the controller's TLS certificate, if not the host.")
    String controllerName;

    @Option(names = "--ca-cert", required = true, description = "Controller CA certificate (PEM) installed on this device.")
    Path caCert;

    @Option(names = "--serial", required = true, description = "Device serial presented at onboarding.")
    String serial;

    @Option(names = "--state-dir", required = true, description = "Device state: identity, persisted config, audit log.")
    Path stateDir;

    @Option(names = "--local-api", description = "Serve the local API on host:port (needs --token-file).")
    String localApi;

    @Option(names = "--token-file", description = "File holding the local API token (at least 16 characters).")
    Path tokenFile;

    @Option(names = "--bus", defaultValue = "injvm", description = "Bus driver: injvm (one process) or uds (agents as processes; default ${DEFAULT-VALUE}).")
    String bus;

    @Option(names = "--bus-dir", description = "Socket directory of the uds bus (default <state-dir>/bus).")
    Path busDir;

    @Option(names = "--metrics-interval", defaultValue = "60s", converter = DurationConverter.class, description = "Metrics upload interval (default ${DEFAULT-VALUE}).")
    Duration metricsInterval;

    @Option(names = "--flowlog-interval", defaultValue = "120s", converter = DurationConverter.class, description = "Flow log upload interval (default ${DEFAULT-VALUE}).")
    Duration flowLogInterval;

    @Option(names = "--reconnect-min", defaultValue = "500ms", converter = DurationConverter.class, description = "First wait before redialling a lost controller (default ${DEFAULT-VALUE}).")
    Duration reconnectMin;

    @Option(names = "--reconnect-max", defaultValue = "30s", converter = DurationConverter.class, description = "Longest wait between attempts to reach the controller (default ${DEFAULT-VALUE}).")
    Duration reconnectMax;

    @Override
    public Integer call() throws Exception {
      if (localApi != null && tokenFile == null) {
        System.err.println("--local-api needs --token-file");
        return 2;
      }
      ZedAgentSettings settings =
          ZedAgentSettings.of(serial, controller, caCert, stateDir)
              .withControllerAuthority(controllerName)
              .withIntervals(metricsInterval, flowLogInterval)
              .withReconnectBackoff(reconnectMin, reconnectMax);
      if (localApi != null) {
        settings = settings.withLocalApi(parseAddress(localApi), Files.readString(tokenFile).strip());
      }
      PubSubConfig busConfig =
          PubSubConfig.defaults()
              .withStateDir(stateDir.resolve("persist"))
              .withSocketDir(busDir != null ? busDir : stateDir.resolve("bus"));
      PubSub pubSub =
          switch (bus) {
            case "injvm" -> PubSub.inJvm(busConfig);
            case "uds" -> PubSub.unixSockets(busConfig);
            default -> {
              System.err.println("unknown bus driver '" + bus + "' (injvm or uds)");
              yield null;
            }
          };
      if (pubSub == null) {
        return 2;
      }
      ZedAgent agent = ZedAgent.start(settings, pubSub);
      LocalApi api =
          settings.localApi().isPresent()
              ? LocalApi.start(settings.localApi().get(), settings.localApiToken(), agent, pubSub, stateDir)
              : null;
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    if (api != null) {
                      api.close();
                    }
                    agent.close();
                    pubSub.close();
                    stopped.countDown();
                  },
                  "node-shutdown"));
      System.out.println(
          "verge node: running serial=" + serial + " cert=" + agent.identity().fingerprint() + " controller=" + controller
              + (api != null ? " local-api=" + api.address() : ""));
      System.out.flush();
      stopped.await();
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a running node's status.")
  static final class Status implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    LocalApiOptions api;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
    String output;

    @Override
    public Integer call() throws Exception {
      HttpResponse<String> response = api.call("GET", "/api/v1/status", null);
      if (response.statusCode() != 200) {
        System.err.println("node refused: HTTP " + response.statusCode() + " " + response.body());
        return 1;
      }
      if (output.equals("json")) {
        System.out.println(response.body());
      } else {
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body());
        json.fields().forEachRemaining(f -> System.out.printf("%-18s %s%n", f.getKey(), f.getValue().isTextual() ? f.getValue().asText() : f.getValue()));
      }
      return 0;
    }
  }

  @Command(name = "graph", mixinStandardHelpOptions = true,
      description = "Print the running config as a dependency graph (DOT), or render it to SVG with Graphviz.")
  static final class Graph implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    LocalApiOptions api;

    @Option(names = "--svg", paramLabel = "FILE", description = "Write SVG (needs Graphviz 'dot') instead of printing DOT.")
    Path svg;

    @Override
    public Integer call() throws Exception {
      HttpResponse<String> response = api.call("GET", "/api/v1/graph", null);
      if (response.statusCode() != 200) {
        System.err.println("node refused: HTTP " + response.statusCode() + " " + response.body());
        return 1;
      }
      String dot = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).path("dot").asText();
      if (svg == null) {
        System.out.print(dot);
        return 0;
      }
      var renderer = dev.verge.reconciler.DotRenderer.fromPath();
      if (renderer.isEmpty()) {
        System.err.println("Graphviz 'dot' is not installed (scripts/setup installs it)");
        return 1;
      }
      renderer.get().renderTo(dot, svg);
      System.out.println("wrote " + svg);
      return 0;
    }
  }

  @Command(name = "override", mixinStandardHelpOptions = true, description = "Set or clear the local port override of a running node.")
  static final class SetOverride implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    LocalApiOptions api;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    static final class Action {
      @Option(names = "--file", description = "Port override: a DeviceConfig (JSON) with system_adapters (and networks, vlans, bonds).")
      Path file;

      @Option(names = "--clear", description = "Remove the override: back to the controller's port config.")
      boolean clear;
    }

    @Override
    public Integer call() throws Exception {
      HttpResponse<String> response =
          action.clear
              ? api.call("DELETE", "/api/v1/port-override", null)
              : api.call("PUT", "/api/v1/port-override", Files.readString(action.file));
      System.out.println(response.body());
      return response.statusCode() == 200 ? 0 : 1;
    }
  }
}
