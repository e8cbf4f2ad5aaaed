package dev.verge.cli;

import dev.verge.agent.AgentNode;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;
import dev.verge.agent.RuntimeSettings;
import dev.verge.agent.StartClock;
import dev.verge.hostos.Host;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.sim.SimHost;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code verge node ...}: run an edge node and talk to a running one. */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = "Run an edge node, or query and override a running one through its local API.",
    footer = {"", "Exit codes: 0 ok, 1 runtime error (node unreachable, request refused), 2 usage error."},
    subcommands = {NodeCommand.Run.class, NodeCommand.Status.class, NodeCommand.Graph.class, NodeCommand.SetOverride.class})
final class NodeCommand {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeCommand.class);

  /** How to reach a node's local API. */
  static final class LocalApiOptions {
    @Option(names = "--local-api", defaultValue = "127.0.0.1:8088", description = "Local API address (default ${DEFAULT-VALUE}).")
    String address;

    @Option(names = "--token-file", required = true, description = "File holding the local API bearer token.")
    Path tokenFile;

    String token() throws IOException {
      return readToken(tokenFile, null);
    }

    HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
      try {
        return send(method, path, body);
      } catch (java.net.ConnectException e) {
        throw new IOException("node not reachable at " + address + ": connection refused (is verge node run serving --local-api there?)", e);
      } catch (java.net.http.HttpTimeoutException e) {
        throw new IOException("node at " + address + " did not answer within " + (e instanceof java.net.http.HttpConnectTimeoutException ? "5" : "10") + " s", e);
      }
    }

    private HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
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

  static String hostPort(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  static InetSocketAddress parseAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String port = colon < 0 ? "" : hostPort.substring(colon + 1);
    if (colon <= 0 || !port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException("expected HOST:PORT (e.g. 127.0.0.1:8088), not '" + hostPort + "'");
    }
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(port));
  }

  /** The local API token in {@code file}, or a usage error naming the file and the problem. */
  static String readToken(Path file, CommandSpec spec) throws IOException {
    String token;
    try {
      token = Files.readString(file).strip();
    } catch (java.nio.file.NoSuchFileException e) {
      throw usage(spec, "--token-file " + file + " does not exist");
    } catch (java.nio.file.AccessDeniedException e) {
      throw usage(spec, "--token-file " + file + " is not readable (permission denied)");
    } catch (java.nio.charset.CharacterCodingException e) {
      throw usage(spec, "--token-file " + file + " is not UTF-8 text");
    }
    if (token.length() < 16) {
      throw usage(spec, "the token in " + file + " is " + token.length() + " characters; the local API needs at least 16");
    }
    return token;
  }

  private static RuntimeException usage(CommandSpec spec, String message) {
    return spec == null ? new RuntimeErrors.UsageProblem(message) : new picocli.CommandLine.ParameterException(spec.commandLine(), message);
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run the node's agents until stopped (SIGTERM): every agent module on the classpath, "
          + "in one process on the in-JVM bus (default), or each in its own process over the socket bus.")
  static final class Run implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--controller", required = true, description = "Controller device service, host:port.")
    String controller;

    @Option(names = "--controller-name", defaultValue = "", description = "Name on the controller's TLS certificate, if not the host.")
    String controllerName;

    @Option(names = "--ca-cert", required = true, description = "Controller CA certificate (PEM) installed on this device.")
    Path caCert;

    @Option(names = "--serial", required = true, description = "Device serial presented at onboarding.")
    String serial;

    @Option(names = "--state-dir", required = true, description = "Device state: identity, persisted config, daemon state, audit log.")
    Path stateDir;

    @Option(names = "--local-api", description = "Serve the local API on host:port (needs --token-file).")
    String localApi;

    @Option(names = "--token-file", description = "File holding the local API token (at least 16 characters).")
    Path tokenFile;

    @Option(names = "--prometheus", paramLabel = "HOST:PORT",
        description = "Serve Prometheus metrics (GET /metrics) on host:port, e.g. 127.0.0.1:9108; port 0 picks a free one.")
    String prometheus;

    @Option(names = "--bus", defaultValue = "injvm", description = "Bus driver: injvm (one process) or uds (Unix sockets; default ${DEFAULT-VALUE}).")
    String bus;

    @Option(names = "--bus-dir", description = "Socket directory of the uds bus (default <state-dir>/bus).")
    Path busDir;

    @Option(names = "--host", defaultValue = "linux",
        description = "What the agents act on: linux (the kernel of the namespace the node runs in) or sim (in memory; default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--allow-initial-netns",
        description = "Let the agents drive the machine's own network namespace (a dedicated edge device); by default the node refuses and must run in a namespace of its own.")
    boolean allowInitialNetns;

    @Option(names = "--only", paramLabel = "AGENT", description = "Run only this agent (e.g. one process of a --processes node).")
    String only;

    @Option(names = "--processes", description = "Run each agent as its own process, over the uds bus.")
    boolean processes;

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
      long parsedMs = StartClock.sinceProcessStart();
      if (localApi != null && tokenFile == null) {
        System.err.println("error: --local-api needs --token-file");
        return 2;
      }
      InetSocketAddress localApiAddress = null;
      if (localApi != null) {
        try {
          localApiAddress = parseAddress(localApi);
        } catch (IllegalArgumentException e) {
          throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--local-api: " + e.getMessage());
        }
      }
      InetSocketAddress prometheusAddress = null;
      if (prometheus != null) {
        try {
          prometheusAddress = parseAddress(prometheus);
        } catch (IllegalArgumentException e) {
          throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--prometheus: " + e.getMessage());
        }
      }
      String token = tokenFile == null ? "" : readToken(tokenFile, spec);
      if (!Files.isReadable(caCert)) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ca-cert " + caCert + " does not exist or is not readable");
      }
      if (!bus.equals("injvm") && !bus.equals("uds")) {
        System.err.println("error: unknown bus driver '" + bus + "' (injvm or uds)");
        return 2;
      }
      if (!host.equals("linux") && !host.equals("sim")) {
        System.err.println("error: unknown host '" + host + "' (linux or sim)");
        return 2;
      }
      List<AgentProvider> providers = AgentNode.providers();
      if (only != null) {
        providers = providers.stream().filter(p -> p.name().equals(only)).toList();
        if (providers.isEmpty()) {
          System.err.println("error: no agent named '" + only + "' (known: "
              + String.join(", ", AgentNode.providers().stream().map(AgentProvider::name).toList()) + ")");
          return 2;
        }
      }
      if (processes) {
        if (bus.equals("injvm") && spec.commandLine().getParseResult().hasMatchedOption("--bus")) {
          System.err.println("error: --processes needs the uds bus");
          return 2;
        }
        return new AgentProcesses(spec.commandLine().getParseResult().originalArgs(), providers, serial,
            prometheusAddress, busConfig()).run();
      }
      NodeSettings settings =
          new NodeSettings(
              stateDir, serial, controller, controllerName, caCert,
              Optional.ofNullable(localApiAddress),
              token,
              metricsInterval, flowLogInterval, reconnectMin, reconnectMax);
      PubSubConfig busConfig = busConfig();
      PubSub pubSub = bus.equals("uds") ? PubSub.unixSockets(busConfig) : PubSub.inJvm(busConfig);
      long busMs = StartClock.sinceProcessStart();
      Host nodeHost = null;
      if (providers.stream().anyMatch(AgentProvider::needsHost)) {
        Optional<String> refusal = host.equals("linux") ? initialNamespaceRefusal() : Optional.empty();
        if (refusal.isPresent()) {
          System.err.println("error: " + refusal.get());
          pubSub.close();
          return 2;
        }
        nodeHost = host.equals("linux")
            ? LinuxHost.inCurrentNamespace(LinuxHostSettings.under(stateDir))
            : SimHost.create(stateDir.resolve("sim"));
      }
      long hostMs = StartClock.sinceProcessStart();
      AgentNode node = AgentNode.start(providers, settings, pubSub, nodeHost, RuntimeSettings.DEFAULT);
      long madeMs = StartClock.sinceProcessStart();
      if (!node.awaitStarted(Duration.ofSeconds(30))) {
        System.err.println("error: the agents did not start within 30 s");
      }
      // where the start goes (./verge bench node: node.start_to_first_reconcile); each agent logs its first reconcile
      LOG.info("node start, ms after the process started: command parsed {}, bus {}, host {}, agents made {},"
          + " agents started {}", parsedMs, busMs, hostMs, madeMs, StartClock.sinceProcessStart());
      Host startedHost = nodeHost;
      StopSignal stop = StopSignal.install();
      NodePrometheus metricsEndpoint =
          prometheusAddress == null ? null : NodePrometheus.start(pubSub, node.agentNames(), prometheusAddress);
      System.out.println(
          "verge node: running serial=" + serial + " agents=" + String.join(",", node.agentNames())
              + " pid=" + ProcessHandle.current().pid() + " bus=" + bus
              + (startedHost != null ? " host=" + startedHost.description() : "")
              + " controller=" + controller + (localApi != null ? " local-api=" + localApi : "")
              + (metricsEndpoint != null ? " prometheus=" + hostPort(metricsEndpoint.address()) : ""));
      System.out.flush();
      stop.await(LOG, "node");
      if (metricsEndpoint != null) {
        metricsEndpoint.close();
      }
      node.close();
      pubSub.close();
      if (startedHost != null) {
        startedHost.close();
      }
      LOG.info("node stopped");
      return 0;
    }

    private PubSubConfig busConfig() {
      return PubSubConfig.defaults()
          .withStateDir(stateDir.resolve("persist"))
          .withSocketDir(busDir != null ? busDir : stateDir.resolve("bus"));
    }

    /**
     * The linux host acts on the namespace the node runs in. On a development or CI machine that
     * must never be the machine's own: refuse unless the operator says this is a dedicated device.
     */
    private Optional<String> initialNamespaceRefusal() {
      if (allowInitialNetns) {
        return Optional.empty();
      }
      try {
        Path mine = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
        Path initial = Files.readSymbolicLink(Path.of("/proc/1/ns/net"));
        if (mine.equals(initial)) {
          return Optional.of("refusing to drive the machine's own network namespace (" + mine
              + "): run the node in a namespace of its own (ip netns exec), use --host sim, "
              + "or pass --allow-initial-netns on a dedicated edge device");
        }
        return Optional.empty();
      } catch (IOException | UnsupportedOperationException e) {
        // PID 1's namespace may be unreadable (a sandbox): a named namespace (ip netns add, as the
        // tests and the demo make) is never the machine's own, and that can be told without it.
        if (inNamedNamespace()) {
          return Optional.empty();
        }
        return Optional.of("cannot tell whether this is the machine's own network namespace ("
            + e.getMessage() + "); pass --allow-initial-netns if it is a dedicated edge device");
      }
    }
  }

  /** Whether this process's network namespace is one that {@code ip netns} named (same nsfs inode). */
  static boolean inNamedNamespace() {
    try {
      Path mine = Path.of("/proc/self/ns/net");
      Object inode = Files.getAttribute(mine, "unix:ino");
      Object device = Files.getAttribute(mine, "unix:dev");
      Path named = Path.of("/run/netns");
      if (!Files.isDirectory(named)) {
        return false;
      }
      try (var entries = Files.list(named)) {
        for (Path entry : entries.toList()) {
          if (inode.equals(Files.getAttribute(entry, "unix:ino")) && device.equals(Files.getAttribute(entry, "unix:dev"))) {
            return true;
          }
        }
      }
      return false;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false;
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
        return 0;
      }
      new StatusView(System.out).render(new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()));
      return 0;
    }
  }

  @Command(name = "graph", mixinStandardHelpOptions = true,
      description = "Print the running config, or an agent's dependency graph, as DOT, or render it to SVG with Graphviz.")
  static final class Graph implements Callable<Integer> {
    @ArgGroup(exclusive = false, multiplicity = "1")
    LocalApiOptions api;

    @Option(names = "--agent", paramLabel = "NAME", description = "An agent's graph (nim, zedrouter, domainmgr, zedagent) instead of the config's.")
    String agent;

    @ArgGroup(exclusive = true)
    Which which = new Which();

    static final class Which {
      @Option(names = "--current", description = "With --agent: the state the agent found and made (the default).")
      boolean current;

      @Option(names = "--intended", description = "With --agent: the state the agent wants.")
      boolean intended;
    }

    @Option(names = "--format", defaultValue = "dot", paramLabel = "dot|svg",
        description = "dot (text) or svg (rendered by Graphviz 'dot'; default ${DEFAULT-VALUE}).")
    GraphFormat format;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of standard output.")
    Path output;

    enum GraphFormat { dot, svg }

    @Override
    public Integer call() throws Exception {
      if (agent == null && which.intended) {
        System.err.println("error: --intended needs --agent (the config graph has one state)");
        return 2;
      }
      String path = agent == null ? "/api/v1/graph"
          : "/api/v1/graph?agent=" + java.net.URLEncoder.encode(agent, java.nio.charset.StandardCharsets.UTF_8)
              + "&which=" + (which.intended ? "intended" : "current");
      HttpResponse<String> response = api.call("GET", path, null);
      if (response.statusCode() != 200) {
        System.err.println("node refused: HTTP " + response.statusCode() + " " + response.body());
        return 1;
      }
      String dot = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).path("dot").asText();
      String text = dot;
      if (format == GraphFormat.svg) {
        var renderer = dev.verge.reconciler.DotRenderer.fromPath();
        if (renderer.isEmpty()) {
          System.err.println("error: Graphviz 'dot' is not installed (scripts/setup installs it)");
          return 1;
        }
        text = renderer.get().toSvg(dot);
      }
      if (output == null) {
        System.out.print(text);
        return 0;
      }
      Files.writeString(output, text);
      System.out.println("wrote " + output);
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
