package dev.verge.proto;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
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

  /**
   * Trusts a signing certificate the controller presented, if the controller CA pinned on the
   * device issued it and it is valid now: rotation needs no device change, a rogue key is refused.
   *
   * @return the certificate's hash, as {@link SignedConfig#getSignerCertHash()} names it
   * @throws GeneralSecurityException saying why the certificate is not trusted
   */
  public String trustIssuedBy(byte[] signingCertDer, X509Certificate pinnedCa) throws GeneralSecurityException {
    X509Certificate signer = Certificates.fromDer(signingCertDer);
    try {
      signer.verify(pinnedCa.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException("signing certificate " + signer.getSubjectX500Principal().getName()
          + " is not issued by the controller CA " + pinnedCa.getSubjectX500Principal().getName() + " pinned on this device");
    }
    signer.checkValidity();
    trust(signer);
    return Certificates.fingerprint(signer);
  }

  public void trust(X509Certificate signer) {
    try {
      signersByHash.put(ConfigDigest.sha256Hex(signer.getEncoded()), signer);
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("signer certificate cannot be encoded", e);
    }
  }

  public DeviceConfig verify(SignedConfig signed) throws RejectedConfigException {
    return verify(signed, "");
  }

  /**
   * Also checks the config is addressed to {@code expectedDevice} (unless empty) and carries no
   * field this build does not know (a newer controller's field would be silently ignored).
   */
  public DeviceConfig verify(SignedConfig signed, String expectedDevice) throws RejectedConfigException {
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
    if (!expectedDevice.isEmpty() && !signed.getDeviceUuid().equals(expectedDevice)) {
      throw new RejectedConfigException("WRONG_DEVICE",
          "config is for device " + signed.getDeviceUuid() + ", this is " + expectedDevice);
    }
    DeviceConfig config;
    try {
      config = DeviceConfig.parseFrom(signed.getPayload());
    } catch (InvalidProtocolBufferException e) {
      throw new RejectedConfigException("MALFORMED_PAYLOAD", "payload is not a DeviceConfig: " + e.getMessage());
    }
    String unknown = unknownFieldPath(config, "");
    if (unknown != null) {
      throw new RejectedConfigException("MALFORMED_PAYLOAD", "config has a field this device does not know at " + unknown);
    }
    return config;
  }

  /** Path of the first field, at any depth, that this build's schema does not know; null if none. */
  static String unknownFieldPath(Message message, String path) {
    String prefix = path.isEmpty() ? "" : path + ".";
    if (!message.getUnknownFields().asMap().isEmpty()) {
      return prefix + "#" + message.getUnknownFields().asMap().keySet().iterator().next();
    }
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      List<?> values = field.isRepeated() ? (List<?>) entry.getValue() : List.of(entry.getValue());
      for (int i = 0; i < values.size(); i++) {
        String at = prefix + field.getName() + (field.isRepeated() ? "[" + i + "]" : "");
        String found = unknownFieldPath((Message) values.get(i), at);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }
}
