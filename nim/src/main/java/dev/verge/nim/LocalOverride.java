package dev.verge.nim;

import dev.verge.proto.config.v1.DeviceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A local operator's port settings (zedagent's local API), merged into a config: per port, the
 * IP settings, DNS and MTU replace the config's as one unit, and only on ports that allow local
 * modifications. Cost, usage, labels and the L2 layout always stay the controller's. Refused
 * parts are reported per port; clearing the override reverts to the config as it came.
 */
public final class LocalOverride {
  private LocalOverride() {}

  public static PortConfig apply(PortConfig base, DeviceConfig local) {
    PortConfig wanted = PortConfigReader.read("local", 0, withBaseLinks(base, local));
    SortedMap<String, String> errors = new TreeMap<>(base.errors());
    List<Port> ports = new ArrayList<>();
    for (Port port : base.ports()) {
      Optional<Port> override = wanted.port(port.label()).filter(p -> p.hasIp());
      if (override.isEmpty() || !port.hasIp()) {
        ports.add(port);
        continue;
      }
      if (!port.allowLocalModifications()) {
        errors.put(port.label(), "local override refused: port '" + port.label() + "' does not allow local modifications");
        ports.add(port);
        continue;
      }
      Port o = override.get();
      ports.add(port.withIp(o.addressing(), o.dnsServers(), o.mtu() == 0 ? port.mtu() : o.mtu()));
    }
    wanted.errors().forEach((label, error) -> errors.put(label, "local override: " + error));
    for (var adapter : local.getSystemAdaptersList()) {
      if (base.port(adapter.getName()).isEmpty()) {
        errors.put(adapter.getName(), "local override names unknown port '" + adapter.getName() + "'");
      }
    }
    return base.withPorts(ports, errors);
  }

  /**
   * The override names ports by label and gives their networks; it need not repeat the physical
   * layout, so the base's ports are written back as adapters it may refer to.
   */
  private static DeviceConfig withBaseLinks(PortConfig base, DeviceConfig local) {
    DeviceConfig.Builder b = local.toBuilder().clearDeviceIo().clearVlans().clearBonds();
    List<dev.verge.proto.config.v1.SystemAdapter> adapters = new ArrayList<>();
    for (var adapter : local.getSystemAdaptersList()) {
      Optional<Port> port = base.port(adapter.getName());
      if (port.isEmpty()) {
        continue;
      }
      // Each overridden port sits on a stand-in Ethernet named like the port's link (validation only).
      b.addDeviceIo(dev.verge.proto.config.v1.PhysicalIo.newBuilder()
          .setType(dev.verge.proto.config.v1.PhysicalIo.Type.TYPE_ETHERNET)
          .setLogicalLabel("local:" + port.get().label())
          .putPhyAddrs("ifname", port.get().ifName()));
      adapters.add(adapter.toBuilder().setLowerLayerName("local:" + port.get().label()).setUplink(port.get().isManagement())
          .build());
    }
    return b.clearSystemAdapters().addAllSystemAdapters(adapters).build();
  }
}
