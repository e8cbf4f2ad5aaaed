package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
  @TempDir Path dir;

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  @Test
  void aSecretIsWrittenOwnerOnlyAlsoWhenItReplacesAWorldReadableFile() throws Exception {
    Path key = dir.resolve("keys/a.key");
    AtomicFiles.writeSecret(key, "first".getBytes(StandardCharsets.US_ASCII));
    assertThat(mode(key)).isEqualTo("rw-------");

    Path replaced = dir.resolve("b.key");
    Files.writeString(replaced, "old");
    Files.setPosixFilePermissions(replaced, PosixFilePermissions.fromString("rw-r--r--"));
    AtomicFiles.writeSecret(replaced, "new".getBytes(StandardCharsets.US_ASCII));

    assertThat(mode(replaced)).isEqualTo("rw-------");
    assertThat(Files.readString(replaced)).isEqualTo("new");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).as("no temp file left")
          .containsExactlyInAnyOrder("keys", "b.key");
    }
  }

  @Test
  void anOrdinaryFileKeepsTheUsualPermissions() throws Exception {
    Path config = dir.resolve("config.json");
    AtomicFiles.write(config, "{}".getBytes(StandardCharsets.US_ASCII));
    assertThat(mode(config)).startsWith("rw-").isNotEqualTo("rw-------");
  }
}
