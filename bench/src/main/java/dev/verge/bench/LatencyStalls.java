package dev.verge.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the time of a latency run's slowest samples went: the slow samples grouped into episodes
 * (a stall delays every message in flight, so one stall is many slow samples), and what else used
 * the machine's CPUs during the window — this JVM's garbage collector and JIT, other processes
 * and kernel threads (e.g. kdamond, the kernel's memory monitor), read from /proc before and after.
 */
final class LatencyStalls {
  static final long SLOW_NANOS = 1_000_000;
  private static final long EPISODE_GAP_NANOS = 5_000_000;
  private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux

  private final long[] slowAt;
  private final long[] slowLatency;
  private int slowCount;
  private Map<String, Long> ticksBefore = Map.of();
  private long gcCountBefore;
  private long gcMillisBefore;
  private long jitMillisBefore;
  private long begunAt;
  private double windowSeconds;
  private long gcCount;
  private long gcMillis;
  private long jitMillis;
  private Map<String, Long> ticksAfter = Map.of();

  LatencyStalls(int capacity) {
    slowAt = new long[capacity];
    slowLatency = new long[capacity];
  }

  /**
   * Before the measurement window, off the measuring thread (reading /proc takes tens of ms): the
   * CPU figures cover the warm-up too.
   */
  void begin() {
    begunAt = System.nanoTime();
    ticksBefore = cpuTicksByTask();
    gcCountBefore = gcCount();
    gcMillisBefore = gcMillis();
    jitMillisBefore = jitMillis();
  }

  /** At the end of the window, while both ends are still running (their threads count). */
  void end() {
    windowSeconds = (System.nanoTime() - begunAt) / 1e9;
    ticksAfter = cpuTicksByTask();
    gcCount = gcCount() - gcCountBefore;
    gcMillis = gcMillis() - gcMillisBefore;
    jitMillis = jitMillis() - jitMillisBefore;
  }

  /** One sample: kept when slow. Called on the measuring loop only. */
  void sample(long receivedAt, long latencyNanos) {
    if (latencyNanos > SLOW_NANOS && slowCount < slowAt.length) {
      slowAt[slowCount] = receivedAt;
      slowLatency[slowCount++] = latencyNanos;
    }
  }

  /** Prints the breakdown on stderr; call after the window, on the thread that read the samples. */
  void report(int totalSamples) {
    record Episode(long at, int samples, long worst) {}
    var episodes = new ArrayList<Episode>();
    for (int i = 0; i < slowCount; ) {
      int j = i;
      long worst = 0;
      while (j < slowCount && (j == i || slowAt[j] - slowAt[j - 1] < EPISODE_GAP_NANOS)) {
        worst = Math.max(worst, slowLatency[j]);
        j++;
      }
      episodes.add(new Episode(slowAt[i], j - i, worst));
      i = j;
    }
    System.err.printf(
        Locale.ROOT,
        "  samples over 1 ms: %d of %d (%.2f%%) in %d stalls%n",
        slowCount, totalSamples, 100.0 * slowCount / Math.max(1, totalSamples), episodes.size());
    long origin = System.nanoTime() - ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
    episodes.stream()
        .sorted(Comparator.comparingInt(Episode::samples).reversed())
        .limit(3)
        .forEach(
            e ->
                System.err.printf(
                    Locale.ROOT,
                    "    stall at %d ms (JVM uptime): %d samples, worst %.1f ms%n",
                    (e.at() - origin) / 1_000_000, e.samples(), e.worst() / 1e6));
    System.err.printf(
        Locale.ROOT,
        "  from warm-up to the end (%.1f s), subscriber JVM: %d GC pauses, %d ms; JIT %d ms%n",
        windowSeconds, gcCount, gcMillis, jitMillis);
    var after = ticksAfter;
    var used = new ArrayList<Map.Entry<String, Long>>();
    after.forEach(
        (task, ticks) -> {
          long delta = ticks - ticksBefore.getOrDefault(task, 0L);
          if (delta > 0) {
            used.add(Map.entry(task, delta));
          }
        });
    used.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    var top = new StringBuilder();
    for (var e : used.subList(0, Math.min(6, used.size()))) {
      top.append(String.format(Locale.ROOT, " %s %.0f ms,", e.getKey(), e.getValue() * 1000 / TICKS_PER_SECOND));
    }
    System.err.println("  CPU by task (pid/name) in that time:" + top);
  }

  private static long gcCount() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(b -> Math.max(0, b.getCollectionCount()))
        .sum();
  }

  private static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(b -> Math.max(0, b.getCollectionTime()))
        .sum();
  }

  private static long jitMillis() {
    var jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
  }

  /** utime+stime per thread of every process, keyed "pid/comm" (threads summed per comm). */
  private static Map<String, Long> cpuTicksByTask() {
    var ticks = new HashMap<String, Long>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try (Stream<Path> tasks = Files.list(proc.resolve("task"))) {
          for (Path task : tasks.toList()) {
            String stat = Files.readString(task.resolve("stat"));
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            String comm = stat.substring(open + 1, close).replaceAll("[#\\d]+$", "").trim();
            List<String> fields = List.of(stat.substring(close + 2).split(" "));
            long cpu = Long.parseLong(fields.get(11)) + Long.parseLong(fields.get(12));
            ticks.merge(proc.getFileName() + "/" + comm, cpu, Long::sum);
          }
        } catch (IOException | RuntimeException gone) {
          // the process exited meanwhile
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return ticks;
  }
}
