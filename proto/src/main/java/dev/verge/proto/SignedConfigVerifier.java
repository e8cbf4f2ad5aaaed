package dev.verge.proto;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device-side checks of a {@link SignedConfig}, in the order the API defines them: content
 * hash, known signer, ECDSA signature, payload parses. Trusted signers are certificates the device
 * already checked against the controller CA it pinned.
 */
public final class SignedConfigVerifier {
  /** Why a signed config was refused; {@link #reason()} is UPPER_SNAKE_CASE for reports. */
  public static final class RejectedConfigException extends Exception {
    private final String reason;

    RejectedConfigException(String reason, String message) {
      super(message);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  public static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
  private final Map<String, X509Certificate> signersByHash = new ConcurrentHashMap<>();

  public SignedConfigVerifier(Iterable<X509Certificate> trustedSigners) {
    trustedSigners.forEach(this::trust);
  }

  public void trust(X509Certificate signer) {
    try {
      signersByHash.put(ConfigDigest.sha256Hex(signer.getEncoded()), signer);
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("signer certificate cannot be encoded", e);
    }
  }

  public DeviceConfig verify(SignedConfig signed) throws RejectedConfigException {
    String actualHash = ConfigDigest.sha256Hex(signed.getPayload().toByteArray());
    if (!actualHash.equals(signed.getContentHash())) {
      throw new RejectedConfigException("HASH_MISMATCH",
          "payload hashes to " + actualHash + " but the envelope says " + signed.getContentHash());
    }
    X509Certificate signer = signersByHash.get(signed.getSignerCertHash());
    if (signer == null) {
      throw new RejectedConfigException("UNKNOWN_SIGNER", "no trusted signing certificate " + signed.getSignerCertHash());
    }
    try {
      Signature verifier = Signature.getInstance(SIGNATURE_ALGORITHM);
      verifier.initVerify(signer.getPublicKey());
      verifier.update(signed.getPayload().toByteArray());
      if (!verifier.verify(signed.getSignature().toByteArray())) {
        throw new RejectedConfigException("BAD_SIGNATURE", "the signature does not match the payload");
      }
    } catch (GeneralSecurityException e) {
      throw new RejectedConfigException("BAD_SIGNATURE", "the signature cannot be checked: " + e.getMessage());
    }
    try {
      return DeviceConfig.parseFrom(signed.getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new RejectedConfigException("MALFORMED_PAYLOAD", "payload is not a DeviceConfig: " + e.getMessage());
    }
  }
}
