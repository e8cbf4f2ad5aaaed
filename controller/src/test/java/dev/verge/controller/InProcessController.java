package dev.verge.controller;

import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A controller served in-process with direct executors. The TLS layer is replaced by a header
 * carrying the client certificate fingerprint, so tests can be any device they like.
 */
final class InProcessController implements AutoCloseable {
  static final Metadata.Key<String> FINGERPRINT_HEADER = Metadata.Key.of("x-test-fingerprint", Metadata.ASCII_STRING_MARSHALLER);

  /** Stands in for ClientCertificates.INTERCEPTOR: the fingerprint comes from a header. */
  private static final ServerInterceptor HEADER_IDENTITY = new ServerInterceptor() {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      Context context = Context.current().withValue(ClientCertificates.FINGERPRINT, headers.get(FINGERPRINT_HEADER));
      return Contexts.interceptCall(context, call, headers, next);
    }
  };

  final Controller controller;
  private final Server server;
  private final String name = InProcessServerBuilder.generateName();
  private final List<ManagedChannel> channels = new ArrayList<>();
  final AdminServiceGrpc.AdminServiceBlockingStub admin;

  InProcessController(Path dataDir, Clock clock) throws IOException {
    this(new Controller(ControllerSettings.ephemeral(dataDir), clock));
  }

  InProcessController(Controller controller) throws IOException {
    this.controller = controller;
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(controller.deviceService(), HEADER_IDENTITY))
        .addService(controller.adminService())
        .build()
        .start();
    admin = AdminServiceGrpc.newBlockingStub(channel(null)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** A channel whose calls present {@code fingerprint} as their client certificate (null: none). */
  ManagedChannel channel(String fingerprint) {
    InProcessChannelBuilder builder = InProcessChannelBuilder.forName(name).directExecutor();
    if (fingerprint != null) {
      Metadata headers = new Metadata();
      headers.put(FINGERPRINT_HEADER, fingerprint);
      builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    ManagedChannel channel = builder.build();
    channels.add(channel);
    return channel;
  }

  DeviceClient device(String fingerprint) {
    return new DeviceClient(channel(fingerprint));
  }

  @Override
  public void close() throws InterruptedException {
    controller.shutdown();
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
