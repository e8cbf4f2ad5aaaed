package dev.verge.controller.replicas;

import dev.verge.controller.store.StoreLocation;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.testkit.ProcessOutput;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A running {@link ReplicaProcess}, its ports and an admin channel to it; close() kills it. */
public final class Replica implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("replica device=(\\d+) admin=(\\d+) metrics=(-?\\d+)");

  public final String name;
  public final Path dataDir;
  private final Process process;
  private final ProcessOutput output;
  public final int devicePort;
  public final int adminPort;
  public final int metricsPort;
  private final ManagedChannel adminChannel;

  private Replica(String name, Path dataDir, Process process, ProcessOutput output, Matcher ready) {
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
    String java = ProcessHandle.current().info().command().orElse("java");
    String uri = "postgresql://" + store.user() + "@" + store.host() + ":" + store.port() + "/" + store.database();
    Process process = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        ReplicaProcess.class.getName(), dataDir.toString(), uri).redirectErrorStream(true).start();
    ProcessOutput output = ProcessOutput.of(name, process);
    try {
      String line = output.awaitLine(l -> READY.matcher(l).matches(), Duration.ofSeconds(60));
      Matcher ready = READY.matcher(line);
      ready.matches();
      return new Replica(name, dataDir, process, output, ready);
    } catch (RuntimeException | AssertionError e) {
      process.destroyForcibly();
      throw e;
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

  public boolean alive() {
    return process.isAlive();
  }

  public String output() {
    return String.join("\n", output.lines());
  }

  @Override
  public void close() throws InterruptedException {
    adminChannel.shutdownNow();
    kill();
  }
}
