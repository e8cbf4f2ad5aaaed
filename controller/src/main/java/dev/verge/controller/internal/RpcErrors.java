package dev.verge.controller.internal;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.verge.proto.ConfigViolation;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Map;

/** google.rpc.Status errors with ErrorInfo (and BadRequest for bad input), sent via StatusProto. */
public final class RpcErrors {
  public static final String DOMAIN = "verge.dev";

  private RpcErrors() {}

  public static StatusRuntimeException error(Status.Code code, String reason, String message, Map<String, String> metadata) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.value())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN).putAllMetadata(metadata).build()))
        .build());
  }

  public static StatusRuntimeException error(Status.Code code, String reason, String message) {
    return error(code, reason, message, Map.of());
  }

  /** INVALID_ARGUMENT with one BadRequest field violation per problem (field = its path). */
  public static StatusRuntimeException badRequest(String reason, List<ConfigViolation> violations) {
    BadRequest.Builder badRequest = BadRequest.newBuilder();
    for (ConfigViolation violation : violations) {
      badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder()
          .setField(violation.fieldPath())
          .setReason(violation.reason())
          .setDescription(violation.description()));
    }
    ConfigViolation first = violations.get(0);
    String message = first + (violations.size() > 1 ? " (and " + (violations.size() - 1) + " more)" : "");
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INVALID_ARGUMENT.value())
        .setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN)
            .putMetadata("field", first.fieldPath())
            .putMetadata("violations", String.valueOf(violations.size()))
            .build()))
        .addDetails(Any.pack(badRequest.build()))
        .build());
  }

  public static StatusRuntimeException unknownDevice(String uuid) {
    return error(Status.Code.NOT_FOUND, "DEVICE_NOT_FOUND", "no device " + uuid, Map.of("device_uuid", uuid));
  }

  public static StatusRuntimeException notOnboarded() {
    return error(Status.Code.UNAUTHENTICATED, "DEVICE_NOT_ONBOARDED",
        "the client certificate is not pinned to any device; call Onboard first");
  }
}
