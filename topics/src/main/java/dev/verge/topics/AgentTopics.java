package dev.verge.topics;

import dev.verge.pubsub.Topic;
import dev.verge.topics.v1.AgentGraphs;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.AgentMetrics;

/**
 * What the agent runtime publishes for every agent, each keyed by the agent's name: its health, its
 * runtime counters and its dependency graphs ({@code verge node graph --agent NAME}).
 */
public final class AgentTopics {
  private AgentTopics() {}

  /** The agents a node runs, in start order. */
  public static final java.util.List<String> AGENTS =
      java.util.List.of(NimTopics.AGENT, ZedrouterTopics.AGENT, DomainmgrTopics.AGENT, ZedagentTopics.AGENT);

  public static Topic<AgentHealth> health(String agent) {
    return Topic.of(agent, AgentHealth.getDefaultInstance());
  }

  public static Topic<AgentMetrics> metrics(String agent) {
    return Topic.of(agent, AgentMetrics.getDefaultInstance());
  }

  public static Topic<AgentGraphs> graphs(String agent) {
    return Topic.of(agent, AgentGraphs.getDefaultInstance());
  }
}
