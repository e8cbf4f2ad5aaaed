package dev.verge.zedagent;

import dev.verge.proto.common.v1.ErrorInfo;
import java.util.List;

/** A pushed config the device refuses; it keeps running its last good config. */
public final class ConfigRejectedException extends Exception {
  private final String configHash;
  private final transient List<ErrorInfo> errors;

  public ConfigRejectedException(String configHash, List<ErrorInfo> errors) {
    super(
        "config "
            + (configHash.isEmpty() ? "(no hash)" : configHash)
            + " rejected: "
            + String.join("; ", errors.stream().map(ErrorInfo::getDescription).toList()));
    this.configHash = configHash;
    this.errors = List.copyOf(errors);
  }

  static ConfigRejectedException of(String configHash, String reason, String description) {
    return new ConfigRejectedException(
        configHash,
        List.of(
            ErrorInfo.newBuilder()
                .setReason(reason)
                .setDescription(description)
                .setTimestampMs(System.currentTimeMillis())
                .build()));
  }

  public String configHash() {
    return configHash;
  }

  public List<ErrorInfo> errors() {
    return errors;
  }
}
