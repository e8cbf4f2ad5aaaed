package dev.verge.nim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller test on loopback: direct, through a small HTTP CONNECT proxy, and around it. */
class TcpControllerProbeTest {
  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  ServerSocket controller;
  TinyProxy proxy;
  TcpControllerProbe probe;

  @AfterEach
  void close() throws IOException {
    if (probe != null) {
      probe.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (controller != null) {
      controller.close();
    }
  }

  /** An HTTP proxy that answers every CONNECT with {@code answer}, tunnelling to the target on 200. */
  static final class TinyProxy implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, LOOPBACK);
    final List<String> requests = new CopyOnWriteArrayList<>();
    final Thread thread;

    TinyProxy(String answer) throws IOException {
      thread = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket client = server.accept()) {
            String line = readLine(client.getInputStream());
            requests.add(line);
            while (!readLine(client.getInputStream()).isEmpty()) {
              // headers
            }
            if (answer.startsWith("HTTP/1.1 200")) {
              String[] target = line.split(" ")[1].split(":");
              try (Socket upstream = new Socket(target[0], Integer.parseInt(target[1]))) {
                write(client.getOutputStream(), answer + "\r\n\r\n");
              }
            } else {
              write(client.getOutputStream(), answer + "\r\n\r\n");
            }
          } catch (IOException e) {
            // closed, or the client went away
          }
        }
      }, "tiny-proxy");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }

    static String readLine(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder();
      for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
        if (c != '\r') {
          b.append((char) c);
        }
      }
      return b.toString();
    }

    static void write(OutputStream out, String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }
  }

  ControllerProbe.Result probe(Optional<Port.Proxy> via) throws Exception {
    probe = probe == null ? TcpControllerProbe.inCurrentNamespace("127.0.0.1:" + controller.getLocalPort()) : probe;
    CompletableFuture<ControllerProbe.Result> result = new CompletableFuture<>();
    probe.probe(new ControllerProbe.Request("wan0", "lo", LOOPBACK, Duration.ofSeconds(2), via, false), result::complete);
    return result.get(5, TimeUnit.SECONDS);
  }

  @Test
  void throughTheProxyTheControllerIsReachedWithConnect() throws Exception {
    controller = new ServerSocket(0, 50, LOOPBACK);
    proxy = new TinyProxy("HTTP/1.1 200 Connection established");
    ControllerProbe.Result result = probe(Optional.of(new Port.Proxy("127.0.0.1", proxy.port(), List.of())));
    assertThat(result.error()).isEmpty();
    assertThat(result.ok()).isTrue();
    assertThat(proxy.requests).containsExactly("CONNECT 127.0.0.1:" + controller.getLocalPort() + " HTTP/1.1");
  }

  @Test
  void aProxyThatRefusesIsThePortsPreciseError() throws Exception {
    controller = new ServerSocket(0, 50, LOOPBACK);
    proxy = new TinyProxy("HTTP/1.1 407 Proxy Authentication Required");
    ControllerProbe.Result result = probe(Optional.of(new Port.Proxy("127.0.0.1", proxy.port(), List.of())));
    assertThat(result.ok()).isFalse();
    assertThat(result.error()).isEqualTo("proxy http://127.0.0.1:" + proxy.port() + " refused CONNECT 127.0.0.1:"
        + controller.getLocalPort() + ": 407 Proxy Authentication Required");
  }

  @Test
  void aControllerListedAsAnExceptionIsReachedDirectly() throws Exception {
    controller = new ServerSocket(0, 50, LOOPBACK);
    proxy = new TinyProxy("HTTP/1.1 403 Forbidden");
    ControllerProbe.Result result = probe(Optional.of(new Port.Proxy("127.0.0.1", proxy.port(), List.of("127.0.0.1"))));
    assertThat(result.ok()).isTrue();
    assertThat(proxy.requests).isEmpty();
  }

  @Test
  void aDeadProxyFailsWithoutTouchingTheController() throws Exception {
    controller = new ServerSocket(0, 50, LOOPBACK);
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      deadPort = s.getLocalPort();
    }
    ControllerProbe.Result result = probe(Optional.of(new Port.Proxy("127.0.0.1", deadPort, List.of())));
    assertThat(result.ok()).isFalse();
    assertThat(result.error()).startsWith("cannot reach controller 127.0.0.1:" + controller.getLocalPort()
        + " through proxy http://127.0.0.1:" + deadPort + " from 127.0.0.1 on lo: Connection refused");
  }

  /** A TLS controller stand-in on loopback with a certificate for "controller.test" issued by {@code ca}. */
  static ServerSocket tlsController(dev.verge.proto.Certificates.Identity ca, boolean needClientAuth) throws Exception {
    var server = dev.verge.proto.Certificates.issue(ca, "controller.test", List.of("controller.test"), Duration.ofDays(1));
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(dev.verge.proto.Certificates.keyManagers(server, ca.certificate()), null, null);
    javax.net.ssl.SSLServerSocket socket =
        (javax.net.ssl.SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50, LOOPBACK);
    socket.setNeedClientAuth(needClientAuth);
    Thread t = new Thread(() -> {
      while (!socket.isClosed()) {
        try (javax.net.ssl.SSLSocket client = (javax.net.ssl.SSLSocket) socket.accept()) {
          client.startHandshake();
          client.getInputStream().read();
        } catch (IOException e) {
          // handshake refused or client gone
        }
      }
    }, "tls-controller");
    t.setDaemon(true);
    t.start();
    return socket;
  }

  ControllerProbe.Result verify(dev.verge.proto.Certificates.Identity trusted, boolean full) throws Exception {
    probe = TcpControllerProbe.inCurrentNamespace("127.0.0.1:" + controller.getLocalPort())
        .withTlsCheck(new TcpControllerProbe.TlsCheck("controller.test", trusted.certificate()));
    CompletableFuture<ControllerProbe.Result> result = new CompletableFuture<>();
    probe.probe(new ControllerProbe.Request("wan0", "lo", LOOPBACK, Duration.ofSeconds(3), Optional.empty(), full),
        result::complete);
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aVerificationChecksTheControllersTlsIdentityEvenWhenItWantsAClientCertificate() throws Exception {
    var ca = dev.verge.proto.Certificates.selfSigned("controller CA", true, Duration.ofDays(1));
    controller = tlsController(ca, true);
    ControllerProbe.Result result = verify(ca, true);
    assertThat(result.error()).isEmpty();
    assertThat(result.ok()).isTrue();
  }

  @Test
  void anImpostorAnsweringTcpFailsTheVerificationButNotTheLiveProbe() throws Exception {
    var ca = dev.verge.proto.Certificates.selfSigned("controller CA", true, Duration.ofDays(1));
    var other = dev.verge.proto.Certificates.selfSigned("portal CA", true, Duration.ofDays(1));
    controller = tlsController(other, false);
    ControllerProbe.Result result = verify(ca, true);
    assertThat(result.ok()).isFalse();
    assertThat(result.error()).startsWith("controller controller.test at 127.0.0.1:" + controller.getLocalPort()
        + " did not prove its identity over TLS: ");
    probe.close();
    assertThat(verify(ca, false).ok()).as("the cheap live probe is TCP only").isTrue();
  }
}
