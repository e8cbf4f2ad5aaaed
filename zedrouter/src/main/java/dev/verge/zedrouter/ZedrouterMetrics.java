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
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * zedrouter's metrics, read from the kernel when asked: per NI its bridge's and its VIFs' link
 * counters, and per VIF the firewall's counters (each ACE's matches, the implicit drops, the
 * rate-limit drops). Counters of a local NI's firewall restart from zero when its table is
 * rewritten (a config change): the controller sees a reset, as after a reboot.
 */
final class ZedrouterMetrics {
  private ZedrouterMetrics() {}

  static MetricsMessage read(Host host, Collection<NiSpec> nis, List<VifPlan> vifs, long nowMs) {
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
      message.addNetworkInstances(niMetrics);
    }
    return message.setAcl(AclMetrics.newBuilder().setTotalDrops(totalDrops).setTotalRateLimitDrops(totalRateDrops))
        .build();
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
