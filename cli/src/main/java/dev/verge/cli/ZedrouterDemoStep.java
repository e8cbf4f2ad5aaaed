package dev.verge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * zedrouter's part of {@code verge demo}: the network instances of the applied config as zedrouter
 * reports them (through zedagent, in {@code verge node status}). zedrouter picks uplinks from nim's
 * device network status; on a node without nim it waits for that input, and the step says so
 * instead of showing anything it did not do.
 */
final class ZedrouterDemoStep {
  private ZedrouterDemoStep() {}

  /**
   * @param status {@code verge node status -o json} of the node
   * @param show prints one indented line
   * @return true when zedrouter reported at least one network instance
   */
  static boolean show(JsonNode status, Consumer<String> show) {
    JsonNode agent = status.path("agents").path("zedrouter");
    if (agent.isMissingNode()) {
      show.accept("zedrouter is not running on this node");
      return false;
    }
    List<String> waiting = new ArrayList<>();
    agent.path("waitingFor").forEach(w -> waiting.add(w.asText()));
    if (!waiting.isEmpty()) {
      show.accept("zedrouter is " + agent.path("state").asText() + ": waiting for " + String.join(", ", waiting)
          + (waiting.contains("nim/DeviceNetwork") ? " (it takes its uplinks from nim)" : ""));
      return false;
    }
    List<JsonNode> nis = StatusView.payloads(status, "network_instance");
    for (JsonNode ni : nis) {
      List<String> ips = new ArrayList<>();
      ni.path("ipAssignments").forEach(a -> a.path("ipAddrs").forEach(ip -> ips.add(ip.asText())));
      show.accept(ni.path("displayName").asText() + ": " + ni.path("state").asText().replace("STATE_", "")
          + ", bridge " + ni.path("bridgeName").asText("-") + " " + ni.path("bridgeIp").asText("-")
          + ", uplink " + (ni.path("selectedPort").asText().isEmpty() ? "none" : ni.path("selectedPort").asText())
          + (ips.isEmpty() ? "" : ", apps " + String.join(",", ips)));
      ni.path("errors").forEach(e -> show.accept("  error " + e.path("reason").asText() + ": "
          + e.path("description").asText()));
    }
    if (nis.isEmpty()) {
      show.accept("zedrouter runs and reports no network instance yet");
    }
    return !nis.isEmpty();
  }
}
