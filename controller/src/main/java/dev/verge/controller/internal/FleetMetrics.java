package dev.verge.controller.internal;

import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import java.lang.management.ManagementFactory;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Renders the fleet as Prometheus text (exposition format 0.0.4). */
public final class FleetMetrics {
  private final ControllerStore store;
  private final TelemetryStore telemetry;
  private final DeviceSessions sessions;

  public FleetMetrics(ControllerStore store, TelemetryStore telemetry, DeviceSessions sessions) {
    this.store = store;
    this.telemetry = telemetry;
    this.sessions = sessions;
  }

  public String render() {
    List<DeviceRecord> records = store.devices(); // one read of the store, however large the fleet
    List<String> devices = records.stream().map(DeviceRecord::getDeviceUuid).toList();
    StringBuilder out = new StringBuilder(256 + devices.size() * 400);
    header(out, "verge_controller_devices_onboarded", "gauge", "Devices onboarded.");
    sample(out, "verge_controller_devices_onboarded", "", devices.size());
    header(out, "verge_controller_devices_connected", "gauge", "Devices with an open config stream to this replica.");
    sample(out, "verge_controller_devices_connected", "", sessions.connected().size());

    header(out, "verge_device_connected", "gauge", "1 when the device has an open config stream to this replica.");
    for (String device : devices) {
      sample(out, "verge_device_connected", label("device", device), sessions.isConnected(device) ? 1 : 0);
    }
    header(out, "verge_device_config_applied", "gauge", "1 when the device acknowledged the current config.");
    for (DeviceRecord r : records) {
      sample(out, "verge_device_config_applied", label("device", r.getDeviceUuid()),
          !r.getCurrentHash().isEmpty() && r.getCurrentHash().equals(r.getAppliedHash()) ? 1 : 0);
    }
    header(out, "verge_device_config_rejected", "gauge", "1 when the device's last answer was a rejection of the current config.");
    for (DeviceRecord r : records) {
      sample(out, "verge_device_config_rejected", label("device", r.getDeviceUuid()), rejectedCurrent(r) ? 1 : 0);
    }
    // The metrics time series: the latest cumulative counters each device sent this replica. The
    // series itself lives in Prometheus (or wherever it is scraped to), not in the controller.
    header(out, "verge_device_interface_rx_bytes_total", "counter", "Bytes received on a device interface, as last reported.");
    StringBuilder tx = new StringBuilder();
    for (String device : devices) {
      MetricsMessage latest = telemetry.latestMetrics(device);
      if (latest == null) {
        continue;
      }
      for (InterfaceMetrics nic : latest.getInterfacesList()) {
        String labels = label("device", device) + "," + label("interface", nic.getIfName());
        sample(out, "verge_device_interface_rx_bytes_total", labels, nic.getRxBytes());
        sample(tx, "verge_device_interface_tx_bytes_total", labels, nic.getTxBytes());
      }
    }
    header(out, "verge_device_interface_tx_bytes_total", "counter", "Bytes sent on a device interface, as last reported.");
    out.append(tx);
    header(out, "verge_device_uplink_in_use", "gauge", "The port the device reaches the controller through (value 1).");
    Map<NetworkInstanceStatus.State, Long> niStates = new EnumMap<>(NetworkInstanceStatus.State.class);
    long now = System.currentTimeMillis();
    StringBuilder aclDrops = new StringBuilder();
    StringBuilder infoAge = new StringBuilder();
    for (String device : devices) {
      TelemetryStore.Summary summary = telemetry.summary(device);
      if (!summary.uplink().isEmpty()) {
        sample(out, "verge_device_uplink_in_use", label("device", device) + "," + label("port", summary.uplink()), 1);
      }
      summary.niStates().forEach((state, count) -> niStates.merge(state, (long) count, Long::sum));
      sample(aclDrops, "verge_device_acl_drops_total", label("device", device), summary.aclDrops());
      if (summary.lastInfoAtMs() > 0) {
        sample(infoAge, "verge_device_info_age_seconds", label("device", device), (now - summary.lastInfoAtMs()) / 1000.0);
      }
    }
    header(out, "verge_network_instances", "gauge", "Network instances across the fleet by reported state.");
    for (NetworkInstanceStatus.State state : List.of(NetworkInstanceStatus.State.STATE_INIT,
        NetworkInstanceStatus.State.STATE_ONLINE, NetworkInstanceStatus.State.STATE_ERROR)) {
      sample(out, "verge_network_instances", label("state", state.name().substring("STATE_".length())),
          niStates.getOrDefault(state, 0L));
    }
    header(out, "verge_device_acl_drops_total", "counter", "Packets dropped by ACLs, as last reported by the device.");
    out.append(aclDrops);
    header(out, "verge_device_info_age_seconds", "gauge", "Seconds since the device last uploaded info.");
    out.append(infoAge);
    header(out, "verge_controller_heap_used_bytes", "gauge", "JVM heap in use.");
    sample(out, "verge_controller_heap_used_bytes", "", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    return out.toString();
  }

  private static boolean rejectedCurrent(DeviceRecord record) {
    return !record.getRejectedHash().isEmpty() && record.getRejectedHash().equals(record.getCurrentHash());
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, String labels, double value) {
    out.append(name);
    if (!labels.isEmpty()) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ');
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      out.append((long) value);
    } else {
      out.append(value);
    }
    out.append('\n');
  }

  private static String label(String name, String value) {
    return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
