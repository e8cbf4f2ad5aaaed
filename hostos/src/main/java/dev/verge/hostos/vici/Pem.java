package dev.verge.hostos.vici;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * PEM certificates and private keys turned into the DER that charon's {@code load-cert} and
 * {@code load-key} take. What is not usable is refused with an {@link IllegalArgumentException}
 * that says why, for a validator to put in status.
 */
public final class Pem {
  private Pem() {}

  /** A private key as {@code load-key} takes it: RSA as PKCS#1, ECDSA as PKCS#8. */
  public record PrivateKey(ViciClient.KeyType type, Der der) {
    @Override
    public String toString() {
      return "PrivateKey[" + type + "]"; // never the key
    }
  }

  /** The one X.509 certificate in {@code pem}. */
  public static X509Certificate certificate(String pem) {
    if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new IllegalArgumentException("no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
    }
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      var certificates = factory.generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
      if (certificates.size() != 1) {
        throw new IllegalArgumentException("expected one certificate, found " + certificates.size());
      }
      return (X509Certificate) certificates.iterator().next();
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a valid X.509 certificate: " + e.getMessage());
    }
  }

  public static Der der(X509Certificate certificate) {
    try {
      return new Der(certificate.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalArgumentException("certificate cannot be encoded: " + e.getMessage());
    }
  }

  /** The unencrypted RSA or EC private key in {@code pem} (PKCS#8, PKCS#1 or SEC1). */
  public static PrivateKey privateKey(String pem) {
    Object parsed;
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      parsed = parser.readObject();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("not a readable PEM private key: " + e.getMessage());
    }
    if (parsed instanceof PEMEncryptedKeyPair || parsed instanceof PKCS8EncryptedPrivateKeyInfo) {
      throw new IllegalArgumentException("the private key is encrypted: give it unencrypted (the device has no passphrase)");
    }
    PrivateKeyInfo info;
    if (parsed instanceof PEMKeyPair pair) {
      info = pair.getPrivateKeyInfo();
    } else if (parsed instanceof PrivateKeyInfo i) {
      info = i;
    } else if (parsed == null) {
      throw new IllegalArgumentException("no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
    } else {
      throw new IllegalArgumentException("a PEM " + parsed.getClass().getSimpleName() + " where a private key was expected");
    }
    try {
      var algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
      if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
        return new PrivateKey(ViciClient.KeyType.RSA, new Der(info.parsePrivateKey().toASN1Primitive().getEncoded()));
      }
      if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
        return new PrivateKey(ViciClient.KeyType.ECDSA, new Der(info.getEncoded()));
      }
      throw new IllegalArgumentException("a private key of algorithm " + algorithm + ": only RSA and ECDSA are supported");
    } catch (IOException e) {
      throw new IllegalArgumentException("a malformed private key: " + e.getMessage());
    }
  }

  /** Whether {@code key} is the private half of the certificate's public key (RSA: the same modulus). */
  public static boolean matches(X509Certificate certificate, PrivateKey key) {
    if (key.type() != ViciClient.KeyType.RSA || !(certificate.getPublicKey() instanceof RSAPublicKey rsa)) {
      return key.type() == ViciClient.KeyType.ECDSA
          && "EC".equals(certificate.getPublicKey().getAlgorithm()); // the curve's point is charon's to check
    }
    BigInteger modulus = RSAPrivateKey.getInstance(key.der().bytes()).getModulus();
    return modulus.equals(rsa.getModulus());
  }
}
