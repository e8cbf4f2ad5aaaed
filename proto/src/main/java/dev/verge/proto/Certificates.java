package dev.verge.proto;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * ECDSA P-256 keys and X.509 certificates (BouncyCastle), PEM files, and the JSSE key/trust
 * managers gRPC's TLS credentials take. Used for the controller's CA, TLS and signing identities
 * and for device identities (a device presents a self-signed certificate).
 */
public final class Certificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Certificates() {}

  /** A key pair and its certificate. */
  public record Identity(KeyPair keys, X509Certificate certificate) {
    public String fingerprint() {
      return Certificates.fingerprint(certificate);
    }
  }

  public static KeyPair newEcKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is required by every JDK", e);
    }
  }

  /** An RSA key pair, for peers that only do RSA (a strongSwan charon without its openssl plugin). */
  public static KeyPair newRsaKeyPair(int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(bits, RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("RSA is required by every JDK", e);
    }
  }

  /** A self-signed certificate; a CA certificate when {@code ca}, else an end-entity one. */
  public static Identity selfSigned(String commonName, boolean ca, Duration validity) {
    return selfSigned(commonName, ca, validity, newEcKeyPair());
  }

  /** A self-signed certificate of the given keys. */
  public static Identity selfSigned(String commonName, boolean ca, Duration validity, KeyPair keys) {
    return new Identity(keys, build(keys, new X500Name("CN=" + commonName), null, keys.getPrivate(), List.of(), ca, false, validity));
  }

  /** An end-entity certificate issued by {@code issuer}, with DNS or IP subject alternative names. */
  public static Identity issue(Identity issuer, String commonName, Collection<String> altNames, Duration validity) {
    return issue(issuer, commonName, altNames, validity, newEcKeyPair());
  }

  /** An end-entity certificate of the given keys issued by {@code issuer}. */
  public static Identity issue(Identity issuer, String commonName, Collection<String> altNames, Duration validity,
      KeyPair keys) {
    return new Identity(keys, build(keys, new X500Name("CN=" + commonName), issuer.certificate(), issuer.keys().getPrivate(),
        altNames, false, false, validity));
  }

  /**
   * A TLS client certificate issued by {@code issuer}: subject {@code CN=commonName, OU=unit},
   * extended key usage clientAuth only, so it cannot serve as a server certificate.
   */
  public static Identity issueClient(Identity issuer, String commonName, String unit, Duration validity) {
    KeyPair keys = newEcKeyPair();
    X500Name subject = new X500NameBuilder().addRDN(BCStyle.CN, commonName).addRDN(BCStyle.OU, unit).build();
    return new Identity(keys, build(keys, subject, issuer.certificate(), issuer.keys().getPrivate(), List.of(), false, true, validity));
  }

  private static X509Certificate build(KeyPair keys, X500Name subject, X509Certificate issuer, PrivateKey signer,
      Collection<String> altNames, boolean ca, boolean clientOnly, Duration validity) {
    try {
      Instant now = Instant.now();
      X500Name issuerName = issuer == null ? subject : new X500Name(issuer.getSubjectX500Principal().getName());
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(64, RANDOM).add(BigInteger.ONE),
          Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(ca
          ? KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature
          : KeyUsage.digitalSignature | KeyUsage.keyAgreement));
      if (clientOnly) {
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      }
      if (!altNames.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String name : altNames) {
          names.add(name.matches("[0-9.]+|.*:.*") ? new GeneralName(GeneralName.iPAddress, name) : new GeneralName(GeneralName.dNSName, name));
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder(
          "RSA".equals(signer.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA").build(signer));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot build certificate for " + subject, e);
    }
  }

  /** Lower-case hex sha256 of the certificate's DER: how devices and signers are named. */
  public static String fingerprint(X509Certificate certificate) {
    try {
      return ConfigDigest.sha256Hex(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded", e);
    }
  }

  public static X509Certificate fromDer(byte[] der) {
    try {
      return new JcaX509CertificateConverter().getCertificate(new X509CertificateHolder(der));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not a DER X.509 certificate", e);
    }
  }

  public static byte[] der(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded", e);
    }
  }

  public static String toPem(Object certificateOrKey) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(certificateOrKey instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : certificateOrKey);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write PEM", e);
    }
    return text.toString();
  }

  public static X509Certificate readCertificate(Path pem) throws IOException {
    Object object = readPem(pem);
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new IOException(pem + " does not hold a certificate");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IOException(pem + ": " + e.getMessage(), e);
    }
  }

  public static PrivateKey readPrivateKey(Path pem) throws IOException {
    Object object = readPem(pem);
    if (!(object instanceof PrivateKeyInfo info)) {
      throw new IOException(pem + " does not hold a PKCS#8 private key");
    }
    return new JcaPEMKeyConverter().getPrivateKey(info);
  }

  private static Object readPem(Path pem) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(Files.readString(pem, StandardCharsets.US_ASCII)))) {
      return parser.readObject();
    }
  }

  /** Loads an identity stored by {@link #store}; empty when either file is missing. */
  public static Optional<Identity> load(Path certificatePem, Path keyPem) throws IOException {
    if (!Files.exists(certificatePem) || !Files.exists(keyPem)) {
      return Optional.empty();
    }
    X509Certificate certificate = readCertificate(certificatePem);
    return Optional.of(new Identity(new KeyPair(certificate.getPublicKey(), readPrivateKey(keyPem)), certificate));
  }

  /** Stores an identity as PEM, crash-safely; the private key is readable by its owner only. */
  public static void store(Identity identity, Path certificatePem, Path keyPem) throws IOException {
    AtomicFiles.writeSecret(keyPem, toPem(identity.keys().getPrivate()).getBytes(StandardCharsets.US_ASCII));
    AtomicFiles.write(certificatePem, toPem(identity.certificate()).getBytes(StandardCharsets.US_ASCII));
  }

  /** Key managers presenting {@code identity} (with the rest of its chain) in TLS handshakes. */
  public static KeyManager[] keyManagers(Identity identity, X509Certificate... chainAbove) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      X509Certificate[] chain = new X509Certificate[chainAbove.length + 1];
      chain[0] = identity.certificate();
      System.arraycopy(chainAbove, 0, chain, 1, chainAbove.length);
      char[] password = new char[0];
      store.setKeyEntry("identity", identity.keys().getPrivate(), password, chain);
      KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, password);
      return factory.getKeyManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build key managers", e);
    }
  }

  /** Trust managers that accept exactly the chains ending in {@code roots}. */
  public static TrustManager[] trustManagers(X509Certificate... roots) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      for (int i = 0; i < roots.length; i++) {
        store.setCertificateEntry("root" + i, roots[i]);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return factory.getTrustManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build trust managers", e);
    }
  }
}
