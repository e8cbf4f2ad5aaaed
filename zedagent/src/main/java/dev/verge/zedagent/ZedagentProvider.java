package dev.verge.zedagent;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;

/** Plugs zedagent into a node: found by the node through {@link java.util.ServiceLoader}. */
public final class ZedagentProvider implements AgentProvider {
  @Override
  public String name() {
    return ZedAgent.NAME;
  }

  @Override
  public int order() {
    return 90;
  }

  @Override
  public boolean needsHost() {
    return false;
  }

  @Override
  public Agent create(NodeSettings node) throws Exception {
    ZedAgentSettings settings =
        ZedAgentSettings.of(node.serial(), node.controllerTarget(), node.controllerCaCert(), node.stateDir())
            .withControllerAuthority(node.controllerName())
            .withIntervals(node.metricsInterval(), node.flowLogInterval())
            .withReconnectBackoff(node.reconnectMin(), node.reconnectMax());
    if (node.localApi().isPresent()) {
      settings = settings.withLocalApi(node.localApi().get(), node.localApiToken());
    }
    return new ZedAgent(settings);
  }
}
