package dev.verge.cli;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.verge.controller.ControllerServer;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.Certificates;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.TlsChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.security.KeyPair;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLHandshakeException;
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
      description = {"Admin API address instead: the controller's --admin-listen (with the three operator options below),",
          "a loopback port it was started with (--admin-port), or a socket."})
  String admin;

  @Option(names = "--operator-cert", paramLabel = "FILE",
      description = "Operator certificate from 'verge controller issue-operator-cert', for --admin HOST:PORT over mutual TLS.")
  Path operatorCert;

  @Option(names = "--operator-key", paramLabel = "FILE", description = "The operator certificate's private key.")
  Path operatorKey;

  @Option(names = "--ca", paramLabel = "FILE", description = "The controller CA (ca.crt) that must have issued the controller's certificate.")
  Path ca;

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
    if (mutualTls() && (admin == null || admin.isBlank() || admin.startsWith("unix:"))) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--operator-cert, --operator-key and --ca go with --admin HOST:PORT (a controller's --admin-listen)");
    }
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
        Integer.parseInt(admin.substring(colon + 1)), credentials(spec)).build();
  }

  /** Plaintext for a loopback --admin-port; mutual TLS with the operator's certificate when it is given. */
  private ChannelCredentials credentials(CommandLine.Model.CommandSpec spec) {
    if (!mutualTls()) {
      return InsecureChannelCredentials.create();
    }
    if (operatorCert == null || operatorKey == null || ca == null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "remote administration needs all of --operator-cert, --operator-key and --ca");
    }
    X509Certificate certificate = readPem("--operator-cert", operatorCert, Certificates::readCertificate);
    Certificates.Identity operator = new Certificates.Identity(
        new KeyPair(certificate.getPublicKey(), readPem("--operator-key", operatorKey, Certificates::readPrivateKey)), certificate);
    return TlsChannelCredentials.newBuilder()
        .keyManager(Certificates.keyManagers(operator))
        .trustManager(Certificates.trustManagers(readPem("--ca", ca, Certificates::readCertificate)))
        .build();
  }

  private boolean mutualTls() {
    return operatorCert != null || operatorKey != null || ca != null;
  }

  private interface PemReader<T> {
    T read(Path file) throws IOException;
  }

  /** A PEM file an option names, or a usage error saying what is wrong with it. */
  private static <T> T readPem(String option, Path file, PemReader<T> reader) {
    try {
      return reader.read(file);
    } catch (NoSuchFileException e) {
      throw new RuntimeErrors.UsageProblem(option + " " + file + " does not exist");
    } catch (IOException | RuntimeException e) {
      throw new RuntimeErrors.UsageProblem(option + " " + file + ": " + RuntimeErrors.describe(e));
    }
  }

  /** Why the connection failed, in the operator's terms when the TLS layer says enough. */
  private String unreachable(StatusRuntimeException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (mutualTls() && (cause instanceof CertPathValidatorException || cause instanceof CertPathBuilderException
          || (cause instanceof SSLHandshakeException && String.valueOf(cause.getMessage()).contains("PKIX")))) {
        return "the controller's certificate is not issued by the CA in " + ca;
      }
      if (cause instanceof CertificateException && String.valueOf(cause.getMessage()).contains("No subject alternative")) {
        return "the controller's certificate does not name " + admin.substring(0, admin.lastIndexOf(':'))
            + " (start it with --server-name for that name)";
      }
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String why = root != e && root.getMessage() != null ? root.getMessage() : String.valueOf(e.getStatus().getDescription());
    return "controller not reachable at " + admin + ": " + why.lines().findFirst().orElse("")
        + (mutualTls() || admin.startsWith("unix:") || root instanceof java.net.ConnectException ? ""
            : " (an --admin-listen port needs --operator-cert, --operator-key and --ca)");
  }

  private void reportError(StatusRuntimeException e, PrintWriter sink) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    boolean transportFailure = e.getStatus().getCode() == Status.Code.UNAVAILABLE && (status == null || status.getDetailsCount() == 0);
    if (status == null || transportFailure) {
      // No answer from the controller: say why the connection failed (gRPC's "io exception" does not).
      status = com.google.rpc.Status.newBuilder().setCode(e.getStatus().getCode().value())
          .setMessage(transportFailure ? unreachable(e) : String.valueOf(e.getStatus().getDescription()))
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
