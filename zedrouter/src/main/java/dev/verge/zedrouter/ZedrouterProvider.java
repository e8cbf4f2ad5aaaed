package dev.verge.zedrouter;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;

/** Plugs zedrouter into a node: found by the node through {@link java.util.ServiceLoader}. */
public final class ZedrouterProvider implements AgentProvider {
  @Override
  public String name() {
    return ZedrouterAgent.NAME;
  }

  @Override
  public int order() {
    return 20;
  }

  @Override
  public Agent create(NodeSettings node) {
    return new ZedrouterAgent(node.serial(), node.stateDir());
  }
}
