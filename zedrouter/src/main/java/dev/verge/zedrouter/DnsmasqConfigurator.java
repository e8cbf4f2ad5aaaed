package dev.verge.zedrouter;

import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.HostException;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Runs one dnsmasq per local NI under the host's daemon supervisor, in its own directories. A
 * change of reservations, names or upstream servers only rewrites files (dnsmasq rereads its host
 * directories and its resolv-file through inotify); any other change, or a reservation removed
 * (dnsmasq keeps deleted entries until a reload), restarts it.
 */
final class DnsmasqConfigurator implements Configurator {
  static final String CONFIG_FILE = "dnsmasq.conf";
  static final Duration READY_TIMEOUT = Duration.ofSeconds(10);

  private final DaemonSupervisor daemons;
  private final java.util.concurrent.Executor loop;
  private final java.util.function.BiConsumer<String, String> output;

  /**
   * @param loop where readiness is told: the agent's loop, never inside the operation that starts it
   * @param output each line a dnsmasq writes, with its NI's bridge, on the loop (the DNS log)
   */
  DnsmasqConfigurator(DaemonSupervisor daemons, java.util.concurrent.Executor loop,
      java.util.function.BiConsumer<String, String> output) {
    this.daemons = daemons;
    this.loop = loop;
    this.output = output;
  }

  @Override
  public void create(OpContext ctx, Item item) throws IOException {
    DnsmasqConfig config = ((Items.Dnsmasq) item).config();
    DaemonPaths paths = daemons.paths(config.daemonName());
    Path conf = paths.config().resolve(CONFIG_FILE);
    write(conf, config.render(paths));
    write(DnsmasqConfig.upstreamFile(paths), config.upstreamResolvConf());
    syncHostDirs(config, paths);
    DaemonSpec spec = new DaemonSpec(config.daemonName(),
        java.util.List.of("dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=" + conf),
        java.util.Optional.of(java.util.regex.Pattern.compile("DHCP, IP range")), READY_TIMEOUT,
        DaemonSpec.RestartPolicy.DEFAULT);
    // In the background: the agent's loop goes on (other NIs, events) while dnsmasq comes up; the
    // NI is ONLINE when it is ready.
    Consumer<Throwable> done = ctx.continueInBackground();
    AtomicBoolean told = new AtomicBoolean();
    ctx.onCancel(() -> {
      if (told.compareAndSet(false, true)) {
        stopQuietly(config.daemonName());
        done.accept(new java.util.concurrent.CancellationException("dnsmasq start cancelled"));
      }
    });
    daemons.start(spec, loop, new DaemonListener() {
      @Override
      public void onReady(DaemonStatus status) {
        if (told.compareAndSet(false, true)) {
          done.accept(null);
        }
      }

      @Override
      public void onOutput(String line) {
        output.accept(config.bridge(), line);
      }

      @Override
      public void onFailed(HostException reason, boolean willRetry) {
        if (told.compareAndSet(false, true)) {
          if (willRetry) {
            stopQuietly(config.daemonName()); // the reconciler retries the item, not the supervisor
          }
          done.accept(reason);
        }
      }
    });
  }

  private void stopQuietly(String name) {
    try {
      daemons.stop(name);
    } catch (HostException e) {
      // not supervised any more: nothing to stop
    }
  }

  @Override
  public void modify(OpContext ctx, Item oldItem, Item newItem) throws IOException {
    DnsmasqConfig before = ((Items.Dnsmasq) oldItem).config();
    DnsmasqConfig config = ((Items.Dnsmasq) newItem).config();
    DaemonPaths paths = daemons.paths(config.daemonName());
    // rewritten only when they changed: each rename makes dnsmasq reread the file
    if (!before.upstreamServers().equals(config.upstreamServers())) {
      write(DnsmasqConfig.upstreamFile(paths), config.upstreamResolvConf());
    }
    syncHostDirs(config, paths);
  }

  /** The host directories dnsmasq rereads by itself. */
  private static void syncHostDirs(DnsmasqConfig config, DaemonPaths paths) throws IOException {
    sync(DnsmasqConfig.dhcpHostsDir(paths), config.dhcpHostFiles());
    sync(DnsmasqConfig.hostsDir(paths), config.hostFiles());
  }

  @Override
  public boolean needsRecreate(Item oldItem, Item newItem) {
    DnsmasqConfig before = ((Items.Dnsmasq) oldItem).config();
    DnsmasqConfig after = ((Items.Dnsmasq) newItem).config();
    DaemonPaths any = new DaemonPaths(Path.of("c"), Path.of("s"), Path.of("r"), Path.of("l"));
    boolean removed = !after.dhcpHostFiles().keySet().containsAll(before.dhcpHostFiles().keySet())
        || !after.hostFiles().keySet().containsAll(before.hostFiles().keySet());
    return removed || !before.render(any).equals(after.render(any));
  }

  @Override
  public void delete(OpContext ctx, Item item) {
    daemons.stop(((Items.Dnsmasq) item).config().daemonName());
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Makes a directory hold exactly these files. */
  private static void sync(Path dir, Map<String, String> files) throws IOException {
    Files.createDirectories(dir);
    Set<String> wanted = files.keySet();
    try (Stream<Path> existing = Files.list(dir)) {
      for (Path p : existing.toList()) {
        if (!wanted.contains(p.getFileName().toString())) {
          Files.delete(p);
        }
      }
    }
    for (Map.Entry<String, String> file : files.entrySet()) {
      Path path = dir.resolve(file.getKey());
      if (!Files.exists(path) || !Files.readString(path).equals(file.getValue())) {
        write(path, file.getValue());
      }
    }
  }
}
