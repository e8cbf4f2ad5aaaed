package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.ItemRef;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ConfigGraphTest {

  @Test
  void theLayeringOfTheConfigBecomesDependencies() throws Exception {
    DeviceConfig config = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
    Graph graph = ConfigGraph.build(config);

    var app = config.getApps(0);
    NetworkAdapter vif = app.getInterfaces(0);
    var vifItem = graph.item(ItemRef.of(ConfigGraph.VIF, app.getId().getUuid() + "." + vif.getName())).orElseThrow();
    assertThat(vifItem.item().dependencies())
        .extracting(d -> d.requiredItem())
        .containsExactly(ItemRef.of(ConfigGraph.NI, vif.getNetworkId()));
    assertThat(graph.item(ItemRef.of(ConfigGraph.APP, app.getId().getUuid()))).isPresent();
    // One item per object of each layer, no more and no fewer.
    int vifs = config.getAppsList().stream().mapToInt(a -> a.getInterfacesCount()).sum();
    Map<String, Long> expected = new TreeMap<>(Map.of(
        ConfigGraph.IO, (long) config.getDeviceIoCount(),
        ConfigGraph.VLAN, (long) config.getVlansCount(),
        ConfigGraph.BOND, (long) config.getBondsCount(),
        ConfigGraph.NETWORK, (long) config.getNetworksCount(),
        ConfigGraph.PORT, (long) config.getSystemAdaptersCount(),
        ConfigGraph.NI, (long) config.getNetworkInstancesCount(),
        ConfigGraph.VIF, (long) vifs,
        ConfigGraph.APP, (long) config.getAppsCount()));
    expected.values().removeIf(count -> count == 0);
    Map<String, Long> built =
        graph.items(true).stream().collect(Collectors.groupingBy(e -> e.item().type(), TreeMap::new, Collectors.counting()));
    assertThat(built).isEqualTo(expected);
  }

  @Test
  void dotShowsOneClusterPerLayerAndMarksAMissingReference() throws Exception {
    DeviceConfig config = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), ConfigCodec.Format.YAML);
    DeviceConfig broken = config.toBuilder()
        .setApps(0, config.getApps(0).toBuilder().setInterfaces(0,
            config.getApps(0).getInterfaces(0).toBuilder().setNetworkId("99999999-0000-4000-8000-000000000000")))
        .build();
    String dot = ConfigGraph.dot(broken);
    assertThat(dot).contains("cluster_Ports", "cluster_NetworkInstances", "cluster_Apps");
    assertThat(dot).contains("<missing>");
  }
}
