package dev.verge.controller;

import dev.verge.proto.Certificates;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.verge.controller.internal.ConfigSigner;
import dev.verge.controller.internal.ControllerKeys;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.SignedConfigVerifier;
import dev.verge.proto.SignedConfigVerifier.RejectedConfigException;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSignerTest {
  @TempDir Path dataDir;

  private final DeviceConfig config = DeviceConfig.newBuilder().setControllerEpoch(7).build();

  private static String reason(SignedConfigVerifier verifier, SignedConfig signed) {
    try {
      verifier.verify(signed);
    } catch (RejectedConfigException e) {
      return e.reason();
    }
    throw new AssertionError("expected a rejection");
  }

  @Test
  void signedConfigVerifiesWithTheSigningCertificate() throws Exception {
    ControllerKeys keys = ControllerKeys.loadOrCreate(dataDir, List.of());
    SignedConfig signed = new ConfigSigner(keys.signing()).sign("dev-1", 3, config);

    assertThat(new SignedConfigVerifier(List.of(keys.signing().certificate())).verify(signed)).isEqualTo(config);
    assertThat(signed.getContentHash()).isEqualTo(ConfigDigest.contentHash(config));
    assertThat(signed.getVersion()).isEqualTo(3);
    keys.signing().certificate().verify(keys.ca().certificate().getPublicKey());
  }

  @Test
  void tamperedUnknownOrForgedConfigsAreRejectedWithTheirReason() throws Exception {
    ControllerKeys keys = ControllerKeys.loadOrCreate(dataDir, List.of());
    SignedConfig signed = new ConfigSigner(keys.signing()).sign("dev-1", 1, config);
    SignedConfigVerifier verifier = new SignedConfigVerifier(List.of(keys.signing().certificate()));
    ByteString otherPayload = DeviceConfig.newBuilder().setControllerEpoch(8).build().toByteString();

    assertThat(reason(verifier, signed.toBuilder().setPayload(otherPayload).build())).isEqualTo("HASH_MISMATCH");
    assertThat(reason(verifier, signed.toBuilder().setPayload(otherPayload)
        .setContentHash(ConfigDigest.sha256Hex(otherPayload.toByteArray())).build())).isEqualTo("BAD_SIGNATURE");
    Certificates.Identity impostor = Certificates.selfSigned("impostor", false, Duration.ofDays(1));
    SignedConfig forged = new ConfigSigner(impostor).sign("dev-1", 1, config);
    assertThat(reason(verifier, forged)).isEqualTo("UNKNOWN_SIGNER");
    assertThat(reason(new SignedConfigVerifier(List.of()), signed)).isEqualTo("UNKNOWN_SIGNER");
  }

  @Test
  void keysAreCreatedOnceAndReloaded() throws Exception {
    ControllerKeys first = ControllerKeys.loadOrCreate(dataDir, List.of("controller.example"));
    ControllerKeys again = ControllerKeys.loadOrCreate(dataDir, List.of("controller.example"));
    ControllerKeys widened = ControllerKeys.loadOrCreate(dataDir, List.of("198.51.100.1"));

    assertThat(again.ca().fingerprint()).isEqualTo(first.ca().fingerprint());
    assertThat(again.signing().fingerprint()).isEqualTo(first.signing().fingerprint());
    assertThat(again.server().fingerprint()).isEqualTo(first.server().fingerprint());
    assertThat(widened.server().fingerprint()).isNotEqualTo(first.server().fingerprint());
    assertThat(widened.ca().fingerprint()).isEqualTo(first.ca().fingerprint());
    for (String key : List.of("ca.key", "server.key", "signing.key")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("pki").resolve(key))))
          .as(key + ", also after the server key was reissued").isEqualTo("rw-------");
    }
    assertThatThrownBy(() -> first.server().certificate().verify(Certificates.selfSigned("x", true, Duration.ofDays(1)).keys().getPublic()))
        .isInstanceOf(java.security.GeneralSecurityException.class);
  }
}
