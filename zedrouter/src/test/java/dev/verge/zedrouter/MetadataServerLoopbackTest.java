package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One NI's metadata server as zedrouter builds it (same Netty pipeline), on a loopback port of
 * its own: over real sockets, the caller's source address alone decides whose user data it gets.
 * 127.0.0.1 stands for one app's VIF address, 127.0.0.2 for another app's, 127.0.0.3 for no app.
 */
class MetadataServerLoopbackTest {
  static final String WEB = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
  static final String DB = "6ba7b810-9dad-41d1-80b4-00c04fd430c9";
  NioEventLoopGroup group;
  Channel server;
  int port;

  @BeforeEach
  void serve() {
    Metadata metadata = new Metadata(Map.of("bn1", new Metadata.Ni(Optional.of("192.0.2.10"), Map.of(
        "127.0.0.1", new Metadata.App(WEB, "web", "#cloud-config\nruncmd: [echo web]\n"),
        "127.0.0.2", new Metadata.App(DB, "db", "#cloud-config\nruncmd: [echo db]\n")))));
    group = new NioEventLoopGroup(1);
    server = MetadataServers.bootstrap(group, new MetadataHandler("bn1", () -> metadata))
        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
    port = ((InetSocketAddress) server.localAddress()).getPort();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** A GET from {@code source}: the status line and the body. */
  private String[] get(String source, String path) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setSoTimeout(5000);
      socket.bind(new InetSocketAddress(source, 0));
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8); // the server closes
      int end = response.indexOf("\r\n\r\n");
      return new String[] {response.substring(0, response.indexOf("\r\n")), response.substring(end + 4)};
    }
  }

  @Test
  void eachVifAddressGetsItsOwnAppsUserDataAndAStrangerNone() throws Exception {
    String[] web = get("127.0.0.1", "/openstack/latest/user_data");
    assertThat(web[0]).isEqualTo("HTTP/1.1 200 OK");
    assertThat(web[1]).isEqualTo("#cloud-config\nruncmd: [echo web]\n");

    String[] db = get("127.0.0.2", "/openstack/latest/user_data");
    assertThat(db[0]).isEqualTo("HTTP/1.1 200 OK");
    assertThat(db[1]).isEqualTo("#cloud-config\nruncmd: [echo db]\n");

    String[] stranger = get("127.0.0.3", "/openstack/latest/user_data");
    assertThat(stranger[0]).isEqualTo("HTTP/1.1 403 Forbidden");
    assertThat(stranger[1]).doesNotContain("echo");
  }
}
