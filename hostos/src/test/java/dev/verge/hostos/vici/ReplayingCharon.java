package dev.verge.hostos.vici;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A VICI server on a Unix socket that answers like the recorded charon: each register and
 * unregister with a confirm, each scripted command with its recorded packets (streamed events,
 * then the reply), an unknown command with CMD_UNKNOWN. It keeps what it received, for the test
 * to compare on its own thread.
 */
final class ReplayingCharon implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Map<String, List<byte[]>> script = new ConcurrentHashMap<>();
  final List<ViciPacket> received = new CopyOnWriteArrayList<>();
  /** What was received, as the bytes on the wire (without the length prefix). */
  final List<byte[]> receivedBytes = new CopyOnWriteArrayList<>();
  private volatile SocketChannel client;
  private final Thread thread;

  ReplayingCharon(Path socket) throws IOException {
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    thread = new Thread(this::serve, "replaying-charon");
    thread.setDaemon(true);
    thread.start();
  }

  /** Answers {@code command} with these recordings, in order. */
  ReplayingCharon answer(String command, String... recordings) {
    script.put(command, java.util.Arrays.stream(recordings).map(Recorded::packet).toList());
    return this;
  }

  /** Answers {@code command} with this reply (made up, for commands no recording has). */
  ReplayingCharon answerWith(String command, ViciMessage reply) {
    script.put(command, List.of(ViciCodec.encode(new ViciPacket(ViciPacket.Type.CMD_RESPONSE, java.util.Optional.empty(), reply))));
    return this;
  }

  /** Sends a recorded packet unasked (an event). */
  void push(String recording) throws IOException {
    write(client, Recorded.packet(recording));
  }

  private void serve() {
    try (SocketChannel c = server.accept()) {
      client = c;
      ByteBuffer header = ByteBuffer.allocate(4);
      while (true) {
        header.clear();
        if (!readFully(c, header)) {
          return;
        }
        ByteBuffer body = ByteBuffer.allocate(header.flip().getInt());
        if (!readFully(c, body)) {
          return;
        }
        ViciPacket packet = ViciCodec.decode(body.array());
        receivedBytes.add(body.array());
        received.add(packet);
        switch (packet.type()) {
          case EVENT_REGISTER, EVENT_UNREGISTER -> write(c, new byte[] {0, 0, 0, 1, 5});
          case CMD_REQUEST -> {
            List<byte[]> answer = script.get(packet.name().orElseThrow());
            if (answer == null) {
              write(c, new byte[] {0, 0, 0, 1, 2});
            } else {
              for (byte[] p : answer) {
                write(c, p);
              }
            }
          }
          default -> throw new IllegalStateException("unexpected " + packet);
        }
      }
    } catch (IOException e) {
      // the client went: the test looks at what was received
    }
  }

  private static synchronized void write(SocketChannel c, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  private static boolean readFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    server.close();
    SocketChannel c = client;
    if (c != null) {
      c.close();
    }
  }
}
