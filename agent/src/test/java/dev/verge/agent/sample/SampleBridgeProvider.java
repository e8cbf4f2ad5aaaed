package dev.verge.agent.sample;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;

/**
 * Plugs the sample agent into a node started from a test classpath, when the environment asks
 * for it ({@code VERGE_SAMPLE_AGENT=1}), so tests of the node's plumbing (agents as processes)
 * have a second agent that acts on a host.
 */
public final class SampleBridgeProvider implements AgentProvider {
  @Override
  public String name() {
    return SampleBridgeAgent.NAME;
  }

  @Override
  public int order() {
    return 50;
  }

  @Override
  public boolean enabled() {
    return "1".equals(System.getenv("VERGE_SAMPLE_AGENT"));
  }

  @Override
  public Agent create(NodeSettings node) {
    return new SampleBridgeAgent();
  }
}
