package dev.verge.controller;

import dev.verge.controller.internal.ControllerKeys;
import dev.verge.proto.AtomicFiles;
import dev.verge.proto.Certificates;
import dev.verge.proto.Certificates.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Operator client certificates for remote administration ({@code --admin-listen}), issued by the
 * controller CA in the data directory. Reading the CA key needs the directory's owner, so only the
 * operator who may use the admin socket can hand out remote access.
 */
public final class OperatorCertificates {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** The files written: the operator's certificate and key (0600) and the CA that verifies the controller. */
  public record Issued(Path certificate, Path key, Path ca, String fingerprint) {}

  private OperatorCertificates() {}

  /**
   * Issues {@code CN=name} for an operator into {@code outDir} as {@code name.crt}, {@code name.key}
   * and {@code ca.crt}. Works whether or not the controller runs (it only reads the CA).
   *
   * @throws IllegalArgumentException for a bad name, a data directory without a CA, or files already there
   */
  public static Issued issue(Path dataDir, String name, Path outDir) throws IOException {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("the operator name must be 1-64 letters, digits, '.', '_' or '-' starting with a "
          + "letter or digit, not '" + name + "'");
    }
    Identity ca = ControllerKeys.existingCa(dataDir).orElseThrow(() -> new IllegalArgumentException(
        "no controller CA in " + dataDir.resolve("pki") + " (start the controller once on that data directory)"));
    Issued issued = new Issued(outDir.resolve(name + ".crt"), outDir.resolve(name + ".key"), outDir.resolve("ca.crt"), "");
    for (Path file : new Path[] {issued.certificate(), issued.key()}) {
      if (Files.exists(file)) {
        throw new IllegalArgumentException(file + " already exists; remove it or choose another --out");
      }
    }
    Files.createDirectories(outDir);
    Identity operator = ControllerKeys.issueOperator(ca, name);
    Certificates.store(operator, issued.certificate(), issued.key());
    AtomicFiles.write(issued.ca(), Certificates.toPem(ca.certificate()).getBytes(StandardCharsets.US_ASCII));
    return new Issued(issued.certificate(), issued.key(), issued.ca(), operator.fingerprint());
  }
}
