package dev.verge.controller.internal;

import dev.verge.proto.Certificates;
import dev.verge.proto.Certificates.Identity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's three identities, created on first start in {@code <data>/pki}: a CA, a TLS
 * server certificate issued by it (reissued when asked for names it lacks), and a separate config
 * signing key whose certificate the CA also issues. Private keys are PKCS#8 PEM, mode 0600. The CA
 * also issues operators' client certificates for remote administration ({@link #issueOperator}).
 */
public final class ControllerKeys {
  private static final Logger LOG = LoggerFactory.getLogger(ControllerKeys.class);
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final Duration LEAF_VALIDITY = Duration.ofDays(825);
  /** The subject OU that marks an operator's certificate; the controller's own and devices' lack it. */
  public static final String OPERATOR_UNIT = "verge operator";

  private final Identity ca;
  private final Identity server;
  private final Identity signing;

  private ControllerKeys(Identity ca, Identity server, Identity signing) {
    this.ca = ca;
    this.server = server;
    this.signing = signing;
  }

  public static ControllerKeys loadOrCreate(Path dataDir, Collection<String> serverNames) throws IOException {
    Path pki = dataDir.resolve("pki");
    Files.createDirectories(pki);
    Identity ca = load(pki, "ca");
    if (ca == null) {
      ca = Certificates.selfSigned("verge controller CA", true, CA_VALIDITY);
      store(pki, "ca", ca);
      LOG.info("created controller CA {}", ca.fingerprint());
    }
    Set<String> wanted = new TreeSet<>(List.of("localhost", "127.0.0.1", "::1"));
    wanted.addAll(serverNames);
    Identity server = load(pki, "server");
    if (server == null || !altNames(server.certificate()).containsAll(wanted)) {
      server = Certificates.issue(ca, "verge controller", wanted, LEAF_VALIDITY);
      store(pki, "server", server);
      LOG.info("issued controller TLS certificate for {}", wanted);
    }
    Identity signing = load(pki, "signing");
    if (signing == null) {
      signing = Certificates.issue(ca, "verge config signing", List.of(), LEAF_VALIDITY);
      store(pki, "signing", signing);
      LOG.info("created config signing key {}", signing.fingerprint());
    }
    return new ControllerKeys(ca, server, signing);
  }

  /** The CA of an existing data directory, without creating anything; empty before the first start. */
  public static java.util.Optional<Identity> existingCa(Path dataDir) throws IOException {
    return java.util.Optional.ofNullable(load(dataDir.resolve("pki"), "ca"));
  }

  /** A client certificate for remote administration: {@code CN=name, OU=}{@link #OPERATOR_UNIT}, clientAuth only. */
  public static Identity issueOperator(Identity ca, String name) {
    return Certificates.issueClient(ca, name, OPERATOR_UNIT, LEAF_VALIDITY);
  }

  public Identity ca() {
    return ca;
  }

  public Identity server() {
    return server;
  }

  public Identity signing() {
    return signing;
  }

  private static Set<String> altNames(X509Certificate certificate) {
    Set<String> names = new TreeSet<>();
    try {
      if (certificate.getSubjectAlternativeNames() != null) {
        certificate.getSubjectAlternativeNames().forEach(entry -> names.add(String.valueOf(entry.get(1))));
      }
    } catch (CertificateParsingException e) {
      return Set.of();
    }
    // The JDK prints IPv6 literals in full form; count "::1" as present when 0:0:...:1 is.
    if (names.contains("0:0:0:0:0:0:0:1")) {
      names.add("::1");
    }
    return names;
  }

  private static Identity load(Path pki, String name) throws IOException {
    return Certificates.load(pki.resolve(name + ".crt"), pki.resolve(name + ".key")).orElse(null);
  }

  private static void store(Path pki, String name, Identity identity) throws IOException {
    Certificates.store(identity, pki.resolve(name + ".crt"), pki.resolve(name + ".key"));
  }
}
