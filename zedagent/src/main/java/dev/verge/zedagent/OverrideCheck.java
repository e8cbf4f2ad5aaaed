package dev.verge.zedagent;

import dev.verge.proto.ConfigValidator;
import dev.verge.proto.ConfigViolation;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Decides whether a local port override may be applied (EVE's rule, enforced as strictly as a
 * controller config): it may carry only ports and what they stand on (system adapters, their
 * networks, VLANs and bonds); it may change only ports the controller marked {@code
 * allow_local_modifications}, and nothing a locked port shares; and the controller's config with
 * the override merged in must pass the same validator as a controller config.
 */
final class OverrideCheck {
  private static final ConfigValidator VALIDATOR = new ConfigValidator();

  private OverrideCheck() {}

  /** What is wrong with the override, each with its field path; empty when it may be applied. */
  static List<String> problems(DeviceConfig override, DeviceConfig applied) {
    List<String> problems = new ArrayList<>();
    if (override.getSystemAdaptersCount() == 0) {
      problems.add("system_adapters: an override must name at least one port");
    }
    if (override.getNetworkInstancesCount() > 0 || override.getAppsCount() > 0 || override.getConfigItemsCount() > 0
        || override.getDeviceIoCount() > 0) {
      problems.add("an override may only carry ports: system_adapters, networks, vlans and bonds "
          + "(not device_io, network_instances, apps or config_items)");
    }
    Map<String, SystemAdapter> controllerPorts = byKey(applied.getSystemAdaptersList(), SystemAdapter::getName);
    Set<String> changedPorts = new TreeSet<>();
    for (int i = 0; i < override.getSystemAdaptersCount(); i++) {
      SystemAdapter port = override.getSystemAdapters(i);
      String path = "system_adapters[" + i + "]";
      SystemAdapter controllers = controllerPorts.get(port.getName());
      if (controllers == null) {
        problems.add(path + ".name: '" + port.getName() + "' is not a port of the controller's config");
      } else if (!controllers.getAllowLocalModifications()) {
        problems.add(path + ": port '" + port.getName() + "' does not allow local modifications");
      }
      changedPorts.add(port.getName());
    }
    // What the locked ports stand on may not change under them.
    Map<String, List<String>> lockedUsers = new HashMap<>();
    for (SystemAdapter port : applied.getSystemAdaptersList()) {
      if (!changedPorts.contains(port.getName())) {
        lockedUsers.computeIfAbsent("network " + port.getNetworkUuid(), k -> new ArrayList<>()).add(port.getName());
        lowerLayers(port.getLowerLayerName(), applied).forEach(label ->
            lockedUsers.computeIfAbsent("adapter " + label, k -> new ArrayList<>()).add(port.getName()));
      }
    }
    for (int i = 0; i < override.getNetworksCount(); i++) {
      String uuid = override.getNetworks(i).getId().getUuid();
      shared(problems, "networks[" + i + "]", "network " + uuid, lockedUsers);
    }
    for (int i = 0; i < override.getVlansCount(); i++) {
      shared(problems, "vlans[" + i + "]", "adapter " + override.getVlans(i).getLogicalLabel(), lockedUsers);
    }
    for (int i = 0; i < override.getBondsCount(); i++) {
      shared(problems, "bonds[" + i + "]", "adapter " + override.getBonds(i).getLogicalLabel(), lockedUsers);
    }
    if (!problems.isEmpty()) {
      return problems;
    }
    DeviceConfig merged = merge(applied, override);
    // Objects keep their places in the merge (new ones go last), so a problem the controller's
    // config had already reads the same and is not the override's to answer for.
    Set<String> before = VALIDATOR.validate(applied).stream().map(ConfigViolation::toString)
        .collect(Collectors.toSet());
    for (ConfigViolation violation : VALIDATOR.validate(merged)) {
      if (!before.contains(violation.toString())) {
        problems.add(describe(violation, merged, override));
      }
    }
    return problems;
  }

  private static void shared(List<String> problems, String path, String object, Map<String, List<String>> lockedUsers) {
    List<String> users = lockedUsers.get(object);
    if (users != null) {
      problems.add(path + ": " + object + " is also used by port(s) " + users + " that do not allow local modifications");
    }
  }

  /** The labels of the VLAN, bond and physical adapters under a port's lower layer. */
  private static Set<String> lowerLayers(String label, DeviceConfig config) {
    Set<String> labels = new TreeSet<>();
    List<String> todo = new ArrayList<>(List.of(label));
    while (!todo.isEmpty()) {
      String next = todo.remove(todo.size() - 1);
      if (next.isEmpty() || !labels.add(next)) {
        continue;
      }
      config.getVlansList().stream().filter(v -> v.getLogicalLabel().equals(next))
          .forEach(v -> todo.add(v.getLowerLayerName()));
      config.getBondsList().stream().filter(b -> b.getLogicalLabel().equals(next))
          .forEach(b -> todo.addAll(b.getLowerLayerNamesList()));
    }
    return labels;
  }

  /**
   * The controller's config with the override's objects in place of those with the same key. A
   * port keeps the controller's {@code allow_local_modifications}: that one is not the override's
   * to change (and an override that leaves it out must not read as taking it away).
   */
  static DeviceConfig merge(DeviceConfig applied, DeviceConfig override) {
    DeviceConfig.Builder merged = applied.toBuilder();
    List<SystemAdapter> ports = override.getSystemAdaptersList().stream()
        .map(p -> p.toBuilder().setAllowLocalModifications(true).build())
        .toList();
    merged.clearSystemAdapters().addAllSystemAdapters(
        replace(applied.getSystemAdaptersList(), ports, SystemAdapter::getName));
    merged.clearNetworks().addAllNetworks(
        replace(applied.getNetworksList(), override.getNetworksList(), n -> n.getId().getUuid()));
    merged.clearVlans().addAllVlans(
        replace(applied.getVlansList(), override.getVlansList(), VlanAdapter::getLogicalLabel));
    merged.clearBonds().addAllBonds(
        replace(applied.getBondsList(), override.getBondsList(), BondAdapter::getLogicalLabel));
    return merged.build();
  }

  private static <T> List<T> replace(List<T> base, List<T> replacements, Function<T, String> key) {
    Map<String, T> result = new LinkedHashMap<>(byKey(base, key));
    replacements.forEach(r -> result.put(key.apply(r), r));
    return List.copyOf(result.values());
  }

  private static <T> Map<String, T> byKey(List<T> items, Function<T, String> key) {
    return items.stream().collect(Collectors.toMap(key, t -> t, (a, b) -> a, LinkedHashMap::new));
  }

  /**
   * A violation of the merged config, with its path translated back to the override where the
   * object came from it ({@code system_adapters[0].cost}), or marked as the controller's.
   */
  private static String describe(ConfigViolation violation, DeviceConfig merged, DeviceConfig override) {
    String path = violation.fieldPath();
    String translated = translate(path, "system_adapters", merged.getSystemAdaptersList(),
        override.getSystemAdaptersList(), SystemAdapter::getName);
    if (translated == null) {
      translated = translate(path, "networks", merged.getNetworksList(), override.getNetworksList(),
          (NetworkConfig n) -> n.getId().getUuid());
    }
    if (translated == null) {
      translated = translate(path, "vlans", merged.getVlansList(), override.getVlansList(), VlanAdapter::getLogicalLabel);
    }
    if (translated == null) {
      translated = translate(path, "bonds", merged.getBondsList(), override.getBondsList(), BondAdapter::getLogicalLabel);
    }
    if (translated == null) {
      translated = "(with the controller's config) " + (path.isEmpty() ? "<document>" : path);
    }
    return translated + ": " + violation.description() + " (" + violation.reason() + ")";
  }

  private static <T> String translate(
      String path, String field, List<T> merged, List<T> override, Function<T, String> key) {
    String prefix = field + "[";
    if (!path.startsWith(prefix)) {
      return null;
    }
    int close = path.indexOf(']');
    int index = Integer.parseInt(path.substring(prefix.length(), close));
    if (index >= merged.size()) {
      return null;
    }
    String objectKey = key.apply(merged.get(index));
    for (int i = 0; i < override.size(); i++) {
      if (key.apply(override.get(i)).equals(objectKey)) {
        return field + "[" + i + "]" + path.substring(close + 1);
      }
    }
    return "(with the controller's config) " + path;
  }
}
