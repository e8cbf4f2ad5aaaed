package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code verge node graph} asks the node's local API for, against a recording stand-in of that API. */
class NodeGraphCommandTest {
  @TempDir Path dir;
  private HttpServer api;
  private final List<String> asked = new CopyOnWriteArrayList<>();
  private Path token;

  @BeforeEach
  void serve() throws Exception {
    token = dir.resolve("token");
    Files.writeString(token, "graph-command-token-0123456789\n");
    api = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    api.createContext("/api/v1/graph", exchange -> {
      String query = String.valueOf(exchange.getRequestURI().getQuery());
      asked.add(query + " " + exchange.getRequestHeaders().getFirst("Authorization"));
      byte[] body = ("{\"dot\":\"digraph G { label = \\\"" + query + "\\\" }\\n\"}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (var out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    api.start();
  }

  @AfterEach
  void stop() {
    api.stop(0);
  }

  private String graph(String... options) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      List<String> args = new java.util.ArrayList<>(List.of("node", "graph", "--local-api",
          "127.0.0.1:" + api.getAddress().getPort(), "--token-file", token.toString()));
      args.addAll(List.of(options));
      assertThat(VergeCommand.commandLine().execute(args.toArray(String[]::new))).isZero();
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void currentIsTheDefaultAndIntendedAsksForTheIntendedState() {
    assertThat(graph("--agent", "zedrouter")).contains("label = \"agent=zedrouter&which=current\"");
    assertThat(graph("--agent", "zedrouter", "--current")).contains("label = \"agent=zedrouter&which=current\"");
    assertThat(graph("--agent", "zedrouter", "--intended")).contains("label = \"agent=zedrouter&which=intended\"");
    assertThat(graph()).contains("label = \"null\""); // the config's graph: no query
    assertThat(asked).allSatisfy(line -> assertThat(line).endsWith("Bearer graph-command-token-0123456789"));
  }

  @Test
  void svgIsRenderedByGraphvizIntoTheOutputFile() throws Exception {
    Path svg = dir.resolve("g.svg");
    assertThat(graph("--agent", "nim", "--intended", "--format", "svg", "-o", svg.toString())).contains("wrote " + svg);
    assertThat(Files.readString(svg)).contains("<svg").contains("agent=nim&amp;which=intended");
  }
}
