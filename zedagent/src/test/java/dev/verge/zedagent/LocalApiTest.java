package dev.verge.zedagent;

import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;

import dev.verge.testkit.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalApiTest {
  private static final String TOKEN = "local-api-token-0123456789";
  private static final DeviceConfig CONTROLLER_CONFIG =
      DeviceConfig.newBuilder()
          .addSystemAdapters(SystemAdapter.newBuilder().setName("eth0").setUplink(true).setAllowLocalModifications(true))
          .addSystemAdapters(SystemAdapter.newBuilder().setName("eth1").setUplink(true))
          .build();

  @TempDir Path state;
  private PubSub bus;
  private LocalApi api;
  private dev.verge.pubsub.Publication<DeviceConfig> override;
  private final HttpClient http = HttpClient.newHttpClient();

  private final LocalApi.DeviceView device =
      new LocalApi.DeviceView() {
        @Override
        public ZedAgent.AgentStatus status() {
          return new ZedAgent.AgentStatus("SN-1", "uuid-1", true, "abc", 2, "", List.of(), "", 0);
        }

        @Override
        public String certFingerprint() {
          return "f00d";
        }

        @Override
        public DeviceConfig appliedConfig() {
          return CONTROLLER_CONFIG;
        }
      };

  @BeforeEach
  void start() throws Exception {
    bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(state.resolve("bus")));
    api = start(LocalApiLimits.DEFAULT.withRates(100, 100, 100, 100));
  }

  private LocalApi start(LocalApiLimits limits) throws Exception {
    if (override == null) {
      override = bus.publish(ZedagentTopics.LOCAL_PORT_OVERRIDE, dev.verge.pubsub.Durability.PERSISTENT);
    }
    return LocalApi.start(loopback(), TOKEN, device, override, state, limits, Clock.systemUTC());
  }

  private void restart(LocalApiLimits limits) throws Exception {
    api.close();
    api = start(limits);
  }

  @AfterEach
  void stop() {
    api.close();
    bus.close();
  }

  private static InetSocketAddress loopback() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.address().getPort() + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestsWithoutTheRightTokenAreRefused() throws Exception {
    assertThat(call("GET", "/api/v1/status", null, null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/api/v1/status", "wrong", null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/api/v1/status", TOKEN + "x", null).statusCode()).isEqualTo(401);
  }

  @Test
  void statusReportsTheAgentAndTheDeviceCertificate() throws Exception {
    HttpResponse<String> response = call("GET", "/api/v1/status", TOKEN, null);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body())
        .contains("\"serial\":\"SN-1\"", "\"appliedHash\":\"abc\"", "\"connected\":true", "\"certFingerprint\":\"f00d\"",
            "\"portOverride\":false");
  }

  @Test
  void anOverrideOfAnAllowedPortReachesTheBusAndCanBeRemoved() throws Exception {
    try (AgentLoop loop = AgentLoop.create("nim-test")) {
      Subscription<DeviceConfig> overrides =
          bus.subscribe(ZedagentTopics.LOCAL_PORT_OVERRIDE, loop, new SubscriptionHandler<>() {});
      String body = "{\"systemAdapters\":[{\"name\":\"eth0\",\"uplink\":true,\"cost\":5}]}";

      HttpResponse<String> put = call("PUT", "/api/v1/port-override", TOKEN, body);

      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      org.awaitility.Awaitility.await().until(() -> overrides.get(LocalApi.OVERRIDE_KEY).isPresent());
      assertThat(overrides.get(LocalApi.OVERRIDE_KEY).orElseThrow().getSystemAdapters(0).getCost()).isEqualTo(5);
      assertThat(call("GET", "/api/v1/port-override", TOKEN, null).body()).contains("eth0");
      assertThat(call("DELETE", "/api/v1/port-override", TOKEN, null).statusCode()).isEqualTo(200);
      org.awaitility.Awaitility.await().until(() -> overrides.get(LocalApi.OVERRIDE_KEY).isEmpty());
      assertThat(call("DELETE", "/api/v1/port-override", TOKEN, null).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void anOverrideOfAPortTheControllerLockedIsForbiddenWithItsName() throws Exception {
    HttpResponse<String> response =
        call("PUT", "/api/v1/port-override", TOKEN, "{\"systemAdapters\":[{\"name\":\"eth1\"}]}");
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.body()).contains("system_adapters[0]: port 'eth1' does not allow local modifications");
  }

  @Test
  void malformedOverridesAreRejectedWithTheParsersReason() throws Exception {
    HttpResponse<String> response = call("PUT", "/api/v1/port-override", TOKEN, "{\"systemAdapters\":[{\"nme\":\"eth0\"}]}");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("malformed port override").contains("nme");
  }

  @Test
  void everyRequestIsAuditedWithoutTheToken() throws Exception {
    call("GET", "/api/v1/status", "wrong", null);
    call("GET", "/api/v1/status", TOKEN, null);
    List<String> lines = Files.readAllLines(state.resolve("local-api-audit.log"));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains("\"status\":401", "\"path\":\"/api/v1/status\"", "\"client\":\"127.0.0.1\"");
    assertThat(lines.get(1)).contains("\"status\":200");
    assertThat(String.join("\n", lines)).doesNotContain(TOKEN);
  }

  @Test
  void aClientOverItsRateGetsTooManyRequests() throws Exception {
    api.close();
    ManualClock clock = new ManualClock();
    api = LocalApi.start(loopback(), TOKEN, device, override, state,
        LocalApiLimits.DEFAULT.withRates(100, 100, 3, 1.0), clock);

    List<Integer> codes = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      codes.add(call("GET", "/api/v1/status", TOKEN, null).statusCode());
    }
    HttpResponse<String> refused = call("GET", "/api/v1/status", TOKEN, null);
    clock.advance(Duration.ofSeconds(1));
    HttpResponse<String> afterASecond = call("GET", "/api/v1/status", TOKEN, null);

    assertThat(codes).containsExactly(200, 200, 200, 429);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Retry-After")).contains("1");
    assertThat(afterASecond.statusCode()).as("one request back after a second").isEqualTo(200);
    assertThat(Files.readAllLines(state.resolve("local-api-audit.log")))
        .filteredOn(line -> line.contains("\"status\":429")).hasSize(2);
  }

  @Test
  void theRateLimiterGivesEachClientItsOwnBudgetAndRefillsIt() {
    ManualClock clock = new ManualClock();
    LocalApi.RateLimiter limiter = new LocalApi.RateLimiter(3, 1.0, clock);
    assertThat(List.of(limiter.allow("a"), limiter.allow("a"), limiter.allow("a"), limiter.allow("a")))
        .containsExactly(true, true, true, false);
    assertThat(limiter.allow("b")).as("other clients have their own budget").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(limiter.allow("a")).as("one token back after a second").isTrue();
    assertThat(limiter.allow("a")).isFalse();
  }

  // ---------------------------------------------------------------- hostile clients

  /** A raw connection that sends what the test says, and reads what comes back. */
  private java.net.Socket raw(String text) throws Exception {
    var socket = new java.net.Socket(InetAddress.getLoopbackAddress(), api.address().getPort());
    socket.setSoTimeout(5_000);
    socket.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return socket;
  }

  /** Reads until the server closes (or the 5 s read timeout fails the test). */
  private static String readUntilClosed(java.net.Socket socket) throws Exception {
    return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void aSlowClientDoesNotDelayTheOperatorAndIsCutOffAtTheDeadline() throws Exception {
    restart(LocalApiLimits.DEFAULT.withRequestTimeout(Duration.ofMillis(700)));
    // Half a request: headers promise a body that never comes.
    try (var slow = raw("PUT /api/v1/port-override HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
        + "\r\nContent-Length: 5000\r\n\r\n{\"systemAdapters\"")) {
      long start = System.nanoTime();
      HttpResponse<String> status = call("GET", "/api/v1/status", TOKEN, null);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(status.statusCode()).isEqualTo(200);
      assertThat(tookMs).as("the operator's request while a slow client holds a connection").isLessThan(1000);

      long cut = System.nanoTime();
      assertThat(readUntilClosed(slow)).as("nothing answered to a request that never arrived whole").isEmpty();
      long cutMs = (System.nanoTime() - cut) / 1_000_000;
      assertThat(cutMs).as("closed at the deadline").isLessThan(3000);
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAtTheDeadline() throws Exception {
    restart(LocalApiLimits.DEFAULT.withRequestTimeout(Duration.ofMillis(500)));
    try (var silent = raw("")) {
      assertThat(readUntilClosed(silent)).isEmpty();
    }
  }

  @Test
  void theTokenIsCheckedOnTheHeadersBeforeAnyBodyIsRead() throws Exception {
    // A wrong token with a huge body announced and none sent: refused at once, not after a read.
    try (var guess = raw("PUT /api/v1/port-override HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token"
        + "\r\nContent-Length: 900000\r\n\r\n")) {
      String response = readUntilClosed(guess);
      assertThat(response).startsWith("HTTP/1.1 401").contains("missing or wrong bearer token");
    }
    assertThat(Files.readAllLines(state.resolve("local-api-audit.log")))
        .singleElement().asString().contains("\"status\":401", "\"method\":\"PUT\"");
  }

  @Test
  void failedAuthenticationsAreLimitedWithoutLockingOutTheTokenHolder() throws Exception {
    restart(LocalApiLimits.DEFAULT.withRates(3, 0.001, 20, 5));
    List<Integer> refused = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      refused.add(call("GET", "/api/v1/status", "guess-" + i, null).statusCode());
    }
    assertThat(refused).containsExactly(401, 401, 401, 429, 429, 429);
    assertThat(call("GET", "/api/v1/status", TOKEN, null).statusCode())
        .as("the operator with the token is not locked out by the guesses").isEqualTo(200);
  }

  @Test
  void aWrongMethodIs405NamingTheAllowedOnes() throws Exception {
    HttpResponse<String> response = call("POST", "/api/v1/status", TOKEN, "{}");
    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.body()).contains("POST is not allowed on /api/v1/status (allowed: GET)");
    assertThat(call("GET", "/api/v1/nothing", TOKEN, null).statusCode()).isEqualTo(404);
  }

  @Test
  void connectionsAreBoundedAndAFreedSlotServesTheOperator() throws Exception {
    restart(LocalApiLimits.DEFAULT.withMaxConnections(3).withRequestTimeout(Duration.ofMillis(600)));
    List<java.net.Socket> hogs = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        hogs.add(raw(""));
      }
      try (var extra = raw("")) {
        assertThat(readUntilClosed(extra)).as("a connection over the bound is closed at once").isEmpty();
      }
      for (var hog : hogs) {
        assertThat(readUntilClosed(hog)).isEmpty(); // the deadline frees them
      }
      assertThat(call("GET", "/api/v1/status", TOKEN, null).statusCode()).isEqualTo(200);
    } finally {
      for (var hog : hogs) {
        hog.close();
      }
    }
  }

  @Test
  void theAuditLogRotatesAtItsSize() throws Exception {
    restart(LocalApiLimits.DEFAULT.withRates(1000, 1000, 1000, 1000).withAudit(2048, 2));
    for (int i = 0; i < 60; i++) {
      call("GET", "/api/v1/status", "wrong", null);
    }
    Path current = state.resolve("local-api-audit.log");
    assertThat(Files.size(current)).isLessThanOrEqualTo(2048);
    assertThat(state.resolve("local-api-audit.log.1")).exists();
    assertThat(state.resolve("local-api-audit.log.2")).exists();
    assertThat(state.resolve("local-api-audit.log.3")).doesNotExist();
    long lines = Files.readAllLines(current).size() + Files.readAllLines(state.resolve("local-api-audit.log.1")).size()
        + Files.readAllLines(state.resolve("local-api-audit.log.2")).size();
    assertThat(lines).as("the newest entries are kept").isBetween(20L, 60L);
  }
}
