package dev.verge.bench;

import dev.verge.controller.client.FailoverDevice;
import dev.verge.controller.internal.ControllerKeys;
import dev.verge.controller.replicas.Replica;
import dev.verge.controller.store.StoreLocation;
import dev.verge.controller.testdb.ThrowAwayPostgres;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * {@code ./verge bench fleet}: N simulated devices (default 10,000; each its own certificate, TLS
 * connection and config stream) across two controller replicas (processes of their own) on one
 * throw-away PostgreSQL, uploading info and metrics every interval:
 *
 * <ul>
 *   <li>{@code fleet10k.heap} per replica (MB, after GC);
 *   <li>{@code fleet10k.push_ack.p99}: apply on replica A → acknowledgement by a device on either replica;
 *   <li>{@code fleet10k.fresh_ratio}: devices whose info the store holds from within two intervals;
 *   <li>{@code fleet10k.failover.reconnect}: replica B killed (-9) → every one of its devices resumed on A.
 * </ul>
 *
 * Runs three times (the BENCH line is the median; a comment gives each run and the spread).
 * {@code -Dverge.bench.fleet.devices=N} and {@code -Dverge.bench.fleet.runs=R} change the size.
 *
 * <p>Warm-up, none of it counted: first one whole run whose figures are printed as comments only
 * ({@code -Dverge.bench.fleet.warmup_runs}, default 1): it compiles the simulated fleet's own
 * reconnect, TLS and upload paths, which a real fleet runs on 10,000 machines of their own and not
 * on the controller's cores; the replicas are new in every run, so it warms no replica. Then, in
 * every run, 100 untimed pushes to other devices before the 300 timed ones
 * ({@code -Dverge.bench.fleet.warmup_pushes}): a replica that takes a push in production has been
 * running for hours. What is measured is unchanged: all devices, real mutual TLS, replica B killed
 * with -9 and every one of its devices resumed on A.
 *
 * <p>Per run it also prints where the failover's time goes (per device: kill → loss noticed, loss →
 * dial, dial → TLS up and certificates fetched, → Hello answered), the re-dials that failed and why,
 * and the CPU the machine, the simulator, replica A and PostgreSQL used from the kill until every
 * device had resumed.
 */
public final class FleetBenchmark {
  private static final int DEVICES = Integer.getInteger("verge.bench.fleet.devices", 10_000);
  private static final int RUNS = Integer.getInteger("verge.bench.fleet.runs", 3);
  private static final long INTERVAL_MS = Long.getLong("verge.bench.fleet.interval_ms", 15_000);
  /** Pushes timed per run: p99 is then the third-slowest (nearest rank), not one stray pause of any of the processes. */
  private static final int PUSH_SAMPLES = 300;
  /**
   * Untimed pushes before the timed ones, to other devices: the apply path of replica A, the push
   * path of both replicas and the devices' verify-and-apply path are JIT-compiled first, as in a
   * controller that has been running for hours. {@code -Dverge.bench.fleet.warmup_pushes=0} times cold paths.
   */
  private static final int WARMUP_PUSHES = Integer.getInteger("verge.bench.fleet.warmup_pushes", 100);
  /**
   * Whole runs before the counted ones, printed as comments only: they compile the simulated
   * fleet's own reconnect, TLS and upload paths (10,000 devices in one JVM, where each real device
   * is a machine of its own whose JIT does not compete with the controller for cores). The replicas
   * are fresh in every run, so this warms no replica. {@code -Dverge.bench.fleet.warmup_runs=0} skips it.
   */
  private static final int WARMUP_RUNS = Integer.getInteger("verge.bench.fleet.warmup_runs", 1);
  /** Extra JVM options of both replicas, e.g. a flight recording: {@code -Dverge.bench.fleet.replica_opts="-XX:StartFlightRecording=..."}. */
  private static final String REPLICA_OPTS = System.getProperty("verge.bench.fleet.replica_opts", "");
  /** When set, both replicas run a profiling flight recording, written there: B's before it is killed, A's after the failover. */
  private static final String JFR_DIR = System.getProperty("verge.bench.fleet.jfr_dir", "");

  private FleetBenchmark() {}

  record Run(double heapA, double heapB, double pushP99, double freshRatio, double failoverMs) {}

  public static void main(String[] args) throws Exception {
    List<Run> runs = new ArrayList<>();
    try (ThrowAwayPostgres cluster = ThrowAwayPostgres.start()) {
      for (int w = 0; w < WARMUP_RUNS; w++) {
        Run warm = once(cluster, RUNS + w, "warm-up run " + (w + 1));
        System.out.printf(Locale.ROOT, "# fleet warm-up run %d (not counted): heap A %.0f MB, heap B %.0f MB, push_ack p99 %.1f ms,"
            + " fresh %.4f, failover %.0f ms%n", w + 1, warm.heapA(), warm.heapB(), warm.pushP99(), warm.freshRatio(), warm.failoverMs());
      }
      for (int i = 0; i < RUNS; i++) {
        Run run = once(cluster, i, "run " + (i + 1));
        System.out.printf(Locale.ROOT, "# fleet run %d: heap A %.0f MB, heap B %.0f MB, push_ack p99 %.1f ms, fresh %.4f, failover %.0f ms%n",
            i + 1, run.heapA(), run.heapB(), run.pushP99(), run.freshRatio(), run.failoverMs());
        runs.add(run);
      }
    }
    String prefix = DEVICES == 10_000 ? "fleet10k" : "fleet" + DEVICES;
    report(prefix + ".heap", "MB", runs.stream().mapToDouble(r -> Math.max(r.heapA(), r.heapB())).toArray());
    report(prefix + ".push_ack.p99", "ms", runs.stream().mapToDouble(Run::pushP99).toArray());
    report(prefix + ".fresh_ratio", "ratio", runs.stream().mapToDouble(Run::freshRatio).toArray());
    report(prefix + ".failover.reconnect", "ms", runs.stream().mapToDouble(Run::failoverMs).toArray());
  }

  private static void report(String name, String unit, double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "BENCH %s %.3f %s%n", name, sorted[sorted.length / 2], unit);
    System.out.printf(Locale.ROOT, "# %s over %d runs: min %.3f max %.3f (spread %.3f %s)%n", name, sorted.length,
        sorted[0], sorted[sorted.length - 1], sorted[sorted.length - 1] - sorted[0], unit);
    System.out.flush();
  }

  /**
   * One run: fresh replicas on a fresh database, the fleet onboarded and connected, steady telemetry,
   * pushes, then the failover. {@code run} keeps the serials apart; {@code label} names it in the output.
   */
  private static Run once(ThrowAwayPostgres cluster, int run, String label) throws Exception {
    Path dir = Files.createTempDirectory("verge-fleet-bench");
    StoreLocation database = cluster.newDatabase();
    List<FailoverDevice> devices = new ArrayList<>();
    ScheduledExecutorService ticker = Executors.newScheduledThreadPool(16);
    // Reconnect timers of their own: a device's back-off must not wait behind other devices' blocking uploads.
    ScheduledExecutorService reconnects = Executors.newScheduledThreadPool(2);
    Replica a = null;
    Replica b = null;
    try {
      a = Replica.start("replica-a", dir.resolve("a"), database, replicaOptions());
      copyTree(dir.resolve("a/pki"), dir.resolve("b/pki"));
      b = Replica.start("replica-b", dir.resolve("b"), database, replicaOptions());
      X509Certificate ca = ControllerKeys.existingCa(dir.resolve("a")).orElseThrow().certificate();
      OnboardingRequest.Builder serials = OnboardingRequest.newBuilder();
      for (int i = 0; i < DEVICES; i++) {
        serials.addSerials(serial(run, i));
      }
      a.admin().addOnboarding(serials.build());

      ExecutorService setup = Executors.newFixedThreadPool(8);
      List<Future<FailoverDevice>> pending = new ArrayList<>();
      List<Integer> ports = List.of(a.devicePort, b.devicePort);
      for (int i = 0; i < DEVICES; i++) {
        FailoverDevice device = new FailoverDevice(serial(run, i), ca, ports, i % 2, reconnects);
        pending.add(setup.submit(() -> {
          device.start();
          return device;
        }));
      }
      for (Future<FailoverDevice> future : pending) {
        devices.add(future.get(300, TimeUnit.SECONDS));
      }
      setup.shutdown();

      AtomicLong failures = new AtomicLong();
      for (FailoverDevice device : devices) {
        ticker.scheduleAtFixedRate(() -> {
          try {
            device.report();
          } catch (RuntimeException e) {
            failures.incrementAndGet();
          }
        }, ThreadLocalRandom.current().nextLong(INTERVAL_MS), INTERVAL_MS, TimeUnit.MILLISECONDS);
      }
      Thread.sleep(INTERVAL_MS + 2000); // every device has reported once: steady telemetry

      long warmupStart = System.nanoTime();
      push(a, devices, PUSH_SAMPLES, WARMUP_PUSHES); // not timed: see WARMUP_PUSHES
      System.out.printf(Locale.ROOT, "# fleet %s: %d untimed warm-up pushes in %.1f s%n", label, WARMUP_PUSHES,
          (System.nanoTime() - warmupStart) / 1e9);
      double pushP99 = pushAckP99(a, devices);
      long now = System.currentTimeMillis();
      List<DeviceRecord> records = a.admin().withDeadlineAfter(120, TimeUnit.SECONDS).withMaxInboundMessageSize(256 << 20)
          .listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList();
      long fresh = records.stream().filter(r -> r.getLastInfoAtMs() >= now - 2 * INTERVAL_MS).count();
      double heapA = a.heapAfterGcBytes() / (1024.0 * 1024.0);
      double heapB = b.heapAfterGcBytes() / (1024.0 * 1024.0);

      List<FailoverDevice> onB = devices.stream().filter(d -> d.replica() == 1).toList();
      if (!JFR_DIR.isEmpty()) {
        b.dumpFlightRecording("fleet", Path.of(JFR_DIR, "replica-b-" + label.replace(' ', '-') + ".jfr"));
      }
      System.out.printf(Locale.ROOT, "# fleet %s: killing replica B at %d ms since the epoch%n", label, System.currentTimeMillis());
      CpuSample beforeKill = CpuSample.take(cluster, a);
      long killedAt = System.nanoTime();
      b.kill();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      long lastResumed = killedAt;
      for (FailoverDevice device : onB) {
        while (device.replica() != 0 || device.resumedAtNanos.get() == 0) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(device.serial() + " did not resume on replica A within 120 s");
          }
          Thread.sleep(5);
        }
        lastResumed = Math.max(lastResumed, device.resumedAtNanos.get());
      }
      double failoverMs = (lastResumed - killedAt) / 1e6;
      CpuSample allResumed = CpuSample.take(cluster, a);
      // Where the failover time goes, per device: noticing the loss, re-dialling (TLS + certificates), Hello answered.
      System.out.printf(Locale.ROOT, "# fleet %s failover stages (ms, p50/p99/max): kill->loss noticed %s; loss->dial (back-off) %s;"
          + " dial->TLS up and certificates fetched %s; ->resumed (Hello answered) %s%n", label,
          spread(onB.stream().mapToLong(d -> d.streamLostAtNanos.get() - killedAt)),
          spread(onB.stream().mapToLong(d -> d.dialStartedAtNanos.get() - d.streamLostAtNanos.get())),
          spread(onB.stream().mapToLong(d -> d.redialedAtNanos.get() - d.dialStartedAtNanos.get())),
          spread(onB.stream().mapToLong(d -> d.resumedAtNanos.get() - d.redialedAtNanos.get())));
      System.out.printf(Locale.ROOT, "# fleet %s CPU from the kill until every device had resumed (core-seconds, %d cores, %.1f s):"
          + " machine %.1f = simulator %.1f + replica A %.1f + PostgreSQL %.1f + the rest %.1f (B's exit, kernel threads,"
          + " other processes)%n", label, Runtime.getRuntime().availableProcessors(), (allResumed.wallNanos - beforeKill.wallNanos) / 1e9,
          allResumed.minus(beforeKill).machine, allResumed.minus(beforeKill).simulator, allResumed.minus(beforeKill).replicaA,
          allResumed.minus(beforeKill).postgres(), allResumed.minus(beforeKill).rest());
      long redialsFailed = onB.stream().mapToLong(d -> d.dialFailures.get()).sum();
      java.util.Map<String, Long> whyFailed = onB.stream().filter(d -> d.dialFailures.get() > 0)
          .collect(java.util.stream.Collectors.groupingBy(d -> d.lastDialFailure, java.util.TreeMap::new,
              java.util.stream.Collectors.counting()));
      System.out.printf(Locale.ROOT, "# fleet %s: %d failed re-dials; devices with one or more, by the last one's status: %s%n",
          label, redialsFailed, whyFailed);
      if (!JFR_DIR.isEmpty()) {
        a.dumpFlightRecording("fleet", Path.of(JFR_DIR, "replica-a-" + label.replace(' ', '-') + ".jfr"));
      }
      System.out.printf(Locale.ROOT, "# fleet %s: %d devices, %d upload failures, %d moved from B to A, info every %d ms%n",
          label, DEVICES, failures.get(), onB.size(), INTERVAL_MS);
      return new Run(heapA, heapB, pushP99, fresh / (double) DEVICES, failoverMs);
    } finally {
      ticker.shutdownNow();
      reconnects.shutdownNow();
      devices.parallelStream().forEach(FailoverDevice::close);
      if (a != null) {
        a.close();
      }
      if (b != null) {
        b.close();
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * Each replica runs as {@code verge controller serve} runs a controller (the launcher's
   * daemon_java_opts, 1 GiB): serial GC, whose pauses and absent concurrent threads leave a 2-core
   * machine's cores to the work, a fixed heap touched at start. The JVM's defaults (G1, a growing
   * heap) are not what is shipped.
   */
  private static final List<String> CONTROLLER_JVM = List.of("-XX:+UseSerialGC", "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
      "-XX:+UseTransparentHugePages", "-XX:+ExitOnOutOfMemoryError");

  private static String[] replicaOptions() {
    List<String> options = new ArrayList<>(CONTROLLER_JVM);
    if (!JFR_DIR.isEmpty()) {
      options.add("-XX:StartFlightRecording=name=fleet,settings=profile");
    }
    if (!REPLICA_OPTS.isBlank()) {
      options.addAll(List.of(REPLICA_OPTS.trim().split("\\s+")));
    }
    return options.toArray(String[]::new);
  }

  /**
   * CPU used so far (seconds): the whole machine (busy, from /proc/stat), this JVM, replica A, and
   * per PostgreSQL process (by pid: B's sessions end with B and take their CPU time with them, so
   * {@link #minus} counts only the processes alive at the later sample).
   */
  private record CpuSample(long wallNanos, double machine, double simulator, double replicaA,
      java.util.Map<Long, Long> postgresByPid) {
    static CpuSample take(ThrowAwayPostgres cluster, Replica a) {
      double machine = 0;
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
          if (i != 4 && i != 5) { // idle, iowait
            busy += Long.parseLong(f[i]);
          }
        }
        machine = busy / 100.0; // USER_HZ
      } catch (java.io.IOException | RuntimeException e) {
        machine = Double.NaN;
      }
      double self = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
      return new CpuSample(System.nanoTime(), machine, self, a.cpuNanos() / 1e9, cluster.cpuNanosByPid());
    }

    CpuSample minus(CpuSample earlier) {
      java.util.Map<Long, Long> used = new java.util.HashMap<>();
      postgresByPid.forEach((pid, nanos) -> used.put(pid, nanos - earlier.postgresByPid.getOrDefault(pid, 0L)));
      return new CpuSample(wallNanos - earlier.wallNanos, machine - earlier.machine, simulator - earlier.simulator,
          replicaA - earlier.replicaA, used);
    }

    double postgres() {
      return postgresByPid.values().stream().mapToLong(Long::longValue).sum() / 1e9;
    }

    double rest() {
      return machine - simulator - replicaA - postgres();
    }
  }

  /** p50/p99/max in ms of nanosecond durations. */
  private static String spread(java.util.stream.LongStream nanos) {
    long[] sorted = nanos.sorted().toArray();
    if (sorted.length == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, "%.0f/%.0f/%.0f", sorted[sorted.length / 2] / 1e6,
        PubsubBenchmark.percentile(sorted, 0.99) / 1e6, sorted[sorted.length - 1] / 1e6);
  }

  /** Applies through replica A to devices on both replicas, one at a time, until each device acknowledges. */
  private static double pushAckP99(Replica a, List<FailoverDevice> devices) throws Exception {
    long[][] timed = push(a, devices, 0, PUSH_SAMPLES);
    long[] samples = timed[0];
    System.out.printf(Locale.ROOT, "# push_ack stages (ms, p50/p99/max): apply stored %s; stored->config on device %s;"
        + " device verified+applied %s%n", spread(Arrays.stream(timed[1])), spread(Arrays.stream(timed[2])),
        spread(Arrays.stream(timed[3])));
    Arrays.sort(samples);
    return PubsubBenchmark.percentile(samples, 0.99) / 1e6;
  }

  /**
   * Pushes {@code count} configs one at a time (push {@code first + i} to device {@code (first + i) * 7919 mod N}:
   * the warm-up's devices are not the timed ones) and waits for each acknowledgement; returns the
   * durations in ns: whole push, apply stored, stored → config on the device, device verified + applied.
   */
  private static long[][] push(Replica a, List<FailoverDevice> devices, int first, int count) throws Exception {
    long[] samples = new long[count];
    long[] stored = new long[count];
    long[] delivered = new long[count];
    long[] verified = new long[count];
    for (int n = 0; n < count; n++) {
      int i = first + n;
      FailoverDevice device = devices.get((int) ((i * 7919L) % devices.size()));
      long start = System.nanoTime();
      ApplyConfigResponse applied = a.admin().applyConfig(ApplyConfigRequest.newBuilder().setDeviceUuid(device.uuid())
          .setConfig(DeviceConfig.newBuilder().setControllerEpoch(1)
              .addConfigItems(ConfigItem.newBuilder().setKey("push").setValue(String.valueOf(i)))).build());
      long storedAt = System.nanoTime();
      String hash = device.appliedEvents.poll(30, TimeUnit.SECONDS);
      while (hash != null && !hash.equals(applied.getConfigHash())) {
        hash = device.appliedEvents.poll(30, TimeUnit.SECONDS);
      }
      if (hash == null) {
        throw new IllegalStateException("push " + i + " to " + device.serial() + " was not acknowledged in 30 s");
      }
      long end = System.nanoTime();
      samples[n] = end - start;
      // Stages: apply stored (the admin call returns after the commit and pg_notify), config received on the device's
      // stream (notification → the holding replica reads, signs and sends), verified and applied by the device.
      stored[n] = storedAt - start;
      delivered[n] = device.configReceivedAtNanos.get() - storedAt;
      verified[n] = end - device.configReceivedAtNanos.get();
    }
    return new long[][] {samples, stored, delivered, verified};
  }

  private static String serial(int run, int index) {
    return String.format(Locale.ROOT, "FLEET-R%d-%05d", run, index);
  }

  private static void copyTree(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }
}
