package dev.verge.controller.replicas;

import dev.verge.controller.store.StoreLocation;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A running {@link ReplicaProcess}, its ports and an admin channel to it; close() kills it. Reads
 * the child's output itself (not testkit's ProcessOutput) because the fleet benchmark's jar
 * carries this class but not the test-scoped testkit.
 */
public final class Replica implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("replica device=(\\d+) admin=(\\d+) metrics=(-?\\d+)");

  public final String name;
  public final Path dataDir;
  private final Process process;
  private final List<String> output;
  public final int devicePort;
  public final int adminPort;
  public final int metricsPort;
  private final ManagedChannel adminChannel;

  private Replica(String name, Path dataDir, Process process, List<String> output, Matcher ready) {
    this.name = name;
    this.dataDir = dataDir;
    this.process = process;
    this.output = output;
    this.devicePort = Integer.parseInt(ready.group(1));
    this.adminPort = Integer.parseInt(ready.group(2));
    this.metricsPort = Integer.parseInt(ready.group(3));
    this.adminChannel = Grpc.newChannelBuilderForAddress("127.0.0.1", adminPort, InsecureChannelCredentials.create()).build();
  }

  /** Starts a replica process on {@code dataDir} (copy the first replica's pki there first to share its CA). */
  public static Replica start(String name, Path dataDir, StoreLocation store) throws Exception {
    return start(name, dataDir, store, "-Xmx512m");
  }

  /** As above with the replica JVM's own options (heap size, a flight recording for profiling). */
  public static Replica start(String name, Path dataDir, StoreLocation store, String... jvmOptions) throws Exception {
    String javaBinary = ProcessHandle.current().info().command().orElse("java");
    String uri = "postgresql://" + store.user() + "@" + store.host() + ":" + store.port() + "/" + store.database();
    List<String> command = new java.util.ArrayList<>();
    command.add(javaBinary);
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ReplicaProcess.class.getName(), dataDir.toString(), uri));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    List<String> output = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.concurrent.CompletableFuture<Matcher> ready = new java.util.concurrent.CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
          java.nio.charset.StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          output.add(line);
          Matcher matcher = READY.matcher(line);
          if (matcher.matches()) {
            ready.complete(matcher);
          }
        }
      } catch (java.io.IOException e) {
        // killed: its output ends here
      }
      ready.completeExceptionally(new IllegalStateException(name + " ended before it was ready:\n" + String.join("\n", output)));
    }, "output-of-" + name);
    reader.setDaemon(true);
    reader.start();
    try {
      return new Replica(name, dataDir, process, output, ready.get(60, TimeUnit.SECONDS));
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException(name + " did not start: " + e.getMessage() + "\n" + String.join("\n", output), e);
    }
  }

  public AdminServiceGrpc.AdminServiceBlockingStub admin() {
    return AdminServiceGrpc.newBlockingStub(adminChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** kill -9: no shutdown hook, no stream closed politely. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** Heap in use right after a full GC (jcmd GC.run, then the replica's own Prometheus heap gauge). */
  public long heapAfterGcBytes() throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process gc = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "GC.run")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!gc.waitFor(60, TimeUnit.SECONDS) || gc.exitValue() != 0) {
      throw new IllegalStateException("jcmd GC.run on " + name + " failed");
    }
    var http = java.net.http.HttpClient.newHttpClient();
    String text = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith("verge_controller_heap_used_bytes ")).findFirst()
        .map(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())) // Prometheus writes 1.234E8
        .orElseThrow(() -> new IllegalStateException(name + " has no heap gauge"));
  }

  /** Writes the replica's flight recording named {@code recording} (started with -XX:StartFlightRecording) to {@code file}. */
  public void dumpFlightRecording(String recording, Path file) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process dump = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "JFR.dump", "name=" + recording,
        "filename=" + file.toAbsolutePath()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!dump.waitFor(60, TimeUnit.SECONDS) || dump.exitValue() != 0) {
      throw new IllegalStateException("jcmd JFR.dump on " + name + " failed");
    }
  }

  /** CPU time the replica's process has used so far (user + system), in ns; 0 when the system does not say. */
  public long cpuNanos() {
    return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
  }

  public boolean alive() {
    return process.isAlive();
  }

  public String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  @Override
  public void close() throws InterruptedException {
    adminChannel.shutdownNow();
    kill();
  }
}
