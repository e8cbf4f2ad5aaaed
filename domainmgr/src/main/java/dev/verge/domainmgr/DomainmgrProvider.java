package dev.verge.domainmgr;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;

/** Plugs domainmgr into a node: found by the node through {@link java.util.ServiceLoader}. */
public final class DomainmgrProvider implements AgentProvider {
  @Override
  public String name() {
    return DomainmgrAgent.NAME;
  }

  @Override
  public int order() {
    return 30;
  }

  @Override
  public Agent create(NodeSettings node) {
    return DomainmgrAgent.forHost(node.stateDir().resolve(DomainmgrAgent.NAME));
  }
}
