package dev.verge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.ConfigFormatException;
import dev.verge.proto.ConfigValidator;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.topics.ZedagentTopics;
import dev.verge.zedagent.LocalApi;
import dev.verge.zedagent.LocalApiLimits;
import dev.verge.zedagent.ZedAgent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./verge fuzz config|local-api --minutes N}: feeds generated inputs (jqwik arbitraries:
 * mutations of the example config, random values at real field paths, raw HTTP requests) to the
 * config codec + validator or to a running local API, and records every input that crashes
 * (an exception other than the refusal the API promises), hangs, or exhausts memory, under
 * {@code --findings} (one file per input, with what happened). Exit 1 when something was found.
 * Inputs found are replayed by {@code FuzzRegressionTest}: copy them to
 * {@code bench/src/test/resources/fuzz/<target>/}.
 */
@Command(name = "verge fuzz", mixinStandardHelpOptions = true, description = "Fuzz the config codec + validator or the local API.")
public final class Fuzz implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration PER_INPUT = Duration.ofSeconds(10);
  private static final String TOKEN = "fuzz-token-0123456789abcdef";

  @Parameters(index = "0", paramLabel = "TARGET", description = "config or local-api")
  String target;

  @Option(names = "--minutes", defaultValue = "1", description = "How long to run (default ${DEFAULT-VALUE}).")
  double minutes;

  @Option(names = "--findings", defaultValue = "fuzz-findings", description = "Where inputs that failed are written (default ${DEFAULT-VALUE}).")
  Path findings;

  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "fuzz-input");
    t.setDaemon(true);
    return t;
  });
  private int found;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Fuzz()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long deadline = System.nanoTime() + (long) (minutes * 60e9);
    long inputs = switch (target) {
      case "config" -> fuzzConfig(deadline);
      case "local-api" -> fuzzLocalApi(deadline);
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown target '" + target + "' (config or local-api)");
    };
    System.out.printf(Locale.ROOT, "fuzz %s: %d inputs in %.1f min, %d found%s%n", target, inputs, minutes, found,
        found == 0 ? "" : " (see " + findings.toAbsolutePath() + ")");
    worker.shutdownNow();
    return found == 0 ? 0 : 1;
  }

  // ---------------------------------------------------------------- config codec + validator

  /** Parses, validates, prints and hashes: only a ConfigFormatException is an allowed outcome. */
  public static void checkConfig(String text, ConfigCodec.Format format) {
    DeviceConfig config;
    try {
      config = ConfigCodec.parseDeviceConfig(text, format);
    } catch (ConfigFormatException refused) {
      if (refused.violations().isEmpty()) {
        throw new IllegalStateException("refused without saying why");
      }
      return;
    }
    new ConfigValidator().validate(config);
    ConfigCodec.toYaml(config);
    ConfigDigest.contentHash(config);
  }

  private long fuzzConfig(long deadline) throws Exception {
    String yaml = ConfigExamples.deviceConfigYaml();
    String json = ConfigCodec.toJson(ConfigCodec.parseDeviceConfig(yaml, ConfigCodec.Format.YAML));
    Iterator<String> mutatedYaml = textMutations(yaml).sampleStream().iterator();
    Iterator<String> mutatedJson = textMutations(json).sampleStream().iterator();
    Iterator<String> valueSwaps = valueSwaps(json).sampleStream().iterator();
    long count = 0;
    while (System.nanoTime() < deadline) {
      int kind = (int) (count % 3);
      String input = kind == 0 ? mutatedYaml.next() : kind == 1 ? mutatedJson.next() : valueSwaps.next();
      ConfigCodec.Format format = kind == 0 ? ConfigCodec.Format.YAML : ConfigCodec.Format.JSON;
      run(input, format == ConfigCodec.Format.YAML ? "yaml" : "json", () -> {
        checkConfig(input, format);
        return null;
      });
      count++;
    }
    return count;
  }

  /** One to four edits of {@code base}: a span deleted and text inserted, from YAML/JSON's own alphabet. */
  static Arbitrary<String> textMutations(String base) {
    Arbitrary<String> inserts = Arbitraries.oneOf(
        Arbitraries.strings().withChars(" \n\t:{}[],\"'-0123456789abcdefxyz.\\/#&*!|>%@`~eE+").ofMaxLength(24),
        Arbitraries.of("1e999999999", "-1", "18446744073709551616", "null", "true", "~", "&a", "*a", "<<: *a", "!!binary x",
            "\"\\u0000\"", "NaN", "0x10", "999.1.1.1", "::", "\u00e9", "\ud83d\ude00", "- - - -", "[[[[[[[[", "{{{{{{{{"));
    Arbitrary<int[]> edit = Combinators.combine(Arbitraries.integers().between(0, base.length()),
        Arbitraries.integers().between(0, 40)).as((at, delete) -> new int[] {at, delete});
    return Combinators.combine(edit.list().ofMinSize(1).ofMaxSize(4), inserts.list().ofSize(4)).as((edits, texts) -> {
      String text = base;
      for (int i = 0; i < edits.size(); i++) {
        int at = Math.min(edits.get(i)[0], text.length());
        text = text.substring(0, at) + texts.get(i) + text.substring(Math.min(text.length(), at + edits.get(i)[1]));
      }
      return text;
    });
  }

  /** The example's JSON with one leaf at a real field path replaced by an awkward value. */
  static Arbitrary<String> valueSwaps(String json) throws IOException {
    JsonNode tree = JSON.readTree(json);
    List<String> leaves = new ArrayList<>();
    collectLeaves(tree, "", leaves);
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    Arbitrary<JsonNode> values = Arbitraries.oneOf(
        Arbitraries.longs().map(nodes::numberNode),
        Arbitraries.doubles().map(nodes::numberNode),
        Arbitraries.strings().ofMaxLength(300).map(nodes::textNode),
        Arbitraries.of("1e999999999", "-0", "4095", "65536", "255.255.255.255", "0.0.0.0", "ff02::1", "10.0.0.0/33",
            "eth0/1", "a".repeat(16), "x\ny", "", " ").map(nodes::textNode),
        Arbitraries.just(nodes.nullNode()),
        Arbitraries.just(nodes.arrayNode()),
        Arbitraries.just(nodes.objectNode()),
        Arbitraries.just((JsonNode) nodes.booleanNode(true)));
    return Combinators.combine(Arbitraries.of(leaves), values).as((path, value) -> {
      JsonNode copy = tree.deepCopy();
      replace(copy, path, value);
      return copy.toString();
    });
  }

  private static void collectLeaves(JsonNode node, String path, List<String> out) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> collectLeaves(e.getValue(), path + "/" + e.getKey(), out));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        collectLeaves(node.get(i), path + "/" + i, out);
      }
    } else {
      out.add(path);
    }
  }

  private static void replace(JsonNode root, String path, JsonNode value) {
    int slash = path.lastIndexOf('/');
    JsonNode parent = root.at(path.substring(0, slash));
    String last = path.substring(slash + 1);
    if (parent instanceof ObjectNode object) {
      object.set(last, value);
    } else if (parent instanceof ArrayNode array) {
      array.set(Integer.parseInt(last), value);
    }
  }

  // ---------------------------------------------------------------- local API

  /**
   * Raw requests over TCP to a running local API. Each must be answered or closed within the API's
   * own idle limit; every 100 requests the operator's authenticated status request must succeed
   * within 1 s.
   */
  private long fuzzLocalApi(long deadline) throws Exception {
    Path state = Files.createTempDirectory("verge-fuzz-localapi");
    try (LocalApiTarget api = LocalApiTarget.start(state)) {
      Iterator<String> requests = httpRequests().sampleStream().iterator();
      long count = 0;
      while (System.nanoTime() < deadline) {
        String request = requests.next();
        run(request, "http", () -> {
          api.exchange(request);
          return null;
        });
        if (++count % 100 == 0) {
          run("(operator status request after " + count + " fuzz requests)", "http", () -> {
            api.checkOperatorServed();
            return null;
          });
        }
      }
      return count;
    }
  }

  /** A local API served for fuzzing: the device view of a node with one locally modifiable port. */
  public static final class LocalApiTarget implements AutoCloseable {
    private final PubSub bus;
    private final LocalApi api;
    private final LocalApiLimits limits = LocalApiLimits.DEFAULT.withRates(1_000_000, 1_000_000, 1_000_000, 1_000_000);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private LocalApiTarget(Path state) throws IOException {
      DeviceConfig running = DeviceConfig.newBuilder()
          .addSystemAdapters(SystemAdapter.newBuilder().setName("eth0").setUplink(true).setAllowLocalModifications(true))
          .build();
      LocalApi.DeviceView device = new LocalApi.DeviceView() {
        @Override
        public ZedAgent.AgentStatus status() {
          return new ZedAgent.AgentStatus("SN-FUZZ", "uuid-fuzz", true, "abc", 1, "", List.of(), "", 0);
        }

        @Override
        public String certFingerprint() {
          return "f00d";
        }

        @Override
        public DeviceConfig appliedConfig() {
          return running;
        }
      };
      bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(state.resolve("bus")));
      api = LocalApi.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), TOKEN, device,
          bus.publish(ZedagentTopics.LOCAL_PORT_OVERRIDE, Durability.PERSISTENT), state, limits, Clock.systemUTC());
    }

    public static LocalApiTarget start(Path state) throws IOException {
      return new LocalApiTarget(state);
    }

    /** The request is answered, or the connection closed, within the API's idle limit (plus slack). */
    public void exchange(String request) throws IOException {
      Fuzz.exchange(api.address(), request, limits.idleTimeout().plusSeconds(5));
    }

    /** The operator's authenticated status request succeeds within 1 s. */
    public void checkOperatorServed() throws IOException, InterruptedException {
      long start = System.nanoTime();
      HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.address().getPort() + "/api/v1/status"))
          .timeout(Duration.ofSeconds(1)).header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      long millis = (System.nanoTime() - start) / 1_000_000;
      if (answer.statusCode() != 200 || millis > 1000) {
        throw new IllegalStateException("the operator's status request got " + answer.statusCode() + " after " + millis + " ms");
      }
    }

    @Override
    public void close() {
      api.close();
      bus.close();
    }
  }

  /** Sends one raw request and reads until the server answers and closes, or the limit passes. */
  public static void exchange(InetSocketAddress address, String request, Duration limit) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(address, 1000);
      socket.setSoTimeout((int) limit.toMillis());
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        socket.shutdownOutput();
      } catch (IOException closedEarly) {
        return; // the server may refuse and close before reading all: an answer too
      }
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          if (head.size() < 64) {
            head.write(buffer, 0, Math.min(n, 64 - head.size()));
          }
        }
        String statusLine = head.toString(StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
        if (statusLine.matches("HTTP/1\\.[01] 5.*")) {
          // bad input must get a 4xx: a 5xx means the server failed on it
          throw new IllegalStateException("server error for a client's input: " + statusLine);
        }
      } catch (java.net.SocketTimeoutException e) {
        throw new IllegalStateException("no answer and no close within " + limit.toMillis() + " ms");
      } catch (IOException reset) {
        // a reset is a close
      }
    }
  }

  static Arbitrary<String> httpRequests() {
    Arbitrary<String> methods = Arbitraries.oneOf(Arbitraries.of("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "", "G\u00e9T"),
        Arbitraries.strings().alpha().ofMaxLength(12));
    Arbitrary<String> paths = Arbitraries.oneOf(Arbitraries.of("/api/v1/status", "/api/v1/port-override", "/api/v1/graph?agent=nim",
            "/api/v1/graph?agent=../../etc", "/", "*", "/api/v1/status?x=%zz", "//api/v1/status", "/api/v1/port-override/../status"),
        Arbitraries.strings().withChars("/abcz%?=&#.0123456789").ofMaxLength(40).map(s -> "/" + s));
    Arbitrary<String> auth = Arbitraries.oneOf(Arbitraries.just("Authorization: Bearer " + TOKEN + "\r\n"), Arbitraries.just(""),
        Arbitraries.strings().ofMaxLength(60).map(s -> "Authorization: Bearer " + s + "\r\n"),
        Arbitraries.just("Authorization: Basic Zm9vOmJhcg==\r\n"));
    Arbitrary<String> bodies = Arbitraries.oneOf(
        textMutations("{\"systemAdapters\":[{\"name\":\"eth0\",\"uplink\":true,\"cost\":5}]}"),
        Arbitraries.strings().ofMaxLength(200),
        Arbitraries.just(""));
    Arbitrary<String> lengthHeader = Arbitraries.oneOf(Arbitraries.just("exact"), Arbitraries.just("none"), Arbitraries.just("chunked"),
        Arbitraries.integers().between(-5, 5_000_000).map(String::valueOf));
    Arbitrary<String> extraHeaders = Arbitraries.strings().withChars("abcXY-: \r\n\t\u0000").ofMaxLength(60);
    return Combinators.combine(methods, paths, auth, bodies, lengthHeader, extraHeaders).as((method, path, token, body, length, extra) -> {
      StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n").append(token);
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      switch (length) {
        case "exact" -> request.append("Content-Length: ").append(bytes.length).append("\r\n");
        case "none" -> { }
        case "chunked" -> request.append("Transfer-Encoding: chunked\r\n");
        default -> request.append("Content-Length: ").append(length).append("\r\n");
      }
      request.append(extra).append("\r\n\r\n");
      String text = new String(bytes, StandardCharsets.ISO_8859_1);
      if (length.equals("chunked")) {
        request.append(Integer.toHexString(bytes.length)).append("\r\n").append(text).append("\r\n0\r\n\r\n");
      } else {
        request.append(text);
      }
      return request.toString();
    });
  }

  // ---------------------------------------------------------------- bookkeeping

  private void run(String input, String extension, Callable<Void> check) throws IOException {
    Future<Void> future = worker.submit(check);
    String outcome;
    try {
      future.get(PER_INPUT.toMillis() + 20_000, TimeUnit.MILLISECONDS);
      return;
    } catch (TimeoutException e) {
      future.cancel(true);
      outcome = "hang: no result within " + (PER_INPUT.toMillis() + 20_000) + " ms";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (java.util.concurrent.ExecutionException e) {
      StringWriter trace = new StringWriter();
      e.getCause().printStackTrace(new PrintWriter(trace));
      outcome = trace.toString();
    }
    found++;
    Files.createDirectories(findings.resolve(target));
    String name = ConfigDigest.sha256Hex(input.getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    Files.writeString(findings.resolve(target).resolve(name + "." + extension), input);
    Files.writeString(findings.resolve(target).resolve(name + ".txt"), outcome);
    System.out.println("found: " + findings.resolve(target).resolve(name + "." + extension) + ": " + outcome.lines().findFirst().orElse(""));
  }
}
