package dev.verge.agent;

/**
 * An agent module's entry point, found with {@link java.util.ServiceLoader}: a node runs the
 * agents whose modules are on its classpath, and nothing names their classes. A module registers
 * its provider in {@code META-INF/services/dev.verge.agent.AgentProvider}.
 */
public interface AgentProvider {

  /** The agent's name, as on its bus topics. */
  String name();

  /**
   * Start order, lower first. Each agent waits for its inputs anyway; the order only makes a
   * node's log read in the order data flows: nim 10, zedrouter 20, domainmgr 30, zedagent 90.
   */
  int order();

  /** Whether the node runs this agent (a provider may depend on the environment). */
  default boolean enabled() {
    return true;
  }

  /** Whether the agent acts on the kernel and gets the node's host. */
  default boolean needsHost() {
    return true;
  }

  /** Makes the agent; it starts when the runtime calls {@link Agent#start}. */
  Agent create(NodeSettings node) throws Exception;
}
