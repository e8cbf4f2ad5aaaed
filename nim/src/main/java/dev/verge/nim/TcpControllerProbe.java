package dev.verge.nim;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The controller test: a TCP connection to the controller's device service, from the port's
 * address, within the timeout. Cheaper than EVE's HTTPS GET /ping, so it can run often as a
 * liveness probe; the controller session itself (zedagent) proves TLS and identity.
 * Connections are opened on {@code sockets}' thread: for a node started with {@code ip netns exec}
 * any thread is in the right namespace; tests pass a thread that entered theirs.
 */
public final class TcpControllerProbe implements ControllerProbe, AutoCloseable {
  private final String host;
  private final int port;
  private final ExecutorService sockets;

  public TcpControllerProbe(String target, ExecutorService sockets) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw new IllegalArgumentException("controller target '" + target + "' is not host:port");
    }
    this.host = target.substring(0, colon).replace("[", "").replace("]", "");
    this.port = Integer.parseInt(target.substring(colon + 1));
    this.sockets = sockets;
  }

  /** Probes from a thread pool of this namespace. */
  public static TcpControllerProbe inCurrentNamespace(String target) {
    return new TcpControllerProbe(target, Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "nim-probe");
      t.setDaemon(true);
      return t;
    }));
  }

  @Override
  public void probe(Request request, Consumer<Result> done) {
    try {
      sockets.execute(() -> done.accept(connect(request)));
    } catch (RejectedExecutionException e) {
      done.accept(Result.failure("prober stopped"));
    }
  }

  private Result connect(Request request) {
    long start = System.nanoTime();
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(request.source(), 0));
      socket.connect(new InetSocketAddress(host, port), (int) Math.max(1, request.timeout().toMillis()));
      return Result.success(Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException | RuntimeException e) {
      return Result.failure("cannot reach controller " + host + ":" + port + " from " + request.source().getHostAddress()
          + " on " + request.ifName() + ": " + e.getMessage());
    }
  }

  @Override
  public void close() {
    sockets.shutdownNow();
  }
}
