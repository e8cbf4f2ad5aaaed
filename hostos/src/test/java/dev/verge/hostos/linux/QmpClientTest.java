package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QMP client against a fake QEMU that replays an exchange recorded once from the real one
 * (qmp-qemu-7.2.txt): the client must send exactly what was recorded, in that order, and make
 * sense of the answers, events in between included.
 */
class QmpClientTest {
  static final String MAC = "02:00:00:00:00:16";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  final List<String> mismatches = new CopyOnWriteArrayList<>();
  Thread server;

  /** Serves one connection from the transcript: answers its S lines, checks the client's C lines. */
  Path replay(String resource) throws IOException {
    List<String> script = new ArrayList<>();
    try (var in = QmpClientTest.class.getResourceAsStream(resource)) {
      new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(l -> l.startsWith("C: ") || l.startsWith("S: ")).forEach(script::add);
    }
    Path socket = dir.resolve("qmp.sock");
    ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(socket));
    server = new Thread(() -> {
      try (listener; SocketChannel client = listener.accept()) {
        BufferedReader fromClient = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        OutputStream toClient = Channels.newOutputStream(client);
        for (String step : script) {
          String json = step.substring(3);
          if (step.startsWith("S: ")) {
            toClient.write((json + "\n").getBytes(StandardCharsets.UTF_8));
            toClient.flush();
          } else {
            String sent = fromClient.readLine();
            if (sent == null || !JSON.readTree(sent).equals(JSON.readTree(json))) {
              mismatches.add("expected " + json + " but the client sent " + sent);
              return;
            }
          }
        }
      } catch (IOException e) {
        mismatches.add("fake QEMU: " + e);
      }
    }, "fake-qemu");
    server.setDaemon(true);
    server.start();
    return socket;
  }

  @AfterEach
  void serverDone() throws InterruptedException {
    if (server != null) {
      server.join(5000);
    }
  }

  @Test
  void negotiatesHotplugsRollsBackARefusedDeviceAndPowersDownWithQuitWhenTheGuestDoesNot() throws Exception {
    Path socket = replay("qmp-qemu-7.2.txt");

    try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(5))) {
      assertThat(qmp.version()).isEqualTo("7.2.22");
      assertThat(qmp.queryStatus()).isEqualTo(new QmpClient.VmStatus("prelaunch", false));

      // e1000 has no host_mtu: refused, and the backend added for it is removed again
      assertThatThrownBy(() -> qmp.hotplugNic("hnet16", "tapx", "e1000", MAC, "0x10", Optional.of(1500)))
          .isInstanceOf(HostException.class)
          .hasMessageContaining("QMP device_add")
          .hasMessageContaining("GenericError: Property 'e1000.host_mtu' not found");
      qmp.hotplugNic("hnet16", "tapx", "virtio-net-pci", MAC, "0x10", Optional.of(1500));

      // a paused guest never acknowledges the unplug
      assertThatThrownBy(() -> qmp.unplugNic("hnet16", Duration.ofMillis(200)))
          .isInstanceOfSatisfying(HostException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT))
          .hasMessageContaining("the guest did not respond within 200 ms");

      assertThat(qmp.powerdown(Duration.ofMillis(300))).isFalse(); // no guest to power off: quit
      assertThat(qmp.takeEvents()).extracting(e -> e.path("event").asText()).containsExactly("POWERDOWN", "SHUTDOWN");
    }
    server.join(5000);
    assertThat(mismatches).isEmpty();
  }

  @Test
  void aSocketWithoutQemuIsAPreciseError() {
    assertThatThrownBy(() -> QmpClient.connect(dir.resolve("none.sock"), Duration.ofSeconds(1)))
        .isInstanceOf(HostException.class)
        .hasMessageContaining("connect QMP")
        .hasMessageContaining("none.sock");
  }
}
