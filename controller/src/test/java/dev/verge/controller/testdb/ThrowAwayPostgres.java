package dev.verge.controller.testdb;

import dev.verge.controller.store.StoreLocation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A PostgreSQL cluster of its own for tests and benchmarks: {@code initdb} in a temporary directory,
 * {@code pg_ctl start} on 127.0.0.1 at a free port with its socket in that directory, removed by
 * {@link #close()} (and by a shutdown hook if the JVM ends first). initdb refuses to run as root,
 * so under root the server runs as the {@code postgres} system user the Debian package creates
 * ({@code runuser -u postgres}); otherwise as the current user. The binaries come from
 * {@code /usr/lib/postgresql/15/bin} ({@code scripts/setup} installs them) or {@code $VERGE_PG_BIN}.
 */
public final class ThrowAwayPostgres implements AutoCloseable {
  public static final String SUPERUSER = "verge";
  private static final String SERVICE_USER = "postgres";
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path dir;
  private final Path bin;
  private final int port;
  private final boolean asServiceUser;
  private final Thread shutdownHook;
  private boolean stopped;

  private ThrowAwayPostgres(Path dir, Path bin, int port, boolean asServiceUser) {
    this.dir = dir;
    this.bin = bin;
    this.port = port;
    this.asServiceUser = asServiceUser;
    this.shutdownHook = new Thread(this::stopQuietly, "stop-throwaway-postgres");
  }

  /** Creates and starts a cluster; fails with what to install when PostgreSQL is missing. */
  public static ThrowAwayPostgres start() throws IOException, InterruptedException {
    Path bin = Path.of(System.getenv().getOrDefault("VERGE_PG_BIN", "/usr/lib/postgresql/15/bin"));
    if (!Files.isExecutable(bin.resolve("initdb")) || !Files.isExecutable(bin.resolve("pg_ctl"))) {
      throw new IllegalStateException("PostgreSQL server binaries not found in " + bin
          + ": run scripts/setup (it installs the distribution's postgresql package) or set VERGE_PG_BIN");
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("verge-pg-");
    ThrowAwayPostgres cluster = new ThrowAwayPostgres(dir, bin, freePort(), root);
    Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
    try {
      if (root) {
        run(List.of("chown", SERVICE_USER + ":", dir.toString()), dir, false);
      }
      cluster.run(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", SUPERUSER,
          "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"));
      cluster.run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
          dir.resolve("server.log").toString(), "-w", "-t", "60", "-o",
          "-p " + cluster.port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
          "start"));
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void run(List<String> command) throws IOException, InterruptedException {
    run(command, dir, asServiceUser);
  }

  private static void run(List<String> command, Path dir, boolean asServiceUser) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asServiceUser) {
      full.addAll(List.of("runuser", "-u", SERVICE_USER, "--"));
    }
    full.addAll(command);
    Path output = Files.createTempFile("verge-pg-cmd", ".out");
    try {
      Process process = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(output.toFile()).start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", full) + " did not finish in 120 s");
      }
      if (process.exitValue() != 0) {
        throw new IOException(String.join(" ", full) + " failed (exit " + process.exitValue() + "): "
            + Files.readString(output, StandardCharsets.UTF_8).strip());
      }
    } finally {
      Files.deleteIfExists(output);
    }
  }

  public int port() {
    return port;
  }

  /** A fresh, empty database in this cluster (one per test class keeps them independent). */
  public StoreLocation newDatabase() throws SQLException {
    String name = "verge_" + DATABASES.incrementAndGet();
    try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return new StoreLocation("127.0.0.1", port, name, SUPERUSER, "", "");
  }

  public Connection connect(String database) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", SUPERUSER);
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, properties);
  }

  /**
   * CPU time (user + system, in ns) used so far by each of the server's processes alive now (the
   * postmaster and its children: sessions, background workers), by pid. For a benchmark's
   * breakdown (subtract an earlier sample per pid: a session that ended takes its CPU time with it);
   * empty when unknown.
   */
  public java.util.Map<Long, Long> cpuNanosByPid() {
    try {
      long pid = Long.parseLong(Files.readAllLines(dir.resolve("data").resolve("postmaster.pid")).get(0).trim());
      java.util.Map<Long, Long> cpu = new java.util.HashMap<>();
      ProcessHandle.of(pid).ifPresent(postmaster -> Stream.concat(Stream.of(postmaster), postmaster.descendants())
          .forEach(p -> p.info().totalCpuDuration().ifPresent(d -> cpu.put(p.pid(), d.toNanos()))));
      return cpu;
    } catch (IOException | RuntimeException e) {
      return java.util.Map.of();
    }
  }

  /** The server's log, for failure messages. */
  public String log() throws IOException {
    Path log = dir.resolve("server.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  @Override
  public void close() {
    stopQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs (or ran) the same stop
    }
  }

  private synchronized void stopQuietly() {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      if (Files.exists(dir.resolve("data").resolve("postmaster.pid"))) {
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop"));
      }
    } catch (IOException | InterruptedException e) {
      System.err.println("could not stop the throw-away PostgreSQL in " + dir + ": " + e.getMessage());
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not remove " + dir + ": " + e.getMessage());
    }
  }
}
