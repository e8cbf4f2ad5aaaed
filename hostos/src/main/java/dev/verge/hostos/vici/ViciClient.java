package dev.verge.hostos.vici;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of charon's VICI socket. Commands run one at a time (charon answers each on the
 * connection in order); a reader thread takes every packet off the socket, hands replies to the
 * waiting command and events to their subscribers on the subscribers' executors. Streamed
 * commands ({@code list-sas}, {@code initiate}'s log) collect their events while they run.
 * Failures are {@link HostException}s naming the command and charon's error text.
 */
public final class ViciClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ViciClient.class);
  private static final ViciPacket CLOSED = new ViciPacket(ViciPacket.Type.CMD_UNKNOWN, java.util.Optional.empty(), ViciMessage.EMPTY);

  /** A streamed command's reply and the events it streamed, in order. */
  public record Streamed(ViciMessage response, List<ViciMessage> events) {}

  /** An event subscription: closing it unregisters the event when it was the last one. */
  public interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  private record Subscriber(Executor executor, Consumer<ViciMessage> handler) {}

  private final SocketChannel channel;
  private final Path socket;
  private final Duration timeout;
  private final BlockingQueue<ViciPacket> replies = new LinkedBlockingQueue<>();
  private final Map<String, List<Subscriber>> subscribers = new ConcurrentHashMap<>();
  private final Object commandLock = new Object();
  private final Thread reader;
  private volatile String streamedEvent;
  private volatile List<ViciMessage> streamed;
  private volatile boolean closed;
  private volatile String readerFailure;

  private ViciClient(SocketChannel channel, Path socket, Duration timeout) {
    this.channel = channel;
    this.socket = socket;
    this.timeout = timeout;
    this.reader = new Thread(this::readLoop, "vici-" + socket.getFileName());
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Connects to charon's VICI socket.
   *
   * @param timeout how long a command may wait for its reply (initiate: on top of its own timeout)
   */
  public static ViciClient connect(Path socket, Duration timeout) {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
      return new ViciClient(channel, socket, timeout);
    } catch (IOException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // the connect's failure is what is told
        }
      }
      throw new HostException("connect VICI", socket.toString(),
          Errno.inMessage(String.valueOf(e.getMessage())).orElse(Errno.EIO), String.valueOf(e.getMessage()));
    }
  }

  public Path socket() {
    return socket;
  }

  /** Sends a command and returns charon's reply as it is (its {@code success} not looked at). */
  public ViciMessage request(String command, ViciMessage arguments) {
    return exchange(command, ViciPacket.request(command, arguments), timeout);
  }

  /**
   * Sends a command whose reply says {@code success}; a {@code success no} is refused with
   * charon's {@code errmsg}.
   */
  public ViciMessage command(String command, ViciMessage arguments) {
    return checked(command, arguments, request(command, arguments));
  }

  /**
   * Runs a command that streams {@code event}s until its reply: registers the event, sends the
   * command, collects the events, unregisters.
   */
  public Streamed streamed(String command, String event, ViciMessage arguments, Duration extraTimeout) {
    synchronized (commandLock) {
      List<ViciMessage> events = new CopyOnWriteArrayList<>();
      exchange(event, ViciPacket.register(event), timeout);
      streamed = events;
      streamedEvent = event;
      try {
        ViciMessage reply = exchange(command, ViciPacket.request(command, arguments), timeout.plus(extraTimeout));
        return new Streamed(reply, List.copyOf(events));
      } finally {
        streamedEvent = null;
        streamed = null;
        if (!closed) {
          exchange(event, ViciPacket.unregister(event), timeout);
        }
      }
    }
  }

  /** Subscribes to an event ({@code ike-updown}, {@code child-updown}, {@code ike-rekey}...). */
  public Subscription subscribe(String event, Executor executor, Consumer<ViciMessage> handler) {
    synchronized (commandLock) {
      List<Subscriber> list = subscribers.computeIfAbsent(event, e -> new CopyOnWriteArrayList<>());
      boolean first = list.isEmpty();
      Subscriber subscriber = new Subscriber(executor, handler);
      list.add(subscriber);
      if (first) {
        try {
          exchange(event, ViciPacket.register(event), timeout);
        } catch (RuntimeException e) {
          list.remove(subscriber);
          throw e;
        }
      }
      return () -> unsubscribe(event, subscriber);
    }
  }

  private void unsubscribe(String event, Subscriber subscriber) {
    synchronized (commandLock) {
      List<Subscriber> list = subscribers.get(event);
      if (list != null && list.remove(subscriber) && list.isEmpty() && !closed) {
        exchange(event, ViciPacket.unregister(event), timeout);
      }
    }
  }

  // --- the commands Verge uses, typed -------------------------------------------------------

  public void loadConn(String name, ViciMessage connection) {
    command("load-conn", ViciMessage.builder().putSection(name, connection).build());
  }

  public void unloadConn(String name) {
    command("unload-conn", ViciMessage.builder().put("name", name).build());
  }

  /** Loads a shared secret ({@code IKE} for a PSK) under {@code id}, for the given identities. */
  public void loadShared(String id, String type, String secret, List<String> owners) {
    command("load-shared", ViciMessage.builder().put("id", id).put("type", type).put("data", secret)
        .putList("owners", owners).build());
  }

  public void unloadShared(String id) {
    command("unload-shared", ViciMessage.builder().put("id", id).build());
  }

  /** What {@code load-cert} is told a certificate is: an end entity's, or a CA to trust. */
  public enum CertificateKind {
    /** An end entity's certificate (ours, to send and to find our key by). */
    X509("X509", "NONE"),
    /** A CA certificate: a trust anchor for the peers' certificates. */
    X509_CA("X509", "CA");

    final String type;
    final String flag;

    CertificateKind(String type, String flag) {
      this.type = type;
      this.flag = flag;
    }
  }

  /** The private key types {@code load-key} takes, as it names them. */
  public enum KeyType {
    RSA("rsa"),
    ECDSA("ecdsa");

    final String vici;

    KeyType(String vici) {
      this.vici = vici;
    }
  }

  /** The {@code load-cert} request: {@code type}, {@code flag}, {@code data} (DER). */
  static ViciMessage loadCertRequest(CertificateKind kind, Der certificate) {
    return ViciMessage.builder().put("type", kind.type).put("flag", kind.flag).put("data", certificate).build();
  }

  /** The {@code load-key} request: {@code type}, {@code data} (DER). */
  static ViciMessage loadKeyRequest(KeyType type, Der key) {
    return ViciMessage.builder().put("type", type.vici).put("data", key).build();
  }

  /** Loads a certificate into charon's credentials. */
  public void loadCert(CertificateKind kind, Der certificate) {
    command("load-cert", loadCertRequest(kind, certificate));
  }

  /** Loads a private key; returns charon's id of it (the SHA-1 of its public key, hex). */
  public String loadKey(KeyType type, Der key) {
    return command("load-key", loadKeyRequest(type, key)).text("id");
  }

  /** Drops every credential loaded over VICI: certificates, keys and shared secrets. */
  public void clearCreds() {
    command("clear-creds", ViciMessage.EMPTY);
  }

  /** What an {@code initiate} came to, with charon's log lines of the attempt (IKE's reasons). */
  public record InitiateResult(boolean success, String error, List<String> log) {
    /** The last IKE-level line of the log, the best reason charon gives for a failure. */
    public String reason() {
      for (int i = log.size() - 1; i >= 0; i--) {
        String line = log.get(i);
        if (line.contains("error") || line.contains("failed") || line.contains("giving up")
            || line.contains("NO_PROPOSAL_CHOSEN") || line.contains("no IKE config")) {
          return line;
        }
      }
      return error;
    }
  }

  /**
   * Initiates a CHILD_SA (and its IKE_SA) and waits up to {@code wait} for the outcome; a failure
   * is a result (with IKE's reason), not an exception.
   */
  public InitiateResult initiate(String child, String ike, Duration wait) {
    ViciMessage args = ViciMessage.builder().put("child", child).put("ike", ike)
        .put("timeout", wait.toMillis()).put("loglevel", 1).build();
    Streamed s = streamed("initiate", "control-log", args, wait);
    List<String> log = new ArrayList<>();
    for (ViciMessage e : s.events()) {
      log.add("[" + e.text("group") + "] " + e.text("msg"));
    }
    return new InitiateResult(s.response().isYes("success"), s.response().text("errmsg"), List.copyOf(log));
  }

  /** Terminates an IKE_SA (and its children) by connection name; none up is not an error. */
  public void terminateIke(String ike, Duration wait) {
    ViciMessage args = ViciMessage.builder().put("ike", ike).put("timeout", wait.toMillis())
        .put("force", true).build();
    ViciMessage reply = streamed("terminate", "control-log", args, wait).response();
    if (!reply.isYes("success") && !reply.text("errmsg").contains("no matching SAs")) {
      throw refused("terminate", reply);
    }
  }

  /** The IKE_SAs charon has (streamed as {@code list-sa} events), optionally of one connection. */
  public List<IkeSa> listSas(String ike) {
    ViciMessage.Builder args = ViciMessage.builder();
    if (!ike.isEmpty()) {
      args.put("ike", ike);
    }
    List<IkeSa> sas = new ArrayList<>();
    for (ViciMessage event : streamed("list-sas", "list-sa", args.build(), Duration.ZERO).events()) {
      sas.addAll(IkeSa.fromListSa(event));
    }
    return List.copyOf(sas);
  }

  public ViciMessage stats() {
    return request("stats", ViciMessage.EMPTY);
  }

  private ViciMessage checked(String command, ViciMessage arguments, ViciMessage reply) {
    if (!reply.isYes("success")) {
      throw refused(command, reply);
    }
    return reply;
  }

  private HostException refused(String command, ViciMessage reply) {
    String err = reply.text("errmsg");
    return new HostException("run VICI " + command, socket.toString(), Errno.EINVAL,
        "charon refused: " + (err.isEmpty() ? reply.toString() : err));
  }

  // --- machinery -------------------------------------------------------------------------------

  /** Writes one packet and waits for the reply that belongs to it. */
  private ViciMessage exchange(String what, ViciPacket packet, Duration wait) {
    synchronized (commandLock) {
      if (closed) {
        throw new HostException("run VICI " + what, socket.toString(), Errno.EIO,
            readerFailure != null ? readerFailure : "client closed");
      }
      replies.clear();
      try {
        ByteBuffer out = ByteBuffer.wrap(ViciCodec.encode(packet));
        while (out.hasRemaining()) {
          channel.write(out);
        }
      } catch (IOException e) {
        throw new HostException("run VICI " + what, socket.toString(), Errno.EIO, "write failed: " + e.getMessage());
      }
      ViciPacket reply;
      try {
        reply = replies.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HostException("run VICI " + what, socket.toString(), Errno.EINTR, "interrupted");
      }
      if (reply == null) {
        throw new HostException("run VICI " + what, socket.toString(), Errno.ETIMEDOUT,
            "no reply from charon within " + wait.toMillis() + " ms");
      }
      return switch (reply.type()) {
        case CMD_RESPONSE -> reply.message();
        case EVENT_CONFIRM -> ViciMessage.EMPTY;
        case CMD_UNKNOWN -> {
          if (reply == CLOSED) {
            throw new HostException("run VICI " + what, socket.toString(), Errno.EIO,
                "charon closed the connection" + (readerFailure != null ? ": " + readerFailure : ""));
          }
          throw new HostException("run VICI " + what, socket.toString(), Errno.EOPNOTSUPP, "charon knows no command " + what);
        }
        case EVENT_UNKNOWN -> throw new HostException("register VICI event", what, Errno.EOPNOTSUPP,
            "charon knows no event " + what);
        default -> throw new HostException("run VICI " + what, socket.toString(), Errno.EIO,
            "unexpected " + reply.type() + " packet");
      };
    }
  }

  private void readLoop() {
    ByteBuffer header = ByteBuffer.allocate(4);
    try {
      while (true) {
        header.clear();
        readFully(header);
        int length = header.flip().getInt();
        if (length <= 0 || length > ViciCodec.MAX_PACKET) {
          throw new IOException("bad VICI packet length " + length);
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        readFully(body);
        dispatch(ViciCodec.decode(body.array()));
      }
    } catch (IOException | IllegalArgumentException e) {
      if (!closed) {
        readerFailure = e instanceof EOFException ? "connection closed by charon" : String.valueOf(e.getMessage());
        LOG.info("VICI {}: reader ends: {}", socket, readerFailure);
      }
    } finally {
      closed = true;
      replies.add(CLOSED);
    }
  }

  private void dispatch(ViciPacket packet) {
    if (packet.type() != ViciPacket.Type.EVENT) {
      replies.add(packet);
      return;
    }
    String name = packet.name().orElseThrow();
    List<ViciMessage> collecting = streamed;
    if (name.equals(streamedEvent) && collecting != null) {
      collecting.add(packet.message());
    }
    for (Subscriber s : subscribers.getOrDefault(name, List.of())) {
      try {
        s.executor().execute(() -> s.handler().accept(packet.message()));
      } catch (RuntimeException e) {
        LOG.warn("VICI {}: the executor of a {} subscriber refused the event: {}", socket, name, e.toString());
      }
    }
  }

  private void readFully(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing left to release
    }
    try {
      reader.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
