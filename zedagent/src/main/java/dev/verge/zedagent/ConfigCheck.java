package dev.verge.zedagent;

import dev.verge.proto.ConfigValidator;
import dev.verge.proto.ConfigViolation;
import dev.verge.proto.SignedConfigVerifier;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.SignedConfig;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Everything a pushed config must pass before the device acts on it: the envelope (hash, signer
 * issued by the pinned controller CA, signature, addressed to this device, no unknown fields),
 * then the same semantic validation the controller ran at apply time — a controller bug or an
 * older controller must not be able to push what this device would misapply.
 */
final class ConfigCheck {
  private final X509Certificate controllerCa;
  private final SignedConfigVerifier envelope = new SignedConfigVerifier(List.of());
  private final ConfigValidator validator = new ConfigValidator();
  private String signerProblem = "";

  ConfigCheck(X509Certificate controllerCa) {
    this.controllerCa = controllerCa;
  }

  /** A config that passed every check. */
  record Checked(DeviceConfig config, String hash, long version) {}

  /**
   * Trusts the controller's signing certificate if the pinned CA issued it; otherwise remembers
   * why not, so that configs it signs are rejected with that reason.
   *
   * @return empty when trusted, else the reason
   */
  String trustSigner(byte[] signingCertDer) {
    try {
      envelope.trustIssuedBy(signingCertDer, controllerCa);
      signerProblem = "";
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      signerProblem = e.getMessage();
    }
    return signerProblem;
  }

  Checked check(SignedConfig signed, String deviceUuid) throws ConfigRejectedException {
    String hash = signed.getContentHash();
    DeviceConfig config;
    try {
      config = envelope.verify(signed, deviceUuid);
    } catch (SignedConfigVerifier.RejectedConfigException e) {
      String why = e.reason().equals("UNKNOWN_SIGNER") && !signerProblem.isEmpty()
          ? e.getMessage() + ": " + signerProblem
          : e.getMessage();
      throw ConfigRejectedException.of(hash, e.reason(), why);
    }
    List<ConfigViolation> violations = validator.validate(config);
    if (!violations.isEmpty()) {
      long now = System.currentTimeMillis();
      throw new ConfigRejectedException(
          hash,
          violations.stream()
              .map(v -> ErrorInfo.newBuilder().setReason(v.reason()).setFieldPath(v.fieldPath())
                  .setDescription(v.toString()).setTimestampMs(now).build())
              .toList());
    }
    if (!config.getId().getUuid().isEmpty() && !deviceUuid.isEmpty() && !config.getId().getUuid().equals(deviceUuid)) {
      // the envelope's device UUID is not signed; the payload's is
      throw ConfigRejectedException.of(hash, "WRONG_DEVICE", "config is for device " + config.getId().getUuid() + ", this is " + deviceUuid);
    }
    return new Checked(config, hash, signed.getVersion());
  }

  /**
   * Why {@code next} would roll the device back from {@code running}, if it would: configs are
   * ordered by the signed (controller epoch, config timestamp). A lower epoch is always older; a
   * higher one means the controller lost its state and starts a new order, so its timestamps
   * count from there. Equal keys are allowed (an operator who never sets timestamps).
   */
  static java.util.Optional<String> rollback(DeviceConfig running, DeviceConfig next) {
    if (next.getControllerEpoch() < running.getControllerEpoch()) {
      return java.util.Optional.of("controller epoch " + next.getControllerEpoch() + " is older than the running config's "
          + running.getControllerEpoch());
    }
    if (next.getControllerEpoch() == running.getControllerEpoch() && next.getConfigTimestampMs() < running.getConfigTimestampMs()) {
      return java.util.Optional.of("config timestamp " + next.getConfigTimestampMs() + " is older than the running config's "
          + running.getConfigTimestampMs() + " in the same controller epoch " + running.getControllerEpoch());
    }
    return java.util.Optional.empty();
  }
}
