package dev.verge.zedagent;

import dev.verge.proto.Certificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
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
      Files.createDirectories(dir);
      if (Files.exists(cert) && Files.exists(key)) {
        X509Certificate certificate = Certificates.readCertificate(cert);
        return new DeviceIdentity(
            serial, new Certificates.Identity(new KeyPair(certificate.getPublicKey(), Certificates.readPrivateKey(key)), certificate));
      }
      Certificates.Identity created = Certificates.selfSigned("verge device " + serial.replaceAll("[^A-Za-z0-9._-]", "_"), false, VALIDITY);
      write(key, Certificates.toPem(created.keys().getPrivate()), true);
      write(cert, Certificates.toPem(created.certificate()), false);
      return new DeviceIdentity(serial, created);
    } catch (IOException e) {
      throw new UncheckedIOException("device identity in " + dir, e);
    }
  }

  private static void write(Path file, String pem, boolean secret) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
    if (secret) {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
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
