package dev.verge.zedagent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.pubsub.Publication;
import dev.verge.topics.v1.AgentGraphs;
import dev.verge.topics.v1.AgentHealth;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-site API of the device: lets an operator with the device's token see its status and
 * override the port configuration (nim consumes the override) when the controller's config does
 * not get the box online.
 *
 * <ul>
 *   <li>{@code GET /api/v1/status}: zedagent's status and the agents' health (JSON)
 *   <li>{@code GET /api/v1/graph[?agent=NAME[&which=intended]]}: the applied config, or an
 *       agent's graph, as DOT ({@code {"dot": ...}})
 *   <li>{@code GET|PUT|DELETE /api/v1/port-override}: the override in force, set it, remove it
 * </ul>
 *
 * <p>It lives on a LAN the operator does not control, so it is served defensively (Netty, one
 * thread): the token is checked on the request's headers, before any body is read, in constant
 * time; failed authentication has a rate budget of its own per client, so guessing cannot take
 * the operator's budget; a request must arrive whole within a deadline and idle connections are
 * closed, so a slow client holds nothing; connections are bounded. Every request is audited to a
 * rotating log; only changes are forced to disk.
 */
public final class LocalApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalApi.class);
  static final String OVERRIDE_KEY = "override";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Endpoint → the methods it answers; anything else on it is 405. */
  private static final Map<String, Set<String>> ENDPOINTS =
      Map.of(
          "/api/v1/status", Set.of("GET"),
          "/api/v1/graph", Set.of("GET"),
          "/api/v1/port-override", Set.of("GET", "PUT", "DELETE"));

  private final DeviceView agent;
  private final byte[] tokenDigest;
  private final Publication<DeviceConfig> override;
  private final AuditLog audit;
  private final LocalApiLimits limits;
  private final RateLimiter failedAuth;
  private final RateLimiter authorized;
  private final Clock clock;
  private final AtomicInteger connections = new AtomicInteger();
  private final EventLoopGroup group;
  private final Channel server;

  /** Requests per client address: a burst, then a steady rate. */
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
      if (buckets.size() > 10_000) {
        buckets.entrySet().removeIf(e -> e.getValue()[0] >= burst); // full buckets hold nothing
      }
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

    /**
     * What the agents report to the controller (ports, network instances, apps...), keyed
     * {@code kind/key}: the same info messages, for the operator on site.
     */
    default Map<String, InfoMessage> reportedInfo() {
      return Map.of();
    }

    /** The agents' latest metrics (ports' counters, probes), keyed {@code agent/key}. */
    default Map<String, dev.verge.proto.metrics.v1.MetricsMessage> reportedMetrics() {
      return Map.of();
    }

    /** The agents' health as they last published it, by agent name. */
    default Map<String, AgentHealth> agentHealth() {
      return Map.of();
    }

    /** An agent's dependency graphs as it last published them. */
    default Optional<AgentGraphs> agentGraphs(String agent) {
      return Optional.empty();
    }
  }

  private LocalApi(
      InetSocketAddress address, String token, DeviceView agent, Publication<DeviceConfig> override, Path stateDir,
      LocalApiLimits limits, Clock clock) throws IOException {
    this.agent = agent;
    this.tokenDigest = sha256(token.getBytes(StandardCharsets.UTF_8));
    this.override = override;
    this.limits = limits;
    this.clock = clock;
    this.failedAuth = new RateLimiter(limits.failedAuthBurst(), limits.failedAuthPerSecond(), clock);
    this.authorized = new RateLimiter(limits.authorizedBurst(), limits.authorizedPerSecond(), clock);
    Files.createDirectories(stateDir);
    this.audit = new AuditLog(stateDir.resolve("local-api-audit.log"), limits.auditMaxBytes(), limits.auditFiles());
    this.group = new NioEventLoopGroup(1, r -> {
      Thread t = new Thread(r, "zedagent-local-api");
      t.setDaemon(true);
      return t;
    });
    try {
      this.server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .option(ChannelOption.SO_BACKLOG, 64)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
                          .addLast(new HttpServerCodec(4096, 8192, 8192))
                          .addLast(new Gate())
                          .addLast(new HttpObjectAggregator(limits.maxBodyBytes()))
                          .addLast(new Handler());
                    }
                  })
              .bind(address)
              .syncUninterruptibly()
              .channel();
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      audit.close();
      throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
    log.info("local API listening on {}", server.localAddress());
  }

  /**
   * Serves the API.
   *
   * @param override where an accepted override is published (zedagent's, persistent)
   */
  public static LocalApi start(
      InetSocketAddress address, String token, DeviceView agent, Publication<DeviceConfig> override, Path stateDir)
      throws IOException {
    return start(address, token, agent, override, stateDir, LocalApiLimits.DEFAULT, Clock.systemUTC());
  }

  /** Serves the API with other limits (tests, the fuzzer). */
  public static LocalApi start(
      InetSocketAddress address, String token, DeviceView agent, Publication<DeviceConfig> override, Path stateDir,
      LocalApiLimits limits, Clock clock) throws IOException {
    return new LocalApi(address, token, agent, override, stateDir, limits, clock);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    audit.close();
  }

  // ---------------------------------------------------------------- the connection's pipeline

  /**
   * Admits a connection (within the bound), then each request on its headers alone: the token
   * (its own rate budget when wrong), the rate budget, a known endpoint and method, the body size.
   * A refused request is answered and the connection closed without reading its body. A request
   * must arrive whole within the deadline, counted from the connection's start or, on a kept-alive
   * connection, from the request's first byte.
   */
  private final class Gate extends ChannelInboundHandlerAdapter {
    private boolean admitted;
    private boolean refusing;
    private ScheduledFuture<?> deadline;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      if (connections.incrementAndGet() > limits.maxConnections()) {
        log.warn("local API: more than {} connections, closing one from {}", limits.maxConnections(), client(ctx));
        ctx.close();
        return;
      }
      admitted = true;
      startDeadline(ctx); // a connection that never sends a whole request is closed as well
      ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      connections.decrementAndGet();
      cancelDeadline();
      ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!admitted || refusing) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof HttpRequest request) {
        startDeadline(ctx);
        Refusal refusal = refusal(ctx, request);
        if (refusal != null) {
          refusing = true;
          ReferenceCountUtil.release(msg);
          audit(client(ctx), request.method().name(), path(request), refusal.status().code(), null);
          respond(ctx, refusal.status(), error(refusal.message()), false);
          return;
        }
      }
      if (msg instanceof LastHttpContent) {
        cancelDeadline();
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof IdleStateEvent) {
        ctx.close(); // nothing asked for a while: free the connection
        return;
      }
      ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("local API connection from {} failed: {}", client(ctx), cause.toString());
      ctx.close();
    }

    private void startDeadline(ChannelHandlerContext ctx) {
      cancelDeadline();
      deadline = ctx.executor().schedule(() -> {
        log.warn("local API: request from {} not complete within {} ms, closing", client(ctx),
            limits.requestTimeout().toMillis());
        ctx.close();
      }, limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelDeadline() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }
  }

  private record Refusal(HttpResponseStatus status, String message) {}

  /** Why a request is refused on its headers, or null when it may proceed. */
  private Refusal refusal(ChannelHandlerContext ctx, HttpRequest request) {
    String client = client(ctx);
    Set<String> methods = ENDPOINTS.get(path(request));
    if (!authorized(request)) {
      if (!failedAuth.allow(client)) {
        return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, "too many failed authentications");
      }
      return new Refusal(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token");
    }
    if (!authorized.allow(client)) {
      return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, "too many requests");
    }
    if (methods == null) {
      return new Refusal(HttpResponseStatus.NOT_FOUND, "no such endpoint: " + path(request));
    }
    if (!methods.contains(request.method().name())) {
      return new Refusal(HttpResponseStatus.METHOD_NOT_ALLOWED,
          request.method().name() + " is not allowed on " + path(request) + " (allowed: "
              + String.join(", ", methods.stream().sorted().toList()) + ")");
    }
    if (HttpUtil.getContentLength(request, 0L) > limits.maxBodyBytes()) {
      return new Refusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body over " + limits.maxBodyBytes() + " bytes");
    }
    return null;
  }

  /** Serves a whole, authorized request. */
  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      byte[] body = new byte[request.content().readableBytes()];
      request.content().readBytes(body);
      QueryStringDecoder uri = new QueryStringDecoder(request.uri());
      Map<String, List<String>> parameters;
      try {
        parameters = uri.parameters();
      } catch (IllegalArgumentException e) {
        // e.g. "?x=%zz" (found by verge fuzz local-api): the client's mistake, not ours
        audit(client(ctx), request.method().name(), path(request), 400, body, false);
        respond(ctx, HttpResponseStatus.BAD_REQUEST, error("malformed query string: " + e.getMessage()), HttpUtil.isKeepAlive(request));
        return;
      }
      Result result;
      try {
        result = route(request.method().name(), uri.path(), parameters, body);
      } catch (RuntimeException e) {
        log.error("local API: {} {} failed", request.method(), uri.path(), e);
        result = new Result(500, error("internal error: " + e.getMessage()), false);
      }
      audit(client(ctx), request.method().name(), uri.path(), result.status(), body, result.changed());
      respond(ctx, HttpResponseStatus.valueOf(result.status()), result.body(), HttpUtil.isKeepAlive(request));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("local API request failed: {}", cause.toString());
      respond(ctx, HttpResponseStatus.BAD_REQUEST, error("bad request: " + cause.getMessage()), false);
    }
  }

  private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body, boolean keepAlive) {
    ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
    if (status.code() == 429) {
      response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    }
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static String client(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "?";
  }

  /** The decoded path; a path with a malformed escape is taken as written (and matches no endpoint). */
  private static String path(HttpRequest request) {
    try {
      return new QueryStringDecoder(request.uri()).path();
    } catch (IllegalArgumentException e) {
      int query = request.uri().indexOf('?');
      return query < 0 ? request.uri() : request.uri().substring(0, query);
    }
  }

  // ---------------------------------------------------------------- the endpoints

  private record Result(int status, String body, boolean changed) {
    Result(int status, String body) {
      this(status, body, false);
    }
  }

  private Result route(String method, String path, Map<String, List<String>> params, byte[] body) {
    return switch (method + " " + path) {
      case "GET /api/v1/status" -> new Result(200, statusJson());
      case "GET /api/v1/graph" -> graph(params);
      case "GET /api/v1/port-override" -> override.get(OVERRIDE_KEY)
          .map(o -> new Result(200, print(o)))
          .orElse(new Result(404, error("no port override in force")));
      case "PUT /api/v1/port-override" -> putOverride(body);
      case "DELETE /api/v1/port-override" -> override.unpublish(OVERRIDE_KEY)
          ? new Result(200, json(Map.of("removed", true)), true)
          : new Result(404, error("no port override in force"));
      default -> new Result(404, error("no such endpoint: " + method + " " + path));
    };
  }

  /**
   * Without parameters, the applied config as a graph; with {@code agent=NAME}, that agent's
   * current (or, with {@code which=intended}, intended) dependency graph.
   */
  private Result graph(Map<String, List<String>> params) {
    String name = first(params, "agent");
    if (name == null) {
      return new Result(200, json(Map.of("dot", ConfigGraph.dot(agent.appliedConfig()))));
    }
    String which = Optional.ofNullable(first(params, "which")).orElse("current");
    if (!which.equals("current") && !which.equals("intended")) {
      return new Result(400, error("which must be current or intended, not '" + which + "'"));
    }
    return agent.agentGraphs(name)
        .map(g -> new Result(200, json(Map.of("agent", name, "which", which,
            "dot", which.equals("current") ? g.getCurrentDot() : g.getIntendedDot(), "atMs", g.getAtMs()))))
        .orElse(new Result(404, error("no graph published by agent '" + name + "' (known: "
            + String.join(", ", agent.agentHealth().keySet()) + ")")));
  }

  private static String first(Map<String, List<String>> params, String name) {
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private Result putOverride(byte[] body) {
    DeviceConfig.Builder builder = DeviceConfig.newBuilder();
    try {
      JsonFormat.parser().merge(new String(body, StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return new Result(400, error("malformed port override: " + e.getMessage()));
    }
    DeviceConfig requested = builder.build();
    List<String> problems = OverrideCheck.problems(requested, agent.appliedConfig());
    if (!problems.isEmpty()) {
      return new Result(403, error(String.join("; ", problems)));
    }
    override.publish(OVERRIDE_KEY, requested);
    log.info("local port override set: ports {}", requested.getSystemAdaptersList().stream().map(SystemAdapter::getName).toList());
    return new Result(200, json(Map.of("applied", true)), true);
  }

  /** The status as JSON: zedagent's status plus what only the local API knows. */
  private String statusJson() {
    @SuppressWarnings("unchecked")
    Map<String, Object> json = new LinkedHashMap<>(JSON.convertValue(agent.status(), Map.class));
    json.put("portOverride", override.get(OVERRIDE_KEY).isPresent());
    json.put("certFingerprint", agent.certFingerprint());
    Map<String, Object> agents = new LinkedHashMap<>();
    agent.agentHealth().forEach((name, health) -> {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("state", health.getState().name().replace("STATE_", "").toLowerCase(Locale.ROOT));
      a.put("reconcileRuns", health.getReconcileRuns());
      a.put("lastReconcileMs", health.getLastReconcileMs());
      a.put("lastError", health.getLastError());
      a.put("waitingFor", health.getWaitingForList());
      a.put("failedItems", health.getFailedItemsList().stream()
          .map(f -> f.getType() + "/" + f.getName() + ": " + f.getError()).toList());
      agents.put(name, a);
    });
    json.put("agents", agents);
    Map<String, Object> reported = new LinkedHashMap<>();
    agent.reportedInfo().forEach((id, info) -> {
      try {
        reported.put(id, JSON.readTree(JsonFormat.printer().print(info)));
      } catch (IOException e) {
        reported.put(id, "unprintable: " + e.getMessage());
      }
    });
    json.put("reported", reported);
    Map<String, Object> metrics = new LinkedHashMap<>();
    agent.reportedMetrics().forEach((id, m) -> {
      try {
        metrics.put(id, JSON.readTree(JsonFormat.printer().print(m)));
      } catch (IOException e) {
        metrics.put(id, "unprintable: " + e.getMessage());
      }
    });
    json.put("metrics", metrics);
    return json(json);
  }

  /** Constant-time comparison of digests: neither content nor length of the token leaks. */
  private boolean authorized(HttpRequest request) {
    String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    byte[] presented = sha256(header.substring("Bearer ".length()).getBytes(StandardCharsets.UTF_8));
    return MessageDigest.isEqual(presented, tokenDigest);
  }

  private void audit(String client, String method, String path, int status, byte[] body) {
    audit(client, method, path, status, body, false);
  }

  private void audit(String client, String method, String path, int status, byte[] body, boolean changed) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("time", clock.instant().toString());
    entry.put("client", client);
    entry.put("method", method);
    entry.put("path", path);
    entry.put("status", status);
    entry.put("bodySha256", body == null || body.length == 0 ? "" : HexFormat.of().formatHex(sha256(body)));
    audit.append(json(entry), changed);
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
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
