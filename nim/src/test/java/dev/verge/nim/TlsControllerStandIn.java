package dev.verge.nim;

import dev.verge.proto.Certificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A TLS server that stands in for the controller in a namespace: a certificate for
 * {@code controller.test} from a CA of its own, written to {@code <ca-pem>} so a test can trust it
 * (or not). Asks for a client certificate without requiring one, as a TLS-terminating impostor or
 * the real controller's handshake would look to nim. Run: {@code <address> <port> <ca-pem>}.
 */
public final class TlsControllerStandIn {
  private TlsControllerStandIn() {}

  public static void main(String[] args) throws Exception {
    Certificates.Identity ca = Certificates.selfSigned("stand-in CA", true, Duration.ofDays(1));
    Certificates.Identity server = Certificates.issue(ca, "controller.test", List.of("controller.test"), Duration.ofDays(1));
    Files.writeString(Path.of(args[2]), Certificates.toPem(ca.certificate()), StandardCharsets.US_ASCII);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(Certificates.keyManagers(server, ca.certificate()), null, null);
    try (SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])), 50);
      socket.setWantClientAuth(true);
      System.out.println("tls stand-in listening on " + args[0] + ":" + args[1]);
      System.out.flush();
      while (true) {
        try (SSLSocket client = (SSLSocket) socket.accept()) {
          client.setSoTimeout(5000);
          client.startHandshake();
          client.getInputStream().read();
        } catch (IOException e) {
          // a handshake the client gave up on, or a client gone: next
        }
      }
    }
  }
}
