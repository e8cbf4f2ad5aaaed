package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.config.v1.DeviceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every config under {@code examples/} parses and passes the validator as the controller would
 * see it (the controller fills in the device UUID): the docs and the demo cannot ship a config
 * the controller refuses. No example files at all fails the run too (a parameterized test
 * without arguments is an error).
 */
class ExampleConfigsTest {
  private static final String DEVICE = "6f0a1c2e-0000-4000-8000-0000000000aa";

  static Stream<Path> examples() throws IOException {
    // Surefire runs in the module directory and sets basedir; the examples are next to it.
    Path examples = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent().resolve("examples");
    assertThat(examples).isDirectory();
    try (Stream<Path> files = Files.list(examples)) {
      List<Path> configs = files.filter(ExampleConfigsTest::isConfig).sorted().toList();
      return configs.stream();
    }
  }

  private static boolean isConfig(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void theExampleParsesAndIsValid(Path example) throws Exception {
    ConfigCodec.Format format =
        example.toString().endsWith(".json") ? ConfigCodec.Format.JSON : ConfigCodec.Format.YAML;
    DeviceConfig config = ConfigCodec.parseDeviceConfig(Files.readString(example), format);
    if (config.getId().getUuid().isEmpty()) {
      config = config.toBuilder().setId(config.getId().toBuilder().setUuid(DEVICE)).build();
    }

    assertThat(new ConfigValidator().validate(config)).as(example.getFileName().toString()).isEmpty();
    assertThat(config.getNetworkInstancesCount() + config.getSystemAdaptersCount())
        .as("an example that configures nothing proves nothing").isPositive();
  }
}
