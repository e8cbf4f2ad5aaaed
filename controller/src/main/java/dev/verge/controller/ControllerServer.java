package dev.verge.controller;

import dev.verge.proto.Certificates;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running controller: the device API over mutual TLS, the admin API on loopback, gRPC health and
 * reflection on both, and Prometheus text on {@code GET /metrics}.
 */
public final class ControllerServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControllerServer.class);
  /** Larger than any valid config so an oversized one reaches validation and gets a precise error. */
  private static final int MAX_INBOUND_BYTES = 16 << 20;

  private final Controller controller;
  private final Server deviceServer;
  private final Server adminServer;
  private final HttpServer metricsServer;
  private final HealthStatusManager deviceHealth = new HealthStatusManager();
  private final HealthStatusManager adminHealth = new HealthStatusManager();

  private ControllerServer(ControllerSettings settings) throws IOException {
    this.controller = new Controller(settings);
    Server devices = null;
    Server admins = null;
    try {
      devices = deviceServer(settings);
      admins = adminServer(settings);
      this.metricsServer = settings.metricsPort() >= 0 ? metricsServer(settings) : null;
    } catch (IOException | RuntimeException e) {
      // a port in use: release what was taken, the data directory included, so the message is the only trace
      for (Server server : new Server[] {devices, admins}) {
        if (server != null) {
          server.shutdownNow();
        }
      }
      controller.shutdown();
      throw e;
    }
    this.deviceServer = devices;
    this.adminServer = admins;
    for (HealthStatusManager health : java.util.List.of(deviceHealth, adminHealth)) {
      health.setStatus("", ServingStatus.SERVING);
    }
    deviceHealth.setStatus(DeviceServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    adminHealth.setStatus(AdminServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    LOG.info("controller serving devices on {}:{}, admin on {}:{}, metrics on {}", settings.deviceBind(), devicePort(),
        InetAddress.getLoopbackAddress().getHostAddress(), adminPort(), metricsPort());
  }

  private Server deviceServer(ControllerSettings settings) throws IOException {
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder()
        .keyManager(Certificates.keyManagers(controller.serverIdentity(), controller.caIdentity().certificate()))
        .trustManager(ClientCertificates.ACCEPT_ANY_CLIENT)
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    return NettyServerBuilder.forAddress(new InetSocketAddress(settings.deviceBind(), settings.devicePort()), tls.build())
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addService(ServerInterceptors.intercept(controller.deviceService(), ClientCertificates.INTERCEPTOR))
        .addService(deviceHealth.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build()
        .start();
  }

  private Server adminServer(ControllerSettings settings) throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), settings.adminPort()),
            InsecureServerCredentials.create())
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .addService(controller.adminService())
        .addService(adminHealth.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build()
        .start();
  }

  private HttpServer metricsServer(ControllerSettings settings) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), settings.metricsPort()), 0);
    server.createContext("/metrics", exchange -> {
      byte[] body = "GET".equals(exchange.getRequestMethod())
          ? controller.prometheusText().getBytes(StandardCharsets.UTF_8) : new byte[0];
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      exchange.sendResponseHeaders("GET".equals(exchange.getRequestMethod()) ? 200 : 405, body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }

  public static ControllerServer start(ControllerSettings settings) throws IOException {
    return new ControllerServer(settings);
  }

  public Controller controller() {
    return controller;
  }

  public int devicePort() {
    return deviceServer.getPort();
  }

  public int adminPort() {
    return adminServer.getPort();
  }

  /** The metrics port, or -1 when metrics are off. */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.getAddress().getPort();
  }

  public void awaitTermination() throws InterruptedException {
    deviceServer.awaitTermination();
  }

  @Override
  public void close() {
    deviceHealth.enterTerminalState();
    adminHealth.enterTerminalState();
    controller.shutdown();
    deviceServer.shutdown();
    adminServer.shutdown();
    if (metricsServer != null) {
      metricsServer.stop(0);
    }
    try {
      if (!deviceServer.awaitTermination(5, TimeUnit.SECONDS)) {
        deviceServer.shutdownNow();
      }
      if (!adminServer.awaitTermination(5, TimeUnit.SECONDS)) {
        adminServer.shutdownNow();
      }
    } catch (InterruptedException e) {
      deviceServer.shutdownNow();
      adminServer.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
