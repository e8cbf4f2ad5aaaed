package dev.verge.zedagent;

import com.google.protobuf.Message;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.DotExporter;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The device config as a dependency graph (PhysicalIO → VLAN/bond → port → network instance →
 * app VIF → app), built with the reconciler's graph model: what {@code verge node graph} shows.
 * A reference to a missing object appears as a missing dependency, so a broken layering is
 * visible at a glance.
 */
public final class ConfigGraph {
  static final String IO = "PhysicalIO";
  static final String VLAN = "VLAN";
  static final String BOND = "Bond";
  static final String NETWORK = "Network";
  static final String PORT = "Port";
  static final String NI = "NetworkInstance";
  static final String VIF = "VIF";
  static final String APP = "App";
  /** Labels every device has; an NI using one depends on whichever ports carry it. */
  private static final Set<String> SHARED_LABELS = Set.of("all", "uplink", "freeuplink");

  private ConfigGraph() {}

  /** One config object as a graph item. */
  record ConfigItem(String type, String name, String label, Message value, List<Dependency> dependencies) implements Item {
    @Override
    public boolean isEqual(Item other) {
      return other instanceof ConfigItem o && value.equals(o.value) && dependencies.equals(o.dependencies);
    }

    @Override
    public String describe() {
      return type + " " + label + "\n" + value.toString().strip();
    }
  }

  public static Graph build(DeviceConfig config) {
    Graph graph = Graphs.newGraph("DeviceConfig", "objects of the device config and what each depends on");
    Graph ports = graph.ensureSubGraph("Ports", "physical I/O, VLANs, bonds and the ports over them");
    Graph networks = graph.ensureSubGraph("NetworkInstances", "network instances");
    Graph apps = graph.ensureSubGraph("Apps", "applications and their virtual interfaces");
    for (PhysicalIo io : config.getDeviceIoList()) {
      String label = io.getLogicalLabel().isEmpty() ? io.getPhyLabel() : io.getLogicalLabel();
      put(ports, new ConfigItem(IO, label, label + " (" + io.getType() + ")", io, List.of()));
    }
    for (VlanAdapter vlan : config.getVlansList()) {
      put(ports, new ConfigItem(VLAN, vlan.getLogicalLabel(), vlan.getInterfaceName(), vlan,
          List.of(lowerLayer(config, vlan.getLowerLayerName()))));
    }
    for (BondAdapter bond : config.getBondsList()) {
      put(ports, new ConfigItem(BOND, bond.getLogicalLabel(), bond.getInterfaceName() + " " + bond.getMode(), bond,
          bond.getLowerLayerNamesList().stream().distinct().map(m -> Dependency.on(IO, m).describedAs("bond member")).toList()));
    }
    for (NetworkConfig network : config.getNetworksList()) {
      put(ports, new ConfigItem(NETWORK, network.getId().getUuid(), network.getIp().getDhcp().name(), network, List.of()));
    }
    for (SystemAdapter port : config.getSystemAdaptersList()) {
      List<Dependency> deps = new ArrayList<>();
      deps.add(lowerLayer(config, port.getLowerLayerName()));
      if (!port.getNetworkUuid().isEmpty()) {
        deps.add(Dependency.on(NETWORK, port.getNetworkUuid()).describedAs("IP settings"));
      }
      put(ports, new ConfigItem(PORT, port.getName(), port.getName() + (port.getUplink() ? " (uplink, cost " + port.getCost() + ")" : ""), port, deps));
    }
    for (NetworkInstanceConfig ni : config.getNetworkInstancesList()) {
      String portLabel = ni.getPort().getName();
      List<Dependency> deps = portLabel.isEmpty() || SHARED_LABELS.contains(portLabel)
          ? List.of()
          : List.of(Dependency.on(PORT, portLabel).describedAs("uplink port"));
      put(networks, new ConfigItem(NI, ni.getId().getUuid(),
          ni.getDisplayName() + " " + ni.getType().name().replace("TYPE_", "") + " " + ni.getIp().getSubnet(), ni, deps));
    }
    for (AppInstanceConfig app : config.getAppsList()) {
      List<Dependency> vifs = new ArrayList<>();
      for (NetworkAdapter vif : app.getInterfacesList()) {
        String name = app.getId().getUuid() + "." + vif.getName();
        put(apps, new ConfigItem(VIF, name, app.getDisplayName() + "/" + vif.getName(), vif,
            List.of(Dependency.on(NI, vif.getNetworkId()).describedAs("network instance"))));
        vifs.add(Dependency.on(VIF, name).describedAs("virtual interface"));
      }
      put(apps, new ConfigItem(APP, app.getId().getUuid(), app.getDisplayName(), app, vifs));
    }
    return graph;
  }

  /** DOT text of the config graph, one cluster per layer, missing references highlighted. */
  public static String dot(DeviceConfig config) {
    return new DotExporter(true).export(build(config));
  }

  private static void put(Graph graph, ConfigItem item) {
    graph.putItem(item, null);
  }

  /** A lower layer is a physical I/O, a VLAN or a bond; find which, so the edge points right. */
  private static Dependency lowerLayer(DeviceConfig config, String label) {
    String type = config.getVlansList().stream().anyMatch(v -> v.getLogicalLabel().equals(label)) ? VLAN
        : config.getBondsList().stream().anyMatch(b -> b.getLogicalLabel().equals(label)) ? BOND
        : IO;
    return new Dependency(ItemRef.of(type, label), null, "lower layer", false, false);
  }
}
