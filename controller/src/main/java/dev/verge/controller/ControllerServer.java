package dev.verge.controller;

import dev.verge.proto.Certificates;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.DeviceServiceGrpc;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running controller: the device API over mutual TLS, the admin API on the data directory's socket
 * (and, when asked, on a loopback port and over mutual TLS for operator certificates), gRPC health
 * and reflection on each, and Prometheus text on {@code GET /metrics}.
 */
public final class ControllerServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControllerServer.class);
  /** Larger than any valid config so an oversized one reaches validation and gets a precise error. */
  private static final int MAX_INBOUND_BYTES = 16 << 20;
  private static final String ADMIN_SOCKET = "admin.sock";

  private final Controller controller;
  private final Server deviceServer;
  private final Server adminServer;
  private final Server adminSocketServer;
  private final Server remoteAdminServer;
  private final EventLoopGroup adminSocketLoop;
  private final HttpServer metricsServer;
  private final HealthStatusManager deviceHealth = new HealthStatusManager();
  private final HealthStatusManager adminHealth = new HealthStatusManager();

  private ControllerServer(ControllerSettings settings) throws IOException {
    this.controller = new Controller(settings);
    Server devices = null;
    Server admins = null;
    Server socketAdmins = null;
    Server remoteAdmins = null;
    EventLoopGroup socketLoop = null;
    try {
      devices = deviceServer(settings);
      socketLoop = new EpollEventLoopGroup(1);
      socketAdmins = adminSocketServer(settings, socketLoop);
      admins = settings.adminPort() >= 0 ? adminServer(settings) : null;
      remoteAdmins = settings.remoteAdmin() != null ? remoteAdminServer(settings) : null;
      this.metricsServer = settings.metricsPort() >= 0 ? metricsServer(settings) : null;
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      // a port in use: release what was taken, the data directory included, so the message is the only trace
      for (Server server : new Server[] {devices, admins, socketAdmins, remoteAdmins}) {
        if (server != null) {
          server.shutdownNow();
        }
      }
      if (socketLoop != null) {
        socketLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      controller.shutdown();
      throw e;
    }
    this.deviceServer = devices;
    this.adminServer = admins;
    this.adminSocketServer = socketAdmins;
    this.remoteAdminServer = remoteAdmins;
    this.adminSocketLoop = socketLoop;
    for (HealthStatusManager health : java.util.List.of(deviceHealth, adminHealth)) {
      health.setStatus("", ServingStatus.SERVING);
    }
    deviceHealth.setStatus(DeviceServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    adminHealth.setStatus(AdminServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    LOG.info("controller serving devices on {}:{} (TLS by {}), admin on {}{}, metrics on {}", settings.deviceBind(),
        devicePort(), deviceTlsProvider(), adminSocket(settings.dataDir()),
        adminPort() < 0 ? "" : " and (plaintext, any local user) 127.0.0.1:" + adminPort(), metricsPort());
    if (remoteAdminServer != null) {
      LOG.info("remote admin API on {}:{} over mutual TLS, for operator certificates of this controller's CA",
          settings.remoteAdmin().getHostString(), remoteAdminPort());
    }
    if (adminPort() >= 0) {
      LOG.warn("the admin API is also on loopback port {} without authentication: every local user can administer this controller",
          adminPort());
    }
  }

  /**
   * Who does the devices' TLS: gRPC takes OpenSSL (the BoringSSL of netty-tcnative) whenever Netty
   * can load it, else the JDK's, which costs a fleet's reconnect storm several times the CPU per
   * handshake. Said at start so a missing native library shows.
   */
  public static String deviceTlsProvider() {
    if (io.netty.handler.ssl.OpenSsl.isAvailable()) {
      return "OpenSSL (" + io.netty.handler.ssl.OpenSsl.versionString() + ")";
    }
    return "the JDK (OpenSSL unavailable: " + io.netty.handler.ssl.OpenSsl.unavailabilityCause() + ")";
  }

  /** Where the admin API listens for the data directory's owner: a Unix socket only its owner may open. */
  public static Path adminSocket(Path dataDir) {
    return dataDir.resolve(ADMIN_SOCKET);
  }

  private Server adminSocketServer(ControllerSettings settings, EventLoopGroup loop) throws IOException {
    Path socket = adminSocket(settings.dataDir()).toAbsolutePath();
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > 107) {
      throw new IOException("the admin socket path " + socket + " is longer than the 107 bytes a Unix socket allows; "
          + "choose a shorter --data-dir");
    }
    Files.deleteIfExists(socket); // we hold the data directory's lock: any socket there is a dead controller's
    Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(loop)
        .workerEventLoopGroup(loop)
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .addService(controller.adminService())
        .addService(adminHealth.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build()
        .start();
    // The directory (rwx------) already keeps others out; the socket's own mode says so too.
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    return server;
  }

  private Server deviceServer(ControllerSettings settings) throws IOException {
    TlsServerCredentials.Builder tls = serverTls()
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

  /**
   * The server certificate (with the CA above it) and its key as PEM, not as a JSSE KeyManager:
   * gRPC then hands them to BoringSSL once, where a KeyManager is asked for the chain and key, and
   * both are converted for BoringSSL, on every handshake (5,000 devices failing over at once pay that
   * 5,000 times).
   */
  private TlsServerCredentials.Builder serverTls() throws IOException {
    byte[] chain = (Certificates.toPem(controller.serverIdentity().certificate())
        + Certificates.toPem(controller.caIdentity().certificate())).getBytes(StandardCharsets.US_ASCII);
    byte[] key = Certificates.toPem(controller.serverIdentity().keys().getPrivate()).getBytes(StandardCharsets.US_ASCII);
    return TlsServerCredentials.newBuilder().keyManager(new ByteArrayInputStream(chain), new ByteArrayInputStream(key));
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

  /**
   * The admin API for operators elsewhere: TLS with the controller's server certificate, a client
   * certificate asked for, and {@link Controller#operatorAccess()} deciding on every call (health
   * and reflection included) whether it is an operator's from this CA.
   */
  private Server remoteAdminServer(ControllerSettings settings) throws IOException {
    TlsServerCredentials.Builder tls = serverTls()
        .trustManager(ClientCertificates.ACCEPT_ANY_CLIENT)
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL); // a missing certificate gets a status that says so
    return NettyServerBuilder.forAddress(settings.remoteAdmin(), tls.build())
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .intercept(controller.operatorAccess())
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

  /** The plaintext loopback admin port, or -1 when it is off (the default: the admin socket only). */
  public int adminPort() {
    return adminServer == null ? -1 : adminServer.getPort();
  }

  /** The mutual-TLS admin port for operators, or -1 when remote administration is off (the default). */
  public int remoteAdminPort() {
    return remoteAdminServer == null ? -1 : remoteAdminServer.getPort();
  }

  public Path adminSocket() {
    return adminSocket(controller.settings().dataDir());
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
    adminSocketServer.shutdown();
    for (Server admin : new Server[] {adminServer, remoteAdminServer}) {
      if (admin != null) {
        admin.shutdown();
      }
    }
    if (metricsServer != null) {
      metricsServer.stop(0);
    }
    try {
      if (!deviceServer.awaitTermination(5, TimeUnit.SECONDS)) {
        deviceServer.shutdownNow();
      }
      for (Server admin : new Server[] {adminServer, adminSocketServer, remoteAdminServer}) {
        if (admin != null && !admin.awaitTermination(5, TimeUnit.SECONDS)) {
          admin.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      deviceServer.shutdownNow();
      adminSocketServer.shutdownNow();
      for (Server admin : new Server[] {adminServer, remoteAdminServer}) {
        if (admin != null) {
          admin.shutdownNow();
        }
      }
      Thread.currentThread().interrupt();
    } finally {
      adminSocketLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      try {
        Files.deleteIfExists(adminSocket());
      } catch (IOException ignored) {
        // a leftover socket is removed by the next start
      }
    }
  }
}
