package dev.verge.zedagent;

import dev.verge.proto.Certificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The device's own identity: its serial and an ECDSA P-256 key with a self-signed certificate,
 * created once and kept in the state directory ({@code device.crt}, {@code device.key} 0600).
 * The controller pins the certificate's fingerprint at onboarding; every later call is
 * authenticated by it (mutual TLS).
 */
public record DeviceIdentity(String serial, Certificates.Identity identity) {
  private static final Duration VALIDITY = Duration.ofDays(3650);

  /** Loads the identity from {@code dir}, creating it on first start. */
  public static DeviceIdentity loadOrCreate(Path dir, String serial) {
    Path cert = dir.resolve("device.crt");
    Path key = dir.resolve("device.key");
    try {
      var stored = Certificates.load(cert, key);
      if (stored.isPresent()) {
        return new DeviceIdentity(serial, stored.get());
      }
      var created = Certificates.selfSigned("verge device " + serial.replaceAll("[^A-Za-z0-9._-]", "_"), false, VALIDITY);
      Certificates.store(created, cert, key);
      return new DeviceIdentity(serial, created);
    } catch (IOException e) {
      throw new UncheckedIOException("device identity in " + dir, e);
    }
  }

  /** Lower-case hex SHA-256 of the certificate's DER encoding (what the controller pins). */
  public String fingerprint() {
    return identity.fingerprint();
  }

  @Override
  public String toString() {
    return "DeviceIdentity[serial=" + serial + ", fingerprint=" + fingerprint() + "]";
  }
}
