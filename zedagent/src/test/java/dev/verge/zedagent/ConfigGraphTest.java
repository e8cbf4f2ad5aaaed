package dev.verge.zedagent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigExamples;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.ItemRef;
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
    assertThat(graph.items(true)).hasSizeGreaterThan(config.getNetworkInstancesCount() + config.getAppsCount());
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
