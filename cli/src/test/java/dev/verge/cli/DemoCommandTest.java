package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCommandTest {
  @TempDir Path dir;

  @Test
  void theLocalApiTokenIsRandomAndReadableByItsOwnerOnly() throws Exception {
    Path first = dir.resolve("first.token");
    Path second = dir.resolve("second.token");
    DemoCommand.writeLocalApiToken(first);
    DemoCommand.writeLocalApiToken(second);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(first))).isEqualTo("rw-------");
    assertThat(Files.readString(first).strip()).matches("demo-[0-9a-f]{48}");
    assertThat(Files.readString(second)).isNotEqualTo(Files.readString(first));
  }
}
