package dev.verge.zedagent;

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
    api = LocalApi.start(loopback(), TOKEN, device, bus, state, new LocalApi.RateLimiter(100, 100, Clock.systemUTC()));
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
          bus.subscribe(DeviceTopics.LOCAL_PORT_OVERRIDE, loop, new SubscriptionHandler<>() {});
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
    api = LocalApi.start(loopback(), TOKEN, device, bus, state, new LocalApi.RateLimiter(3, 1.0, clock));

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
}
