package dev.verge.controller.internal;

import com.google.protobuf.ByteString;
import dev.verge.proto.Certificates;
import dev.verge.proto.Certificates.Identity;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.SignedConfigVerifier;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.security.GeneralSecurityException;
import java.security.Signature;

/** Wraps a config in the signed envelope devices verify (see SignedConfig in controller.proto). */
public final class ConfigSigner {
  private final Identity signing;
  private final String signerHash;

  public ConfigSigner(Identity signing) {
    this.signing = signing;
    this.signerHash = Certificates.fingerprint(signing.certificate());
  }

  public SignedConfig sign(String deviceUuid, long version, DeviceConfig config) {
    byte[] payload = ConfigDigest.canonicalBytes(config);
    try {
      Signature signer = Signature.getInstance(SignedConfigVerifier.SIGNATURE_ALGORITHM);
      signer.initSign(signing.keys().getPrivate());
      signer.update(payload);
      return SignedConfig.newBuilder()
          .setPayload(ByteString.copyFrom(payload))
          .setContentHash(ConfigDigest.sha256Hex(payload))
          .setSignature(ByteString.copyFrom(signer.sign()))
          .setSignerCertHash(signerHash)
          .setVersion(version)
          .setDeviceUuid(deviceUuid)
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the controller's signing key", e);
    }
  }

  public String signerHash() {
    return signerHash;
  }
}
