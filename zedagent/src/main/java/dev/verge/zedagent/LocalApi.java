package dev.verge.zedagent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.pubsub.Publication;
import dev.verge.topics.v1.AgentGraphs;
import dev.verge.topics.v1.AgentHealth;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-site API of the device: lets an operator with the device's token see its status and
 * override the port configuration (nim consumes the override) when the controller's config does
 * not get the box online. Every request is authenticated, rate-limited and written to an audit
 * log.
 *
 * <ul>
 *   <li>{@code GET /api/v1/status}: zedagent's status (JSON)
 *   <li>{@code GET /api/v1/graph}: the applied config as a dependency graph ({@code {"dot": ...}})
 *   <li>{@code PUT /api/v1/port-override}: a DeviceConfig (JSON) with the ports to use; only
 *       ports the controller marked {@code allow_local_modifications} may appear
 *   <li>{@code DELETE /api/v1/port-override}: back to the controller's port config
 *   <li>{@code GET /api/v1/port-override}: the override in force, if any
 * </ul>
 */
public final class LocalApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalApi.class);
  static final String OVERRIDE_KEY = "override";
  static final int MAX_BODY_BYTES = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final DeviceView agent;
  private final byte[] tokenDigest;
  private final Publication<DeviceConfig> override;
  private final Path auditLog;
  private final RateLimiter limiter;

  /** Requests per client address: a burst, then a steady rate (also slows token guessing). */
  static final class RateLimiter {
    private final int burst;
    private final double perSecond;
    private final Clock clock;
    private final Map<String, double[]> buckets = new HashMap<>(); // address -> {tokens, lastMillis}

    RateLimiter(int burst, double perSecond, Clock clock) {
      this.burst = burst;
      this.perSecond = perSecond;
      this.clock = clock;
    }

    synchronized boolean allow(String client) {
      long now = clock.millis();
      double[] bucket = buckets.computeIfAbsent(client, c -> new double[] {burst, now});
      bucket[0] = Math.min(burst, bucket[0] + (now - bucket[1]) / 1000.0 * perSecond);
      bucket[1] = now;
      if (bucket[0] < 1) {
        return false;
      }
      bucket[0] -= 1;
      return true;
    }
  }

  /** What the local API needs to know about the device. */
  public interface DeviceView {
    ZedAgent.AgentStatus status();

    String certFingerprint();

    /** The controller config the device runs. */
    DeviceConfig appliedConfig();

    /** The agents' health as they last published it, by agent name. */
    default Map<String, AgentHealth> agentHealth() {
      return Map.of();
    }

    /** An agent's dependency graphs as it last published them. */
    default Optional<AgentGraphs> agentGraphs(String agent) {
      return Optional.empty();
    }
  }

  private LocalApi(HttpServer server, DeviceView agent, String token, Publication<DeviceConfig> override, Path auditLog, RateLimiter limiter) {
    this.server = server;
    this.agent = agent;
    this.tokenDigest = sha256(token.getBytes(StandardCharsets.UTF_8));
    this.override = override;
    this.auditLog = auditLog;
    this.limiter = limiter;
  }

  /**
   * Serves the API.
   *
   * @param override where an accepted override is published (zedagent's, persistent)
   */
  public static LocalApi start(
      InetSocketAddress address, String token, DeviceView agent, Publication<DeviceConfig> override, Path stateDir)
      throws IOException {
    return start(address, token, agent, override, stateDir, new RateLimiter(10, 1.0, Clock.systemUTC()));
  }

  static LocalApi start(
      InetSocketAddress address, String token, DeviceView agent, Publication<DeviceConfig> override,
      Path stateDir, RateLimiter limiter)
      throws IOException {
    Files.createDirectories(stateDir);
    HttpServer server = HttpServer.create(address, 16);
    LocalApi api =
        new LocalApi(server, agent, token, override, stateDir.resolve("local-api-audit.log"), limiter);
    server.createContext("/api/v1/", api::handle);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "zedagent-local-api");
      t.setDaemon(true);
      return t;
    }));
    server.start();
    log.info("local API listening on {}", server.getAddress());
    return api;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String client = exchange.getRemoteAddress().getAddress().getHostAddress();
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getPath();
    String query = exchange.getRequestURI().getQuery();
    byte[] body = readBody(exchange);
    int status;
    String response;
    if (!limiter.allow(client)) {
      exchange.getResponseHeaders().add("Retry-After", "1");
      status = 429;
      response = error("too many requests");
    } else if (!authorized(exchange)) {
      status = 401;
      response = error("missing or wrong bearer token");
    } else if (body == null) {
      status = 413;
      response = error("body over " + MAX_BODY_BYTES + " bytes");
    } else {
      Result result = route(method, path, query == null ? "" : query, body);
      status = result.status();
      response = result.body();
    }
    audit(client, method, path, status, body);
    byte[] bytes = response.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private record Result(int status, String body) {}

  private Result route(String method, String path, String query, byte[] body) {
    return switch (method + " " + path) {
      case "GET /api/v1/status" -> new Result(200, statusJson());
      case "GET /api/v1/graph" -> graph(query);
      case "GET /api/v1/port-override" -> override.get(OVERRIDE_KEY)
          .map(o -> new Result(200, print(o)))
          .orElse(new Result(404, error("no port override in force")));
      case "PUT /api/v1/port-override" -> putOverride(body);
      case "DELETE /api/v1/port-override" -> override.unpublish(OVERRIDE_KEY)
          ? new Result(200, json(Map.of("removed", true)))
          : new Result(404, error("no port override in force"));
      default -> new Result(404, error("no such endpoint: " + method + " " + path));
    };
  }

  /**
   * Without parameters, the applied config as a graph; with {@code agent=NAME}, that agent's
   * current (or, with {@code which=intended}, intended) dependency graph.
   */
  private Result graph(String query) {
    Map<String, String> params = new LinkedHashMap<>();
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        params.put(pair.substring(0, eq), java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    String name = params.get("agent");
    if (name == null) {
      return new Result(200, json(Map.of("dot", ConfigGraph.dot(agent.appliedConfig()))));
    }
    String which = params.getOrDefault("which", "current");
    if (!which.equals("current") && !which.equals("intended")) {
      return new Result(400, error("which must be current or intended, not '" + which + "'"));
    }
    return agent.agentGraphs(name)
        .map(g -> new Result(200, json(Map.of("agent", name, "which", which,
            "dot", which.equals("current") ? g.getCurrentDot() : g.getIntendedDot(), "atMs", g.getAtMs()))))
        .orElse(new Result(404, error("no graph published by agent '" + name + "' (known: "
            + String.join(", ", agent.agentHealth().keySet()) + ")")));
  }

  private Result putOverride(byte[] body) {
    DeviceConfig.Builder builder = DeviceConfig.newBuilder();
    try {
      JsonFormat.parser().merge(new String(body, StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return new Result(400, error("malformed port override: " + e.getMessage()));
    }
    DeviceConfig requested = builder.build();
    List<String> problems = overrideProblems(requested, agent.appliedConfig());
    if (!problems.isEmpty()) {
      return new Result(403, error(String.join("; ", problems)));
    }
    override.publish(OVERRIDE_KEY, requested);
    log.info("local port override set: ports {}", requested.getSystemAdaptersList().stream().map(SystemAdapter::getName).toList());
    return new Result(200, json(Map.of("applied", true)));
  }

  /**
   * EVE's rule: a local override may only touch ports the controller allowed to be modified
   * locally, and it may only carry port-level objects.
   */
  static List<String> overrideProblems(DeviceConfig requested, DeviceConfig controllerConfig) {
    List<String> problems = new ArrayList<>();
    if (requested.getSystemAdaptersCount() == 0) {
      problems.add("system_adapters: an override must name at least one port");
    }
    if (requested.getNetworkInstancesCount() > 0 || requested.getAppsCount() > 0) {
      problems.add("an override may only carry ports (system_adapters, networks, vlans, bonds, device_io)");
    }
    Set<String> allowed =
        controllerConfig.getSystemAdaptersList().stream()
            .filter(SystemAdapter::getAllowLocalModifications)
            .map(SystemAdapter::getName)
            .collect(Collectors.toSet());
    for (int i = 0; i < requested.getSystemAdaptersCount(); i++) {
      String name = requested.getSystemAdapters(i).getName();
      if (!allowed.contains(name)) {
        problems.add("system_adapters[" + i + "]: port '" + name + "' does not allow local modifications");
      }
    }
    return problems;
  }

  /** The status as JSON: zedagent's status plus what only the local API knows. */
  private String statusJson() {
    Map<String, Object> json = new LinkedHashMap<>(JSON.convertValue(agent.status(), Map.class));
    json.put("portOverride", override.get(OVERRIDE_KEY).isPresent());
    json.put("certFingerprint", agent.certFingerprint());
    Map<String, Object> agents = new LinkedHashMap<>();
    agent.agentHealth().forEach((name, health) -> {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("state", health.getState().name().replace("STATE_", "").toLowerCase(java.util.Locale.ROOT));
      a.put("reconcileRuns", health.getReconcileRuns());
      a.put("lastReconcileMs", health.getLastReconcileMs());
      a.put("lastError", health.getLastError());
      a.put("waitingFor", health.getWaitingForList());
      a.put("failedItems", health.getFailedItemsList().stream()
          .map(f -> f.getType() + "/" + f.getName() + ": " + f.getError()).toList());
      agents.put(name, a);
    });
    json.put("agents", agents);
    return json(json);
  }

  /** Constant-time comparison of digests: neither content nor length of the token leaks. */
  private boolean authorized(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] presented = sha256(header.substring("Bearer ".length()).getBytes(StandardCharsets.UTF_8));
    return MessageDigest.isEqual(presented, tokenDigest);
  }

  private void audit(String client, String method, String path, int status, byte[] body) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("time", Instant.now().toString());
    entry.put("client", client);
    entry.put("method", method);
    entry.put("path", path);
    entry.put("status", status);
    entry.put("bodySha256", body == null || body.length == 0 ? "" : HexFormat.of().formatHex(sha256(body)));
    try {
      Files.writeString(
          auditLog, json(entry) + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);
    } catch (IOException e) {
      log.error("cannot write audit log {}: {}", auditLog, e.toString());
    }
  }

  private static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      return bytes.length > MAX_BODY_BYTES ? null : bytes;
    }
  }

  private static String print(DeviceConfig config) {
    try {
      return JsonFormat.printer().print(config);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String error(String message) {
    return json(Map.of("error", message));
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    override.close();
  }
}
