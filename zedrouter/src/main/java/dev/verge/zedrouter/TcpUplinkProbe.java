package dev.verge.zedrouter;

import dev.verge.hostos.Host;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * A TCP connection attempt from the port's address to the target. The target answering at all (it
 * accepts, or it resets a closed port) proves the path through the port works; silence until the
 * timeout, or an ICMP error, proves it does not. This needs no raw socket, and a gateway that
 * answers TCP with a reset counts as alive as it would for a ping.
 *
 * <p>Each socket is created and bound inside the host's network namespace
 * ({@link Host#openInNamespace}), then connected on a probe thread, so a slow probe never blocks
 * the namespace thread and nothing is ever opened in the machine's own namespace.
 */
public final class TcpUplinkProbe implements UplinkProbe, AutoCloseable {
  private final Host host;
  private final ExecutorService connects = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "zedrouter-probe");
    t.setDaemon(true);
    return t;
  });

  public TcpUplinkProbe(Host host) {
    this.host = host;
  }

  @Override
  public void probe(Target target, Consumer<Result> done) {
    try {
      connects.execute(() -> done.accept(connect(target)));
    } catch (RejectedExecutionException e) {
      done.accept(Result.failure("prober stopped"));
    }
  }

  private Result connect(Target target) {
    String what = target.destination().getAddress().getHostAddress() + ":" + target.destination().getPort()
        + " from " + target.source().getHostAddress() + " on " + target.ifName();
    Socket socket;
    try {
      socket = host.openInNamespace(() -> {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(target.source(), 0)); // creates the socket here, in the namespace
        return s;
      });
    } catch (RuntimeException e) {
      return Result.failure("cannot open a probe socket on " + target.ifName() + ": " + e.getMessage());
    }
    try (socket) {
      long start = System.nanoTime();
      socket.connect(target.destination(), (int) Math.max(1, target.timeout().toMillis()));
      return Result.success(java.time.Duration.ofNanos(System.nanoTime() - start));
    } catch (ConnectException e) {
      // a reset is an answer from the far end; no route or an ICMP unreachable is not
      return e.getMessage() != null && e.getMessage().contains("refused") ? Result.success()
          : Result.failure("no answer from " + what + ": " + e.getMessage());
    } catch (IOException e) {
      return Result.failure("no answer from " + what + ": " + e.getMessage());
    }
  }

  @Override
  public void close() {
    connects.shutdownNow();
  }
}
