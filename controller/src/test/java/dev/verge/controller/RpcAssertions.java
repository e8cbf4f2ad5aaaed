package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Checks of google.rpc.Status errors: code, ErrorInfo reason, BadRequest field paths. */
final class RpcAssertions {
  private RpcAssertions() {}

  /** A refused call's details. */
  record RpcError(Status.Code code, String message, ErrorInfo info, List<String> fields) {}

  static RpcError rpcError(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
    return details(thrown);
  }

  static RpcError details(Throwable thrown) {
    com.google.rpc.Status status = StatusProto.fromThrowable(thrown);
    assertThat(status).as("google.rpc.Status details of " + thrown).isNotNull();
    ErrorInfo info = null;
    List<String> fields = List.of();
    try {
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          info = detail.unpack(ErrorInfo.class);
        } else if (detail.is(BadRequest.class)) {
          fields = detail.unpack(BadRequest.class).getFieldViolationsList().stream().map(BadRequest.FieldViolation::getField).toList();
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    assertThat(info).as("ErrorInfo detail").isNotNull();
    assertThat(info.getDomain()).isEqualTo("verge.dev");
    return new RpcError(Status.fromCodeValue(status.getCode()).getCode(), status.getMessage(), info, fields);
  }
}
