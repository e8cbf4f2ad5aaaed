package dev.verge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.ConfigCodec;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every input under {@code fuzz/<target>/} (found by {@code ./verge fuzz}, or a known-hard seed)
 * replayed through its target's check: it must end in the refusal the API promises, not a crash
 * or a hang. The local API inputs run against {@code verge fuzz local-api}'s own server.
 */
class FuzzRegressionTest {
  @TempDir Path state;

  private static List<Path> inputs(String target) throws IOException, URISyntaxException {
    Path dir = Path.of(FuzzRegressionTest.class.getResource("/fuzz/" + target).toURI());
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> !f.toString().endsWith(".txt")).sorted().toList();
    }
  }

  @TestFactory
  Stream<DynamicTest> configInputsAreRefusedOrAccepted() throws Exception {
    List<Path> inputs = inputs("config");
    assertThat(inputs).isNotEmpty();
    return inputs.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Fuzz.checkConfig(text, file.toString().endsWith(".json") ? ConfigCodec.Format.JSON : ConfigCodec.Format.YAML);
    }));
  }

  @TestFactory
  Stream<DynamicTest> localApiInputsAreAnsweredAndTheOperatorStillServed() throws Exception {
    List<Path> inputs = inputs("local-api");
    assertThat(inputs).isNotEmpty();
    Fuzz.LocalApiTarget api = Fuzz.LocalApiTarget.start(state);
    return Stream.concat(
        inputs.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
          api.exchange(Files.readString(file, StandardCharsets.ISO_8859_1));
          api.checkOperatorServed();
        })),
        Stream.of(DynamicTest.dynamicTest("close", api::close)));
  }
}
