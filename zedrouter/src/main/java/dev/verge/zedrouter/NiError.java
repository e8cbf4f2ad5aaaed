package dev.verge.zedrouter;

import dev.verge.proto.common.v1.EntityRef;
import dev.verge.proto.common.v1.EntityType;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.common.v1.Severity;
import java.util.Objects;

/**
 * Why zedrouter refuses a network instance or an app's network: a machine-readable reason, the
 * config field at fault and a sentence naming the values involved.
 *
 * @param reason UPPER_SNAKE_CASE, e.g. {@code SUBNET_OVERLAP}
 * @param fieldPath the offending field of the object, e.g. {@code ip.subnet}
 */
public record NiError(String reason, String fieldPath, String description) {
  public NiError {
    Objects.requireNonNull(reason);
    Objects.requireNonNull(fieldPath);
    Objects.requireNonNull(description);
  }

  /** The error as the controller gets it, about one entity. */
  public ErrorInfo toErrorInfo(EntityType type, String id, long nowMs) {
    return ErrorInfo.newBuilder()
        .setReason(reason)
        .setFieldPath(fieldPath)
        .setDescription(description)
        .setSeverity(Severity.SEVERITY_ERROR)
        .setTimestampMs(nowMs)
        .addEntities(EntityRef.newBuilder().setType(type).setId(id))
        .build();
  }

  @Override
  public String toString() {
    return reason + " at " + fieldPath + ": " + description;
  }
}
