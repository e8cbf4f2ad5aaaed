package dev.verge.zedrouter;

import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The node's uplink probes: ICMP echo to a port's gateway through the host's {@link
 * dev.verge.hostos.Pinger} (bound to the port, from its address), TCP through {@code tcp}. Each ping
 * waits on {@code pings}, never on zedrouter's loop.
 */
final class PingUplinkProbe implements UplinkProbe, AutoCloseable {
  private final Host host;
  private final UplinkProbe tcp;
  private final Executor pings;

  /**
   * @param tcp the remote TCP probe (the sim has no sockets: it passes every port there)
   * @param pings where a ping waits for its answer (the sim answers at once: the caller's thread)
   */
  PingUplinkProbe(Host host, UplinkProbe tcp, Executor pings) {
    this.host = host;
    this.tcp = tcp;
    this.pings = pings;
  }

  /** Pings wait on daemon threads of their own. */
  static ExecutorService pingThreads() {
    return Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "zedrouter-ping");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void probe(Target target, Consumer<Result> done) {
    if (target.method() == Method.TCP) {
      tcp.probe(target, done);
      return;
    }
    try {
      pings.execute(() -> done.accept(ping(target)));
    } catch (RejectedExecutionException e) {
      done.accept(Result.failure("prober stopped"));
    }
  }

  private Result ping(Target target) {
    try {
      return Result.success(host.pinger().echo(target.ifName(), target.source(), target.destination().getAddress(),
          target.timeout()));
    } catch (HostException | IllegalStateException e) {
      return Result.failure(e.getMessage());
    }
  }

  @Override
  public void close() throws Exception {
    if (pings instanceof ExecutorService service) {
      service.shutdownNow();
    }
    if (tcp instanceof AutoCloseable closeable) {
      closeable.close();
    }
  }
}
