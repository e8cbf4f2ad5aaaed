package dev.verge.zedrouter;

import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.hostos.LinkStats;
import dev.verge.hostos.nft.CounterValues;
import dev.verge.proto.metrics.v1.AceMetrics;
import dev.verge.proto.metrics.v1.AclMetrics;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.proto.metrics.v1.NetworkInstanceMetrics;
import dev.verge.proto.metrics.v1.PortProbeMetrics;
import dev.verge.proto.metrics.v1.ProbeMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * zedrouter's metrics, read from the kernel when asked: per NI its bridge's and its VIFs' link
 * counters, and per VIF the firewall's counters (each ACE's matches, the implicit drops, the
 * rate-limit drops). Counters of a local NI's firewall restart from zero when its table is
 * rewritten (a config change): the controller sees a reset, as after a reboot.
 */
final class ZedrouterMetrics {
  private ZedrouterMetrics() {}

  /** @param probes each probing NI's ports as its uplink probes see them (empty: it does not probe) */
  static MetricsMessage read(Host host, Collection<NiSpec> nis, List<VifPlan> vifs,
      Function<String, Map<String, UplinkProber.PortHealth>> probes, long nowMs) {
    Map<String, LinkStats> stats = host.network().stats();
    MetricsMessage.Builder message = MetricsMessage.newBuilder().setAtTimeMs(nowMs);
    long totalDrops = 0;
    long totalRateDrops = 0;
    for (NiSpec ni : nis) {
      Map<String, CounterValues> counters = ni.isRouted() ? counters(host, ni) : Map.of();
      NetworkInstanceMetrics.Builder niMetrics = NetworkInstanceMetrics.newBuilder().setNetworkUuid(ni.uuid());
      niMetrics.addInterfaces(link(ni.bridge(), "", stats.get(ni.bridge())));
      for (VifPlan vif : vifs.stream().filter(v -> v.niUuid().equals(ni.uuid())).toList()) {
        InterfaceMetrics.Builder m = link(vif.vifName(), vif.appUuid() + "/" + vif.adapterName(), stats.get(vif.vifName()));
        long drops = packets(counters, NiFirewall.dropCounter(vif.vifName()));
        long rateDrops = 0;
        for (Acl acl : vif.acls()) {
          CounterValues ace = counters.get(NiFirewall.aceCounter(vif.vifName(), acl.id()));
          if (ace != null) {
            m.addAces(AceMetrics.newBuilder().setAceId(acl.id()).setName(acl.name()).setPackets(ace.packets())
                .setBytes(ace.bytes()));
          }
          rateDrops += packets(counters, NiFirewall.rateDropCounter(vif.vifName(), acl.id()));
          if (acl.action() instanceof Acl.Drop && ace != null) {
            drops += ace.packets();
          }
        }
        m.setAclDrops(drops).setAclRateLimitDrops(rateDrops);
        totalDrops += drops;
        totalRateDrops += rateDrops;
        niMetrics.addInterfaces(m);
      }
      Map<String, UplinkProber.PortHealth> ports = probes.apply(ni.uuid());
      if (!ports.isEmpty()) {
        niMetrics.addProbes(probeMetrics(ni, ports));
      }
      message.addNetworkInstances(niMetrics);
    }
    return message.setAcl(AclMetrics.newBuilder().setTotalDrops(totalDrops).setTotalRateLimitDrops(totalRateDrops))
        .build();
  }

  /** EVE's ZProbeNIMetrics: the NI's default route, the port it uses and why, and each candidate's probes. */
  private static ProbeMetrics probeMetrics(NiSpec ni, Map<String, UplinkProber.PortHealth> ports) {
    ProbeMetrics.Builder metrics = ProbeMetrics.newBuilder().setDestination("0.0.0.0/0")
        .setCurrentPort(ni.uplink().port().map(p -> p.getLabel()).orElse(""))
        .setCurrentPortReason(ni.uplink().reason());
    for (var port : ni.uplink().candidates()) {
      UplinkProber.PortHealth health = ports.getOrDefault(port.getLabel(), UplinkProber.PortHealth.NEW);
      UplinkProber.ProbeHealth icmp = health.probe(UplinkProbe.Method.ICMP);
      UplinkProber.ProbeHealth tcp = health.probe(UplinkProbe.Method.TCP);
      Duration roundTrip = icmp.lastSuccess().orElse(Instant.EPOCH).isAfter(tcp.lastSuccess().orElse(Instant.EPOCH))
          ? icmp.lastRoundTrip() : tcp.lastRoundTrip();
      metrics.addPorts(PortProbeMetrics.newBuilder().setPort(port.getLabel()).setIfName(port.getIfName())
          .setState(health.health().name())
          .setGatewayUp(icmp.health() == UplinkProber.Health.UP).setRemoteHostUp(tcp.health() == UplinkProber.Health.UP)
          .setSuccessCount(icmp.totalSuccesses() + tcp.totalSuccesses())
          .setFailureCount(icmp.totalFailures() + tcp.totalFailures())
          .setIcmpSuccessCount(icmp.totalSuccesses()).setIcmpFailureCount(icmp.totalFailures())
          .setTcpSuccessCount(tcp.totalSuccesses()).setTcpFailureCount(tcp.totalFailures())
          .setLastIcmpSuccessMs(icmp.lastSuccess().map(Instant::toEpochMilli).orElse(0L))
          .setLastTcpSuccessMs(tcp.lastSuccess().map(Instant::toEpochMilli).orElse(0L))
          .setLastRttUs(roundTrip.toNanos() / 1000)
          .setLastError(health.lastError()));
    }
    return metrics.build();
  }

  private static Map<String, CounterValues> counters(Host host, NiSpec ni) {
    try {
      return host.firewall().counters(NiFirewall.tableRef(ni));
    } catch (HostException | IllegalStateException e) {
      return Map.of(); // the table is not there (yet): no counters to tell
    }
  }

  private static long packets(Map<String, CounterValues> counters, String name) {
    CounterValues values = counters.get(name);
    return values == null ? 0 : values.packets();
  }

  private static InterfaceMetrics.Builder link(String ifName, String label, LinkStats stats) {
    LinkStats s = stats == null ? LinkStats.ZERO : stats;
    return InterfaceMetrics.newBuilder().setIfName(ifName).setLabel(label)
        .setRxBytes(s.rxBytes()).setTxBytes(s.txBytes()).setRxPackets(s.rxPackets()).setTxPackets(s.txPackets())
        .setRxDrops(s.rxDropped()).setTxDrops(s.txDropped()).setRxErrors(s.rxErrors()).setTxErrors(s.txErrors());
  }
}
