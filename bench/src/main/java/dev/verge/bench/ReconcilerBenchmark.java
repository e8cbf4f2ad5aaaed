package dev.verge.bench;

import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.Reconciler;
import dev.verge.reconciler.Status;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reconciler benchmark: item i depends on items i+1..i+10, no-op configurators. Prints the median
 * of several runs, after warm-up, for intent build, full reconcile from an empty current state,
 * and a reconcile after changing one item in the middle.
 */
public final class ReconcilerBenchmark {
  private static final String TYPE = "bench";
  private static final int FAN_OUT = 10;

  private ReconcilerBenchmark() {}

  /** A benchmark item; {@code version} stands for a modifiable attribute. */
  record BenchItem(String name, int version, List<Dependency> dependencies) implements Item {
    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public boolean isEqual(Item other) {
      return other instanceof BenchItem b && b.version == version && b.dependencies.equals(dependencies);
    }
  }

  private static final Configurator NO_OP = new Configurator() {
    @Override
    public void create(OpContext ctx, Item item) {}

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {}

    @Override
    public void delete(OpContext ctx, Item item) {}
  };

  static String name(int i) {
    String digits = Integer.toString(i);
    return "item-" + "000000".substring(Math.min(6, digits.length())) + digits;
  }

  static BenchItem item(int i, int n, int version) {
    var deps = new ArrayList<Dependency>(FAN_OUT);
    for (int j = i + 1; j <= Math.min(n - 1, i + FAN_OUT); j++) {
      deps.add(Dependency.on(TYPE, name(j)));
    }
    return new BenchItem(name(i), version, List.copyOf(deps));
  }

  static Graph buildIntent(int n) {
    Graph g = Graphs.newGraph("Bench", "benchmark graph");
    for (int i = 0; i < n; i++) {
      g.putItem(item(i, n, 0), null);
    }
    return g;
  }

  /** Milliseconds of [build, full, one change] for one round. */
  static double[] round(int n, Reconciler reconciler) {
    // Each timed phase starts on a collected heap: it pays for its own garbage (and for moving
    // what it builds out of the young generation), not for the collection or the concurrent
    // marking left behind by an earlier phase or round.
    System.gc();
    long t0 = System.nanoTime();
    Graph intent = buildIntent(n);
    long t1 = System.nanoTime();
    System.gc();
    long t2 = System.nanoTime();
    Status full = reconciler.reconcile(null, intent);
    long t3 = System.nanoTime();
    check(full, n);
    Graph current = full.newCurrentState();
    int middle = n / 2;
    intent.putItem(item(middle, n, 1), null);
    System.gc();
    long t4 = System.nanoTime();
    Status change = reconciler.reconcile(current, intent);
    long t5 = System.nanoTime();
    check(change, 1);
    return new double[] {(t1 - t0) / 1e6, (t3 - t2) / 1e6, (t5 - t4) / 1e6};
  }

  private static void check(Status status, int expectedOps) {
    if (status.error().isPresent() || status.operationLog().size() != expectedOps) {
      throw new IllegalStateException("benchmark reconcile went wrong: " + status.error()
          + ", " + status.operationLog().size() + " operations instead of " + expectedOps);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  public static void main(String[] args) {
    var registry = new dev.verge.reconciler.DefaultRegistry().register(TYPE, NO_OP);
    Reconciler reconciler = Reconciler.create(registry);
    // n, warm-up rounds, measured rounds (odd, for a plain median); the small sizes warm up the JIT
    int[][] plan = {{1_000, 40, 9}, {10_000, 10, 9}, {100_000, 3, 5}};
    for (int[] p : plan) {
      if (args.length > 0 && !Arrays.asList(args).contains(Integer.toString(p[0]))) {
        continue;
      }
      int n = p[0];
      for (int i = 0; i < p[1]; i++) {
        round(n, reconciler);
      }
      double[][] results = new double[3][p[2]];
      for (int r = 0; r < p[2]; r++) {
        double[] times = round(n, reconciler);
        for (int k = 0; k < 3; k++) {
          results[k][r] = times[k];
        }
      }
      System.out.printf(java.util.Locale.ROOT, "BENCH reconciler.build.n%d %.3f ms%n", n, median(results[0]));
      System.out.printf(java.util.Locale.ROOT, "BENCH reconciler.full.n%d %.3f ms%n", n, median(results[1]));
      System.out.printf(java.util.Locale.ROOT, "BENCH reconciler.one_change.n%d %.3f ms%n", n, median(results[2]));
    }
  }
}
