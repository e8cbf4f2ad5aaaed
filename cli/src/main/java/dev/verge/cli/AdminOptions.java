package dev.verge.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.verge.controller.ControllerServer;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Options shared by the admin commands ({@code --admin}, {@code -o}) and how they call the admin
 * API and report results and errors (exit 0 ok, 1 runtime error).
 */
final class AdminOptions {
  enum Output {
    text,
    json
  }

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:VERGE_CONTROLLER_DATA}",
      description = "The controller's data directory: its admin socket DIR/admin.sock, which only the directory's owner can open "
          + "(default: $VERGE_CONTROLLER_DATA).")
  Path dataDir;

  @Option(names = "--admin", paramLabel = "HOST:PORT|unix:PATH",
      description = "Admin API address instead: a loopback port the controller was started with (--admin-port), or a socket.")
  String admin;

  @Option(names = {"-o", "--output"}, defaultValue = "text",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). JSON is the protobuf JSON mapping (lowerCamelCase names, as grpcurl prints), every field present.")
  Output output;

  /** Calls the admin API and prints the answer; maps refusals to exit code 1 with their details. */
  <T extends MessageOrBuilder> int call(CommandLine.Model.CommandSpec spec,
      Function<AdminServiceGrpc.AdminServiceBlockingStub, T> rpc, Function<T, String> text) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ManagedChannel channel = channel(spec);
    try {
      T answer = rpc.apply(AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS));
      out.println(output == Output.json ? ConfigCodec.toStableJson(answer) : text.apply(answer));
      out.flush();
      return 0;
    } catch (StatusRuntimeException e) {
      reportError(e, output == Output.json ? out : err);
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }

  /** The admin socket of --data-dir, or the --admin address; a usage error when neither is given. */
  private ManagedChannel channel(CommandLine.Model.CommandSpec spec) {
    if (admin == null || admin.isBlank()) {
      if (dataDir == null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "name the controller: --data-dir DIR (its admin socket) or --admin HOST:PORT");
      }
      admin = "unix:" + ControllerServer.adminSocket(dataDir).toAbsolutePath();
    }
    if (admin.startsWith("unix:")) {
      Path socket = Path.of(admin.substring("unix:".length()));
      if (!Files.exists(socket)) {
        throw new IllegalStateException("no controller admin socket at " + socket
            + " (is the controller running on that data directory?)");
      }
      return Grpc.newChannelBuilder("unix://" + socket, InsecureChannelCredentials.create()).build();
    }
    int colon = admin.lastIndexOf(':');
    if (colon <= 0 || !admin.substring(colon + 1).matches("[0-9]{1,5}")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--admin must be HOST:PORT or unix:PATH, not '" + admin + "'");
    }
    return Grpc.newChannelBuilderForAddress(admin.substring(0, colon),
        Integer.parseInt(admin.substring(colon + 1)), InsecureChannelCredentials.create()).build();
  }

  private void reportError(StatusRuntimeException e, PrintWriter sink) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      status = com.google.rpc.Status.newBuilder().setCode(e.getStatus().getCode().value())
          .setMessage(e.getStatus().getCode() == Status.Code.UNAVAILABLE
              ? "controller not reachable at " + admin + ": " + e.getStatus().getDescription()
              : String.valueOf(e.getStatus().getDescription()))
          .build();
    }
    if (output == Output.json) {
      sink.println(ErrorJson.of(status));
    } else {
      sink.println("error: " + Status.Code.values()[status.getCode()] + ": " + status.getMessage());
      for (Any detail : status.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            sink.println("  reason: " + detail.unpack(ErrorInfo.class).getReason());
          } else if (detail.is(BadRequest.class)) {
            for (BadRequest.FieldViolation violation : detail.unpack(BadRequest.class).getFieldViolationsList()) {
              sink.println("  at " + (violation.getField().isEmpty() ? "<document>" : violation.getField())
                  + ": " + violation.getDescription() + " (" + violation.getReason() + ")");
            }
          }
        } catch (InvalidProtocolBufferException ignored) {
          // a detail we cannot read adds nothing for the operator
        }
      }
    }
    sink.flush();
  }

  /** The JSON form of a refused call: {"error": {code, message, reason, fieldViolations[]}}. */
  static final class ErrorJson {
    private ErrorJson() {}

    static String of(com.google.rpc.Status status) {
      com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
      var error = mapper.createObjectNode();
      error.put("code", Status.Code.values()[status.getCode()].name());
      error.put("message", status.getMessage());
      error.put("reason", "");
      var violations = error.putArray("fieldViolations");
      for (Any detail : status.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            error.put("reason", detail.unpack(ErrorInfo.class).getReason());
          } else if (detail.is(BadRequest.class)) {
            for (BadRequest.FieldViolation v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
              violations.addObject().put("field", v.getField()).put("reason", v.getReason()).put("description", v.getDescription());
            }
          }
        } catch (InvalidProtocolBufferException ignored) {
          // skipped, as in text form
        }
      }
      var root = mapper.createObjectNode();
      root.set("error", error);
      try {
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
