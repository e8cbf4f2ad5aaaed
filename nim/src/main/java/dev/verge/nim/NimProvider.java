package dev.verge.nim;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentProvider;
import dev.verge.agent.NodeSettings;
import dev.verge.hostos.sim.SimHost;

/** Plugs nim into a node: found through {@link java.util.ServiceLoader}, started first (order 10). */
public final class NimProvider implements AgentProvider {
  @Override
  public String name() {
    return NimAgent.NAME;
  }

  @Override
  public int order() {
    return 10;
  }

  @Override
  public Agent create(NodeSettings node) {
    String target = node.controllerTarget() == null ? "" : node.controllerTarget();
    return new NimAgent(new NimSettings(node.stateDir()), context -> {
      // On the sim no packet reaches a controller: a ready port counts as working.
      if (context.host() instanceof SimHost || target.isEmpty()) {
        return ControllerProbe.localChecksOnly();
      }
      TcpControllerProbe probe = TcpControllerProbe.inCurrentNamespace(target);
      java.nio.file.Path ca = node.controllerCaCert();
      if (ca != null && java.nio.file.Files.isRegularFile(ca)) {
        try {
          String name = node.controllerName().isEmpty() ? target.substring(0, target.lastIndexOf(':')).replace("[", "")
              .replace("]", "") : node.controllerName();
          probe.withTlsCheck(new TcpControllerProbe.TlsCheck(name, dev.verge.proto.Certificates.readCertificate(ca)));
        } catch (java.io.IOException | RuntimeException e) {
          org.slf4j.LoggerFactory.getLogger(NimProvider.class)
              .warn("nim: cannot read the controller CA {}: verifications check TCP only: {}", ca, e.toString());
        }
      }
      return probe;
    });
  }
}
