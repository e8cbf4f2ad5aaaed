package dev.verge.bench;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.AgentNode;
import dev.verge.agent.KernelBacked;
import dev.verge.agent.KernelView;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.Host;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.hostos.linux.LinuxNetworkStack;
import dev.verge.hostos.sim.SimHost;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Root;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.Operation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code agent.event_to_reconcile.latency}: a link the agent owns is deleted behind its back; the
 * time from the kernel's announcement reaching the runtime (its netlink reader hands the event
 * over) to the start of the reconcile that recreates it: hand-over to the agent's loop, live
 * re-read, debounce, the decision to reconcile. Median of 100 after a warm-up, on the sim and on
 * the real kernel in a throw-away namespace (root).
 *
 * <p>{@code agent.event_to_repaired.latency}: the same start to the end of that reconcile, the link
 * back. On Linux the kernel dominates it: it announces the deletion, then holds its lock (RTNL)
 * through RCU grace periods until the delete call returns, and the re-creation waits for that.
 */
public final class AgentBenchmark {
  static final int WARMUP = 30;
  static final int SAMPLES = 100;
  static final String LINK = "bench0";

  private AgentBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path scratch = Files.createTempDirectory("verge-agentbench-");
    try (SimHost sim = SimHost.create(scratch)) {
      double[][] simFigures = measure(sim, sim.kernel());
      report("agent.event_to_reconcile.sim.latency", "sim", simFigures[0]);
      report("agent.event_to_repaired.sim.latency", "sim", simFigures[1]);
    }
    if (!Root.isRoot()) {
      System.out.println("# agent.event_to_reconcile.latency needs root (a namespace): skipped");
      return;
    }
    try (NetTopology topology = NetTopology.create("agentbench")) {
      String namespace = topology.namespace("dev").name();
      measureLinux(namespace, scratch);
    }
  }

  private static void measureLinux(String namespace, Path scratch) throws Exception {
    try (LinuxHost linux = LinuxHost.inNamespace(namespace,
            new LinuxHostSettings(scratch.resolve("daemons"), Path.of("/sys")));
        // Someone else deletes the link, on a socket of their own, as `ip link del` would.
        LinuxNetworkStack saboteur = LinuxNetworkStack.inNamespace(namespace)) {
      double[][] figures = measure(linux, saboteur);
      report("agent.event_to_reconcile.latency", "linux netns", figures[0]);
      report("agent.event_to_repaired.latency", "linux netns", figures[1]);
    }
  }

  private static void report(String name, String where, double[] sorted) {
    System.out.printf(Locale.ROOT, "BENCH %s %.3f ms%n", name, percentile(sorted, 0.5));
    System.out.printf(Locale.ROOT, "# %s on %s: p90 %.3f ms, p99 %.3f ms, max %.3f ms over %d samples%n",
        name, where, percentile(sorted, 0.9), percentile(sorted, 0.99), sorted[sorted.length - 1], sorted.length);
    System.out.flush();
  }

  private static double percentile(double[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** Sorted latencies in milliseconds: {event to reconcile start, event to link back}. */
  private static double[][] measure(Host host, NetworkStack saboteur) throws Exception {
    BlockingQueue<ReconcileOutcome> repairs = new ArrayBlockingQueue<>(16);
    RepairingAgent agent = new RepairingAgent(repairs);
    try (PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
        AgentNode node = AgentNode.of(agent, bus, host, RuntimeSettings.DEFAULT)) {
      node.awaitStarted(java.time.Duration.ofSeconds(10));
      take(repairs); // the first creation
      double[] reaction = new double[SAMPLES];
      double[] repaired = new double[SAMPLES];
      double[] deletes = new double[SAMPLES];
      for (int i = 0; i < WARMUP + SAMPLES; i++) {
        Thread.sleep(5); // let the kernel events of the last re-creation pass
        long start = System.nanoTime();
        saboteur.deleteLink(LINK);
        long deleted = System.nanoTime();
        ReconcileOutcome repair = take(repairs);
        if (i >= WARMUP) {
          reaction[i - WARMUP] = (repair.startedNanos() - repair.requestedNanos()) / 1e6;
          repaired[i - WARMUP] = (repair.finishedNanos() - repair.requestedNanos()) / 1e6;
          deletes[i - WARMUP] = (deleted - start) / 1e6;
        }
      }
      Arrays.sort(reaction);
      Arrays.sort(repaired);
      Arrays.sort(deletes);
      System.out.printf(Locale.ROOT, "# %s: the delete call itself took %.3f ms (median)%n",
          host.description(), percentile(deletes, 0.5));
      return new double[][] {reaction, repaired};
    }
  }

  private static ReconcileOutcome take(BlockingQueue<ReconcileOutcome> queue) throws InterruptedException {
    ReconcileOutcome at = queue.poll(10, TimeUnit.SECONDS);
    if (at == null) {
      throw new IllegalStateException("the agent did not recreate " + LINK + " within 10 s");
    }
    return at;
  }

  /** One bridge, up; kernel-backed, so the runtime repairs it. */
  record BenchLink(String name) implements Item, KernelBacked {
    @Override
    public String type() {
      return "BenchLink";
    }

    @Override
    public boolean isEqual(Item other) {
      return equals(other);
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<BenchLink> observe(KernelView kernel) {
      return kernel.link(name).filter(l -> l.up()).map(l -> this);
    }
  }

  /** Wants the one link; reports the time each reconcile that created it ended. */
  static final class RepairingAgent implements Agent {
    private final BlockingQueue<ReconcileOutcome> repairs;

    RepairingAgent(BlockingQueue<ReconcileOutcome> repairs) {
      this.repairs = repairs;
    }

    @Override
    public String name() {
      return "benchagent";
    }

    @Override
    public void start(AgentContext context) {
      NetworkStack net = context.host().network();
      context.configure("BenchLink", new Configurator() {
        @Override
        public void create(OpContext ctx, Item item) {
          net.createLink(item.name(), new LinkSpec.Bridge(false));
          net.setUp(item.name(), true);
        }

        @Override
        public void modify(OpContext ctx, Item oldItem, Item newItem) {
          net.setUp(newItem.name(), true);
        }

        @Override
        public void delete(OpContext ctx, Item item) {
          net.deleteLink(item.name());
        }
      });
    }

    @Override
    public GraphR intendedState() {
      return Graphs.newGraph(GraphSpec.named(name()).withItems(new BenchLink(LINK)));
    }

    @Override
    public void reconciled(ReconcileOutcome outcome) {
      boolean created = outcome.operations().stream()
          .anyMatch(e -> e.operation() == Operation.CREATE && e.error() == null && !e.inProgress());
      if (created) {
        repairs.offer(outcome);
      }
    }
  }
}
