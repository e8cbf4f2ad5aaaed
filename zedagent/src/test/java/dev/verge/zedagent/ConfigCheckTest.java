package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConfigCheckTest {
  private static final String DEVICE = "11111111-2222-4333-8444-555555555555";

  private TestPki pki;
  private ConfigCheck check;
  private DeviceConfig config;

  @BeforeEach
  void trustTheControllersSigner() throws Exception {
    pki = TestPki.create("test-controller");
    check = new ConfigCheck(pki.ca().certificate());
    assertThat(check.trustSigner(pki.signer().certificate().getEncoded())).isEmpty();
    DeviceConfig example = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
    config = example.toBuilder().setId(example.getId().toBuilder().setUuid(DEVICE)).build();
  }

  @Test
  void aValidConfigSignedByTheTrustedSignerForThisDeviceIsAccepted() throws Exception {
    SignedConfig signed = pki.sign(config, DEVICE, 3);
    ConfigCheck.Checked checked = check.check(signed, DEVICE);
    assertThat(checked.config()).isEqualTo(config);
    assertThat(checked.hash()).isEqualTo(signed.getContentHash()).hasSize(64);
    assertThat(checked.version()).isEqualTo(3);
  }

  @Test
  void aPayloadChangedAfterSigningIsRejectedForItsHash() throws Exception {
    SignedConfig signed = pki.sign(config, DEVICE, 3);
    byte[] payload = signed.getPayload().toByteArray();
    payload[payload.length - 1] ^= 1;
    assertRejected(signed.toBuilder().setPayload(ByteString.copyFrom(payload)).build(), "HASH_MISMATCH", "hashes to");
  }

  @Test
  void aTamperedConfigWithARecomputedHashFailsTheSignature() throws Exception {
    DeviceConfig evil = config.toBuilder().clearNetworkInstances().clearApps().build();
    SignedConfig tampered =
        pki.sign(config, DEVICE, 3).toBuilder()
            .setPayload(evil.toByteString())
            .setContentHash(ConfigDigest.sha256Hex(evil.toByteArray()))
            .build();
    assertRejected(tampered, "BAD_SIGNATURE", "does not match");
  }

  @Test
  void aSignerNotIssuedByThePinnedCaIsRefusedAndItsConfigsCarryTheReason() throws Exception {
    TestPki rogue = TestPki.create("rogue");
    assertThat(check.trustSigner(rogue.signer().certificate().getEncoded())).contains("not issued by the controller CA");
    assertRejected(rogue.sign(config, DEVICE, 3), "UNKNOWN_SIGNER", "not issued by the controller CA");
  }

  @Test
  void aConfigForAnotherDeviceIsRejected() throws Exception {
    assertRejected(pki.sign(config, "99999999-0000-4000-8000-000000000000", 3), "WRONG_DEVICE", "is for device");
  }

  @Test
  void aConfigWithFieldsThisDeviceDoesNotKnowIsRejectedWithTheirLocation() throws Exception {
    NetworkInstanceConfig future =
        config.getNetworkInstances(0).toBuilder()
            .setUnknownFields(UnknownFieldSet.newBuilder()
                .addField(999, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                .build())
            .build();
    assertRejected(pki.sign(config.toBuilder().setNetworkInstances(0, future).build(), DEVICE, 4),
        "MALFORMED_PAYLOAD", "network_instances[0].#999");
  }

  @Test
  void aSignedButInvalidConfigIsRejectedWithTheFieldPath() throws Exception {
    NetworkInstanceConfig second = config.getNetworkInstances(0).toBuilder()
        .setId(config.getNetworkInstances(0).getId().toBuilder().setUuid("22222222-0000-4000-8000-000000000000"))
        .build();
    DeviceConfig overlapping = config.toBuilder().addNetworkInstances(second).build();
    assertThatThrownBy(() -> check.check(pki.sign(overlapping, DEVICE, 5), DEVICE))
        .isInstanceOfSatisfying(ConfigRejectedException.class, e -> assertThat(e.errors())
            .extracting(ErrorInfo::getReason).contains("OVERLAPPING_SUBNET"));
  }

  private void assertRejected(SignedConfig signed, String reason, String detail) {
    assertThatThrownBy(() -> check.check(signed, DEVICE))
        .isInstanceOfSatisfying(
            ConfigRejectedException.class,
            e -> {
              assertThat(e.errors()).extracting(ErrorInfo::getReason).containsExactly(reason);
              assertThat(e.errors().get(0).getDescription()).contains(detail);
              assertThat(e.configHash()).isEqualTo(signed.getContentHash());
            });
  }
}
