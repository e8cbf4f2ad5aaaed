package dev.verge.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * Bus figures: in-JVM and cross-process throughput (handler calls per second, 256-byte messages,
 * 1,000 keys) and cross-process publish→handler latency at a steady 10,000 updates/s. The
 * cross-process figures use a child JVM as the publisher; latency compares {@link
 * System#nanoTime()} across the two JVMs, which on Linux is the system-wide CLOCK_MONOTONIC.
 *
 * <p>Prints only {@code BENCH <name> <value> <unit>} lines on stdout; progress goes to stderr.
 */
public final class PubsubBenchmark {
  static final Topic<BytesValue> TOPIC = Topic.of("bench", BytesValue.getDefaultInstance());
  static final int KEYS = 1000;
  /** Payload size such that the serialized message is 256 bytes (tag + 2-byte length + 253). */
  static final int PAYLOAD_BYTES = 253;

  static final long WARMUP_NANOS =
      TimeUnit.MILLISECONDS.toNanos(Long.getLong("verge.bench.warmupMillis", 1500));
  static final long MEASURE_NANOS = TimeUnit.SECONDS.toNanos(3);
  static final int LATENCY_RATE = 10_000;
  /**
   * Long enough that one stall of either JVM or of the VM (a GC, disk write-back after a build)
   * cannot make the p99 by itself: 1% of 100,000 samples is 100 ms of traffic.
   */
  static final long LATENCY_MEASURE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /**
   * Updates a publisher may be ahead of the handler. Fewer than the keys: publishing round-robin,
   * a key is never queued twice, so nothing coalesces and the count of handler calls (the acks)
   * never drifts from the count of publications.
   */
  static final int IN_FLIGHT = KEYS * 9 / 10;
  /** The cross-process subscriber reports its handler calls back on this topic. */
  static final Topic<Int64Value> ACKS = Topic.of("benchsub", Int64Value.getDefaultInstance());
  static final String ACK_KEY = "delivered";
  static final int ACK_EVERY = 50;

  private PubsubBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child-publisher")) {
      childPublisher(Path.of(args[1]), args[2], Long.parseLong(args[3]));
      return;
    }
    if (!Boolean.getBoolean("verge.bench.latencyOnly")) {
      double injvm = inJvmThroughput();
      print("pubsub.injvm.throughput", String.format(Locale.ROOT, "%.0f", injvm), "updates/s");
      double uds = udsThroughput();
      print("pubsub.uds.throughput", String.format(Locale.ROOT, "%.0f", uds), "updates/s");
    }
    double[] latency = udsLatency();
    print("pubsub.uds.latency.p50", String.format(Locale.ROOT, "%.3f", latency[0]), "ms");
    print("pubsub.uds.latency.p99", String.format(Locale.ROOT, "%.3f", latency[1]), "ms");
  }

  private static void print(String name, String value, String unit) {
    System.out.println("BENCH " + name + " " + value + " " + unit);
    System.out.flush();
  }

  /**
   * Counts handler calls on the agent loop (single writer, read by the main thread) and, when
   * given an ack publication, publishes the count every {@code ACK_EVERY} calls.
   */
  static final class CountingHandler implements SubscriptionHandler<BytesValue> {
    private final Publication<Int64Value> acks;
    volatile long calls;

    CountingHandler(Publication<Int64Value> acks) {
      this.acks = acks;
    }

    @Override
    public void onCreate(String key, BytesValue value) {
      counted();
    }

    @Override
    public void onModify(String key, BytesValue oldValue, BytesValue newValue) {
      counted();
    }

    private void counted() {
      long n = calls + 1;
      calls = n;
      if (acks != null && n % ACK_EVERY == 0) {
        acks.publish(ACK_KEY, Int64Value.of(n));
      }
    }
  }

  /** Per key two values that differ, so every publish is a real change. */
  static BytesValue[][] alternatingValues() {
    var values = new BytesValue[KEYS][2];
    for (int k = 0; k < KEYS; k++) {
      for (int v = 0; v < 2; v++) {
        byte[] payload = new byte[PAYLOAD_BYTES];
        Arrays.fill(payload, (byte) k);
        payload[0] = (byte) v;
        values[k][v] = BytesValue.of(ByteString.copyFrom(payload));
      }
    }
    return values;
  }

  static String[] keys() {
    var keys = new String[KEYS];
    for (int k = 0; k < KEYS; k++) {
      keys[k] = "key-" + k;
    }
    return keys;
  }

  static double inJvmThroughput() throws InterruptedException {
    System.err.println("pubsub bench: in-JVM throughput");
    var values = alternatingValues();
    var keys = keys();
    try (var loop = AgentLoop.create("bench-subscriber");
        var bus = PubSub.inJvm(PubSubConfig.defaults())) {
      var handler = new CountingHandler(null);
      bus.subscribe(TOPIC, loop, handler);
      var pub = bus.publish(TOPIC, Durability.VOLATILE);
      // The publisher stays at most IN_FLIGHT updates ahead of the handler, so the figure is
      // what the handler really receives, not a publisher racing ahead while the bus coalesces.
      var publisher =
          new Thread(
              () -> {
                long n = 0;
                while (!Thread.currentThread().isInterrupted()) {
                  if (n - handler.calls >= IN_FLIGHT) {
                    Thread.yield();
                    continue;
                  }
                  int k = (int) (n % KEYS);
                  pub.publish(keys[k], values[k][(int) ((n / KEYS) & 1)]);
                  n++;
                }
              },
              "bench-publisher");
      publisher.start();
      double rate = measure(handler);
      publisher.interrupt();
      publisher.join();
      System.err.printf(
          Locale.ROOT, "  published %d, coalesced %d%n",
          bus.metrics().published(), bus.metrics().coalesced());
      return rate;
    }
  }

  /** Handler calls per second over the measurement window, after the warm-up. */
  private static double measure(CountingHandler handler) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (handler.calls == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no update reached the subscriber");
      }
      Thread.sleep(5);
    }
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(WARMUP_NANOS));
    long c0 = handler.calls;
    long t0 = System.nanoTime();
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(MEASURE_NANOS));
    long c1 = handler.calls;
    long t1 = System.nanoTime();
    return (c1 - c0) * 1e9 / (t1 - t0);
  }

  static double udsThroughput() throws Exception {
    System.err.println("pubsub bench: cross-process throughput");
    Path dir = Files.createTempDirectory("verge-bench");
    var child = startChild(dir, "throughput", 0);
    try (var loop = AgentLoop.create("bench-subscriber");
        var bus = PubSub.unixSockets(config(dir))) {
      var handler = new CountingHandler(bus.publish(ACKS, Durability.VOLATILE));
      bus.subscribe(TOPIC, loop, handler);
      double rate = measure(handler);
      System.err.printf(
          Locale.ROOT, "  subscriber side coalesced %d (acks included)%n", bus.metrics().coalesced());
      return rate;
    } finally {
      stop(child);
      deleteTree(dir);
    }
  }

  /** Returns {p50, p99} in milliseconds. */
  static double[] udsLatency() throws Exception {
    System.err.println("pubsub bench: cross-process latency at " + LATENCY_RATE + " updates/s");
    Path dir = Files.createTempDirectory("verge-bench");
    var child = startChild(dir, "latency", LATENCY_RATE);
    int capacity = (int) (LATENCY_RATE * TimeUnit.NANOSECONDS.toSeconds(LATENCY_MEASURE_NANOS) * 2);
    var samples = new long[capacity];
    var handler =
        new SubscriptionHandler<BytesValue>() {
          volatile long firstSeen;
          volatile long firstSample;
          volatile long lastSample;
          volatile int count;
          final LatencyStalls stalls = new LatencyStalls(samples.length);

          @Override
          public void onCreate(String key, BytesValue value) {
            sample(value);
          }

          @Override
          public void onModify(String key, BytesValue oldValue, BytesValue newValue) {
            sample(newValue);
          }

          private void sample(BytesValue value) {
            long now = System.nanoTime();
            if (firstSeen == 0) {
              firstSeen = now;
            }
            if (now - firstSeen < WARMUP_NANOS || count >= samples.length) {
              return;
            }
            long sent = value.getValue().asReadOnlyByteBuffer().getLong();
            if (count == 0) {
              firstSample = now;
            }
            lastSample = now;
            stalls.sample(now, now - sent);
            samples[count] = now - sent;
            count = count + 1;
          }
        };
    try (var loop = AgentLoop.create("bench-subscriber");
        var bus = PubSub.unixSockets(config(dir))) {
      bus.subscribe(TOPIC, loop, handler);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (handler.firstSeen == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      handler.stalls.begin();
      while (handler.count < LATENCY_RATE * TimeUnit.NANOSECONDS.toSeconds(LATENCY_MEASURE_NANOS)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("too few latency samples: " + handler.count);
        }
        Thread.sleep(20);
      }
      handler.stalls.end();
      System.err.printf(Locale.ROOT, "  subscriber coalesced %d%n", bus.metrics().coalesced());
    } finally {
      stop(child);
      deleteTree(dir);
    }
    // The figure only means something at the rate it claims: check what the handler received.
    double rate = (handler.count - 1) * 1e9 / (handler.lastSample - handler.firstSample);
    if (rate < LATENCY_RATE * 0.95) {
      throw new IllegalStateException(
          String.format(Locale.ROOT, "latency run reached only %.0f updates/s", rate));
    }
    long[] sorted = Arrays.copyOf(samples, handler.count);
    Arrays.sort(sorted);
    System.err.printf(
        Locale.ROOT,
        "  %d samples at %.0f updates/s; p90 %.3f ms, p99.9 %.3f ms, max %.3f ms%n",
        sorted.length,
        rate,
        percentile(sorted, 0.90) / 1e6,
        percentile(sorted, 0.999) / 1e6,
        sorted[sorted.length - 1] / 1e6);
    handler.stalls.report(sorted.length);
    return new double[] {percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6};
  }

  /** The nearest-rank percentile of sorted values (FleetBenchmark uses it too). */
  static long percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static PubSubConfig config(Path dir) {
    return PubSubConfig.defaults().withSocketDir(dir);
  }

  private static Process startChild(Path dir, String mode, long rate) throws IOException {
    var command = new java.util.ArrayList<String>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The publisher runs with the JVM settings the bench was given (GC, heap), as a node's
    // agents all run with the launcher's.
    command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            PubsubBenchmark.class.getName(),
            "--child-publisher",
            dir.toString(),
            mode,
            Long.toString(rate)));
    return new ProcessBuilder(command)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static void stop(Process child) throws InterruptedException {
    child.destroyForcibly();
    child.waitFor(10, TimeUnit.SECONDS);
  }

  /**
   * The publisher process: publishes round-robin over the keys, as fast as it can ({@code
   * throughput}) or at a steady rate with the send time in the first 8 payload bytes ({@code
   * latency}), until killed (at most one minute).
   */
  private static void childPublisher(Path dir, String mode, long rate) {
    var keys = keys();
    long stopAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    try (var loop = AgentLoop.create("bench-publisher");
        var acksLoop = AgentLoop.create("bench-acks");
        var bus = PubSub.unixSockets(config(dir))) {
      var pub = bus.publish(TOPIC, Durability.VOLATILE, loop);
      if (mode.equals("throughput")) {
        // Flow control through the subscriber's acks, as in-JVM: the figure is what the handler
        // receives, and a publisher spinning far ahead does not steal the subscriber's CPU.
        var acked = new AtomicLong();
        bus.subscribe(
            ACKS,
            acksLoop,
            new SubscriptionHandler<Int64Value>() {
              @Override
              public void onCreate(String key, Int64Value value) {
                acked.set(value.getValue());
              }

              @Override
              public void onModify(String key, Int64Value oldValue, Int64Value newValue) {
                acked.set(newValue.getValue());
              }
            });
        var values = alternatingValues();
        for (long n = 0; System.nanoTime() < stopAt; n++) {
          while (n - acked.get() >= IN_FLIGHT && System.nanoTime() < stopAt) {
            LockSupport.parkNanos(20_000);
          }
          int k = (int) (n % KEYS);
          pub.publish(keys[k], values[k][(int) ((n / KEYS) & 1)]);
        }
        return;
      }
      // An agent publishes from its loop: a timer task on it, as a real agent's would be.
      byte[] payload = new byte[PAYLOAD_BYTES];
      var sent = new long[1];
      loop.every(
          Duration.ofNanos(TimeUnit.SECONDS.toNanos(1) / rate),
          () -> {
            ByteBuffer.wrap(payload).putLong(System.nanoTime());
            pub.publish(keys[(int) (sent[0]++ % KEYS)], BytesValue.of(ByteString.copyFrom(payload)));
          });
      for (long left; (left = stopAt - System.nanoTime()) > 0; ) {
        LockSupport.parkNanos(left);
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (var p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
