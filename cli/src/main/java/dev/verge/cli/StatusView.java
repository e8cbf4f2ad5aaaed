package dev.verge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Renders {@code verge node status} as text: zedagent's own fields, the agents' health, and what
 * the agents report (ports, network instances, apps), one section per kind of report. A kind
 * without a section of its own is printed as compact JSON, so nothing an agent reports is hidden.
 */
public final class StatusView {
  private final PrintStream out;
  private final java.util.function.LongSupplier nowMs;

  StatusView(PrintStream out) {
    this(out, System::currentTimeMillis);
  }

  /** nowMs: the wall clock the ages of reported times are measured against (fixed in tests). */
  StatusView(PrintStream out, java.util.function.LongSupplier nowMs) {
    this.out = out;
    this.nowMs = nowMs;
  }

  void render(JsonNode status) {
    status.fields().forEachRemaining(f -> {
      if (!f.getKey().equals("agents") && !f.getKey().equals("reported") && !f.getKey().equals("metrics")) {
        out.printf("%-18s %s%n", f.getKey(), f.getValue().isTextual() ? f.getValue().asText() : f.getValue());
      }
    });
    agents(status.path("agents"));
    reported(status.path("reported"));
    status.path("metrics").fields().forEachRemaining(m -> {
      if (m.getKey().startsWith("nim/")) {
        portMetrics(m.getValue());
      } else if (m.getKey().startsWith("zedrouter/")) {
        uplinkProbes(m.getValue(), status.path("reported"));
      }
    });
  }

  /** nim's metrics: each port's counters and its controller probes. */
  private void portMetrics(JsonNode metrics) {
    Map<String, JsonNode> probes = new TreeMap<>();
    metrics.path("controllerProbes").path("ports").forEach(p -> probes.put(p.path("port").asText(), p));
    out.println();
    out.println("PORT METRICS");
    out.printf("  %-10s %-12s %14s %14s %10s %10s %8s %8s %8s %8s %9s%n", "LABEL", "INTERFACE", "RX BYTES", "TX BYTES",
        "RX PKTS", "TX PKTS", "ERRORS", "DROPS", "PROBE OK", "FAILED", "RTT MS");
    metrics.path("interfaces").forEach(i -> {
      JsonNode p = probes.getOrDefault(i.path("label").asText(), com.fasterxml.jackson.databind.node.MissingNode.getInstance());
      out.printf("  %-10s %-12s %14d %14d %10d %10d %8d %8d %8s %8s %9s%n", text(i, "label"), text(i, "ifName"),
          i.path("rxBytes").asLong(), i.path("txBytes").asLong(), i.path("rxPackets").asLong(),
          i.path("txPackets").asLong(), i.path("rxErrors").asLong() + i.path("txErrors").asLong(),
          i.path("rxDrops").asLong() + i.path("txDrops").asLong(),
          p.isMissingNode() ? "-" : String.valueOf(p.path("successCount").asLong()),
          p.isMissingNode() ? "-" : String.valueOf(p.path("failureCount").asLong()),
          p.isMissingNode() ? "-" : String.format(java.util.Locale.ROOT, "%.1f", p.path("lastRttUs").asLong() / 1000.0));
    });
  }

  /**
   * zedrouter's per-NI uplink probes: per NI that chooses between ports, each candidate port with its
   * state, its gateway pings and remote TCP probes (answers and misses) and its last answer; then the
   * port in use and why.
   */
  private void uplinkProbes(JsonNode metrics, JsonNode reported) {
    List<JsonNode> probing = new ArrayList<>();
    metrics.path("networkInstances").forEach(ni -> {
      if (ni.path("probes").size() > 0) {
        probing.add(ni);
      }
    });
    if (probing.isEmpty()) {
      return;
    }
    out.println();
    out.println("UPLINK PROBES");
    out.printf("  %-2s %-12s %-10s %-7s %7s %6s %7s %6s %-10s %s%n", "", "NI", "PORT", "STATE", "ICMP OK", "FAILED",
        "TCP OK", "FAILED", "LAST OK", "ERROR");
    for (JsonNode ni : probing) {
      String uuid = ni.path("networkUuid").asText();
      String name = payload(reported.path("network_instance/" + uuid)).path("displayName").asText(uuid);
      ni.path("probes").forEach(probe -> {
        String inUse = probe.path("currentPort").asText();
        probe.path("ports").forEach(p -> {
          long lastOk = Math.max(p.path("lastIcmpSuccessMs").asLong(), p.path("lastTcpSuccessMs").asLong());
          out.printf("  %-2s %-12s %-10s %-7s %7d %6d %7d %6d %-10s %s%n", text(p, "port").equals(inUse) ? "*" : "",
              name.isEmpty() ? uuid : name, text(p, "port"), text(p, "state"), p.path("icmpSuccessCount").asLong(),
              p.path("icmpFailureCount").asLong(), p.path("tcpSuccessCount").asLong(),
              p.path("tcpFailureCount").asLong(), lastOk == 0 ? "never" : age(nowMs.getAsLong() - lastOk),
              text(p, "lastError"));
        });
        out.printf("     %s uses %s: %s%n", name.isEmpty() ? uuid : name, inUse.isEmpty() ? "none" : inUse,
            text(probe, "currentPortReason"));
      });
    }
  }

  private void agents(JsonNode agents) {
    if (agents.size() == 0) {
      return;
    }
    out.println();
    out.printf("%-10s %-20s %8s  %s%n", "AGENT", "STATE", "RUNS", "PROBLEMS");
    agents.fields().forEachRemaining(a -> {
      JsonNode agent = a.getValue();
      List<String> problems = new ArrayList<>();
      agent.path("waitingFor").forEach(w -> problems.add("waiting for " + w.asText()));
      if (!agent.path("lastError").asText().isEmpty()) {
        problems.add(agent.path("lastError").asText());
      }
      agent.path("failedItems").forEach(f -> problems.add(f.asText()));
      out.printf("%-10s %-20s %8d  %s%n", a.getKey(), agent.path("state").asText(),
          agent.path("reconcileRuns").asLong(), problems.isEmpty() ? "-" : String.join("; ", problems));
    });
  }

  /** Reports grouped by kind ({@code device_network/global} is of kind device_network). */
  private void reported(JsonNode reported) {
    Map<String, Map<String, JsonNode>> byKind = new TreeMap<>();
    reported.fields().forEachRemaining(f -> {
      int slash = f.getKey().indexOf('/');
      String kind = slash < 0 ? f.getKey() : f.getKey().substring(0, slash);
      byKind.computeIfAbsent(kind, k -> new TreeMap<>()).put(f.getKey(), payload(f.getValue()));
    });
    byKind.forEach((kind, reports) -> {
      out.println();
      switch (kind) {
        case "device_network" -> reports.values().forEach(this::ports);
        case "network_instance" -> networkInstances(reports.values());
        case "config_list" -> reports.values().forEach(this::portConfigs);
        case "domain" -> domains(reports.values());
        case "assignable_adapters" -> reports.values().forEach(this::assignableAdapters);
        default -> {
          out.println(kind.toUpperCase(java.util.Locale.ROOT).replace('_', ' '));
          reports.forEach((id, report) -> out.println("  " + id + ": " + report));
        }
      }
    });
  }

  /**
   * The payloads of one kind of report in {@code verge node status -o json}: kind is the key's
   * prefix ({@code network_instance}, {@code domain}...), in the order the status lists them.
   */
  public static java.util.List<JsonNode> payloads(JsonNode status, String kind) {
    java.util.List<JsonNode> found = new java.util.ArrayList<>();
    status.path("reported").fields().forEachRemaining(report -> {
      if (report.getKey().startsWith(kind + "/")) {
        found.add(payload(report.getValue()));
      }
    });
    return found;
  }

  /**
   * A report as zedagent keeps it is an info message: its time, its object id and the one field
   * that holds the agent's status ({@code networkInstance}, {@code domain}...). That field, or the
   * report itself when it is no such wrapper.
   */
  public static JsonNode payload(JsonNode report) {
    if (!report.has("objectId")) {
      return report;
    }
    var fields = report.fields();
    while (fields.hasNext()) {
      var field = fields.next();
      if (!field.getKey().equals("objectId") && !field.getKey().equals("atTimeMs") && field.getValue().isObject()) {
        return field.getValue();
      }
    }
    return report;
  }

  private void ports(JsonNode network) {
    String inUse = text(network, "currentUplink");
    out.printf("PORTS (config %s, controller traffic on %s)%n", text(network, "dpcKey"), inUse);
    out.printf("  %-2s %-10s %-12s %-5s %-5s %5s %-6s %-20s %-15s %-16s %s%n", "", "LABEL", "INTERFACE", "UP", "MGMT",
        "COST", "IP", "ADDRESSES", "GATEWAY", "LAST CHECK", "ERROR");
    network.path("ports").forEach(p -> {
      List<String> addresses = new ArrayList<>();
      p.path("ipAddrs").forEach(a -> addresses.add(a.asText()));
      List<String> gateways = new ArrayList<>();
      p.path("defaultRouters").forEach(a -> gateways.add(a.asText()));
      out.printf("  %-2s %-10s %-12s %-5s %-5s %5d %-6s %-20s %-15s %-16s %s%n", text(p, "label").equals(inUse) ? "*" : "",
          text(p, "label"), text(p, "ifName"), p.path("up").asBoolean(), p.path("isMgmt").asBoolean(),
          p.path("cost").asInt(), text(p, "dhcpType").equals("client") ? "dhcp" : text(p, "dhcpType"),
          addresses.isEmpty() ? "-" : String.join(",", addresses), gateways.isEmpty() ? "-" : String.join(",", gateways),
          lastCheck(p.path("lastFailedMs").asLong(), p.path("lastSucceededMs").asLong()),
          p.path("error").path("description").asText("-"));
      if (!p.path("proxy").asText().isEmpty()) {
        out.printf("     proxy %s%n", p.path("proxy").asText());
      }
    });
  }

  /** zedrouter's NI status: one row per NI, then its errors and the apps' addresses on it. */
  private void networkInstances(java.util.Collection<JsonNode> nis) {
    out.println("NETWORK INSTANCES");
    out.printf("  %-12s %-7s %-7s %-6s %-15s %-18s %-8s %s%n", "NAME", "TYPE", "STATE", "BRIDGE", "GATEWAY", "SUBNET",
        "UPLINK", "APP IPS");
    for (JsonNode ni : nis) {
      List<String> ips = new ArrayList<>();
      ni.path("ipAssignments").forEach(a -> a.path("ipAddrs").forEach(ip -> ips.add(ip.asText())));
      String name = text(ni, "displayName").equals("-") ? ni.path("id").path("uuid").asText() : text(ni, "displayName");
      out.printf("  %-12s %-7s %-7s %-6s %-15s %-18s %-8s %s%n", name, text(ni, "type"),
          text(ni, "state").replace("STATE_", ""), text(ni, "bridgeName"), text(ni, "bridgeIp"),
          ni.path("routes").size() > 0 ? text(ni.path("routes").get(0), "destination") : "-",
          text(ni, "selectedPort"), ips.isEmpty() ? "-" : String.join(",", ips));
      vpn(ni.path("vpn"));
      ni.path("errors").forEach(e -> out.printf("    error %s %s: %s%n", text(e, "reason"), text(e, "fieldPath"),
          text(e, "description")));
    }
  }

  /** A VPN NI's tunnel: state, peer, backend, counters, last rekey, and IKE's reason for a failure. */
  private void vpn(JsonNode vpn) {
    if (vpn.isMissingNode() || text(vpn, "state").equals("-")) {
      return;
    }
    long rekey = vpn.path("lastRekeyMs").asLong();
    out.printf("    vpn %s peer %s from %s (%s) in %d B/%d pkts out %d B/%d pkts, last rekey %s%n", text(vpn, "state"),
        text(vpn, "peer"), text(vpn, "localAddress"), text(vpn, "ipsecBackend"), vpn.path("bytesIn").asLong(),
        vpn.path("packetsIn").asLong(), vpn.path("bytesOut").asLong(), vpn.path("packetsOut").asLong(),
        rekey == 0 ? "never" : java.time.Instant.ofEpochMilli(rekey).toString());
    if (!text(vpn, "reason").equals("-")) {
      long retries = vpn.path("retries").asLong();
      out.printf("    vpn reason: %s%s%n", text(vpn, "reason"), retries == 0 ? "" : " (charon's attempt " + retries + ")");
    }
  }

  /** domainmgr's domain status: one row per app VM, then its VIFs with their IPs, and its errors. */
  private void domains(java.util.Collection<JsonNode> domains) {
    out.println("APPS");
    out.printf("  %-36s %-8s %-5s %8s  %s%n", "DOMAIN", "STATE", "ACCEL", "RESTARTS", "CONSOLE");
    for (JsonNode d : domains) {
      out.printf("  %-36s %-8s %-5s %8d  %s%n", text(d, "domainName"), text(d, "state").replace("STATE_", ""),
          text(d, "accel"), d.path("restarts").asInt(), text(d, "consoleLog"));
      d.path("vifs").forEach(v -> out.printf("    vif %-6s %-15s %-17s %-15s %s%n", text(v, "name"), text(v, "vifName"),
          text(v, "mac"), text(v, "ipAddress"), v.path("ready").asBoolean() ? "ready" : "not ready"));
      d.path("passthroughAdapters").forEach(a -> out.printf("    adapter %s%n", a.asText()));
      d.path("errors").forEach(e -> out.printf("    error %s: %s%n", text(e, "reason"), text(e, "description")));
    }
  }

  /** domainmgr's adapters apps may take: who holds each, and why one cannot be given. */
  private void assignableAdapters(JsonNode all) {
    out.println("ASSIGNABLE ADAPTERS");
    out.printf("  %-10s %-13s %-8s %-12s %-36s %s%n", "NAME", "TYPE", "GROUP", "PCI", "USED BY", "ERROR");
    all.path("adapters").forEach(a -> out.printf("  %-10s %-13s %-8s %-12s %-36s %s%n", text(a, "name"),
        text(a, "type").replace("TYPE_", ""), text(a, "assignGroup"), text(a, "pciAddress"), text(a, "usedByAppUuid"),
        text(a.path("error"), "description")));
  }

  /** nim's port config list: which config runs, and how each fared when last tested. */
  private void portConfigs(JsonNode list) {
    // Proto3 JSON leaves out a field at its default: no currentIndex is index 0 (none is -1).
    int current = list.path("currentIndex").asInt(0);
    JsonNode configs = list.path("configs");
    out.printf("PORT CONFIGS (in use: %s)%n",
        current >= 0 && current < configs.size() ? text(configs.get(current), "key") : "none");
    if (!list.path("reason").asText().isEmpty()) {
      out.printf("  why: %s%n", list.path("reason").asText());
    }
    out.printf("  %-2s %-12s %-9s %s%n", "", "KEY", "STATE", "LAST ERROR");
    for (int i = 0; i < configs.size(); i++) {
      JsonNode c = configs.get(i);
      long failed = c.path("lastFailedMs").asLong();
      long succeeded = c.path("lastSucceededMs").asLong();
      String state = succeeded > failed ? "works" : failed > 0 ? "failed" : "untested";
      out.printf("  %-2s %-12s %-9s %s%n", i == current ? "*" : "", text(c, "key"), state, text(c, "lastError"));
    }
  }

  /** The port's newest check, as "ok 12s ago" or "failed 3s ago"; "-" when it was never checked. */
  private String lastCheck(long failedMs, long succeededMs) {
    if (failedMs == 0 && succeededMs == 0) {
      return "-";
    }
    boolean ok = succeededMs > failedMs;
    return (ok ? "ok " : "failed ") + age(nowMs.getAsLong() - Math.max(failedMs, succeededMs));
  }

  /** A short age; a time ahead of this clock (the device's clock differs) is "0s ago". */
  static String age(long ms) {
    long s = Math.max(0, ms) / 1000;
    if (s < 120) {
      return s + "s ago";
    }
    if (s < 120 * 60) {
      return s / 60 + "m ago";
    }
    if (s < 48 * 3600) {
      return s / 3600 + "h ago";
    }
    return s / 86400 + "d ago";
  }

  private static String text(JsonNode node, String field) {
    String value = node.path(field).asText();
    return value.isEmpty() ? "-" : value;
  }
}
