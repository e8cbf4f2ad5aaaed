package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceIdentityTest {
  @TempDir Path state;

  @Test
  void theKeyIsCreatedOnceReadableByItsOwnerOnlyAndReloaded() throws Exception {
    Path dir = state.resolve("identity");
    DeviceIdentity created = DeviceIdentity.loadOrCreate(dir, "SN-1");

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("device.key"))))
        .as("the device's private key").isEqualTo("rw-------");
    assertThat(Files.readString(dir.resolve("device.crt"))).startsWith("-----BEGIN CERTIFICATE-----");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("device.key", "device.crt");
    }

    DeviceIdentity reloaded = DeviceIdentity.loadOrCreate(dir, "SN-1");
    assertThat(reloaded.fingerprint()).isEqualTo(created.fingerprint());
    assertThat(reloaded.identity().keys().getPrivate()).isEqualTo(created.identity().keys().getPrivate());
  }
}
