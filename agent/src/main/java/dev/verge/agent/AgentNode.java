package dev.verge.agent;

import dev.verge.hostos.Host;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents of one node, each on its own loop, sharing a bus and a host. Agents talk only over
 * the bus, so the same agents run in one JVM (in-JVM bus) or one per process (socket bus, one
 * {@code AgentNode} per process with a single provider).
 */
public final class AgentNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentNode.class);

  private final List<AgentRuntime> runtimes;
  private final List<AgentLoop> loops;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private AgentNode(List<AgentRuntime> runtimes, List<AgentLoop> loops) {
    this.runtimes = runtimes;
    this.loops = loops;
  }

  /** The agent providers on the classpath, in start order. */
  public static List<AgentProvider> providers() {
    List<AgentProvider> found = new ArrayList<>();
    ServiceLoader.load(AgentProvider.class).forEach(p -> {
      if (p.enabled()) {
        found.add(p);
      }
    });
    found.sort(Comparator.comparingInt(AgentProvider::order).thenComparing(AgentProvider::name));
    return List.copyOf(found);
  }

  /**
   * Starts the given agents in order.
   *
   * @param host the node's host; may be null when no provider needs one
   * @throws Exception when an agent cannot be made (the ones already started are stopped)
   */
  public static AgentNode start(
      List<AgentProvider> providers, NodeSettings settings, PubSub bus, Host host, RuntimeSettings runtime)
      throws Exception {
    List<AgentRuntime> runtimes = new ArrayList<>();
    List<AgentLoop> loops = new ArrayList<>();
    AgentNode node = new AgentNode(runtimes, loops);
    try {
      for (AgentProvider provider : providers) {
        if (provider.needsHost() && host == null) {
          throw new IllegalStateException("agent " + provider.name() + " needs a host");
        }
        node.add(provider.create(settings), bus, provider.needsHost() ? host : null, runtime);
      }
    } catch (Exception | Error e) {
      node.close();
      throw e;
    }
    return node;
  }

  /** One agent on a loop of its own (tools, benchmarks, tests); {@code host} null: none. */
  public static AgentNode of(Agent agent, PubSub bus, Host host, RuntimeSettings runtime) {
    AgentNode node = new AgentNode(new ArrayList<>(), new ArrayList<>());
    node.add(agent, bus, host, runtime);
    return node;
  }

  private void add(Agent agent, PubSub bus, Host host, RuntimeSettings runtime) {
    AgentLoop loop = AgentLoop.create(agent.name());
    loops.add(loop);
    runtimes.add(host != null
        ? AgentRuntime.start(agent, bus, host, loop, runtime)
        : AgentRuntime.startWithoutHost(agent, bus, loop, runtime));
    log.info("started agent {}", agent.name());
  }

  /** The runtimes, in start order. */
  public List<AgentRuntime> runtimes() {
    return List.copyOf(runtimes);
  }

  /** Waits until every agent has run its start. @return false on timeout */
  public boolean awaitStarted(java.time.Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (AgentRuntime runtime : runtimes) {
      if (!runtime.awaitStarted(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
        return false;
      }
    }
    return true;
  }

  public List<String> agentNames() {
    return runtimes.stream().map(AgentRuntime::name).toList();
  }

  /** Stops the agents in reverse order, each on its loop, then the loops. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return; // a second close would wait for loops that are already gone
    }
    for (int i = runtimes.size() - 1; i >= 0; i--) {
      AgentRuntime runtime = runtimes.get(i);
      java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
      runtime.close();
      runtime.loop().execute(stopped::countDown);
      try {
        if (!stopped.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
          log.warn("agent {} did not stop within 10 s", runtime.name());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    loops.forEach(AgentLoop::close);
  }
}
