package dev.verge.zedagent;

import com.google.protobuf.Message;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Topic;
import dev.verge.topics.ZedagentTopics;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Splits a device config into the per-object config topics. Applying a config publishes what is
 * new or changed and unpublishes what vanished; an unchanged object is not touched, so agents see
 * exactly the difference. Topics are persistent: after a restart the agents find the last config
 * on the bus before zedagent reaches the controller.
 */
public final class ConfigPublisher implements AutoCloseable {

  /** One object type of the config and how it is keyed on its topic. */
  private record Slice<T extends Message>(
      Publication<T> publication, Function<DeviceConfig, List<T>> objects, Function<T, String> key) {

    /** Publishes the config's objects of this type. @return number of keys changed */
    int apply(DeviceConfig config) {
      Map<String, T> wanted = new LinkedHashMap<>();
      for (T object : objects.apply(config)) {
        wanted.put(busKey(key.apply(object)), object);
      }
      int changes = 0;
      for (String key : publication.snapshot().keySet()) {
        if (!wanted.containsKey(key) && publication.unpublish(key)) {
          changes++;
        }
      }
      for (Map.Entry<String, T> entry : wanted.entrySet()) {
        if (publication.publish(entry.getKey(), entry.getValue())) {
          changes++;
        }
      }
      return changes;
    }
  }

  /** Becomes the publisher of a topic (on the agent's loop, persistent). */
  @FunctionalInterface
  public interface Outputs {
    <T extends Message> Publication<T> publish(Topic<T> topic);
  }

  private final List<Slice<?>> slices;

  /** Publishes through {@code outputs}; {@link #apply} runs on the loop they publish from. */
  public ConfigPublisher(Outputs outputs) {
    this.slices =
        List.of(
            slice(outputs, ZedagentTopics.PHYSICAL_IO, DeviceConfig::getDeviceIoList, ConfigPublisher::ioKey),
            slice(outputs, ZedagentTopics.VLANS, DeviceConfig::getVlansList, v -> v.getLogicalLabel()),
            slice(outputs, ZedagentTopics.BONDS, DeviceConfig::getBondsList, b -> b.getLogicalLabel()),
            slice(outputs, ZedagentTopics.SYSTEM_ADAPTERS, DeviceConfig::getSystemAdaptersList, a -> a.getName()),
            slice(outputs, ZedagentTopics.NETWORKS, DeviceConfig::getNetworksList, n -> n.getId().getUuid()),
            slice(outputs, ZedagentTopics.NETWORK_INSTANCES, ConfigPublisher::networkInstances,
                ni -> ni.getId().getUuid()),
            slice(outputs, ZedagentTopics.APPS, DeviceConfig::getAppsList, app -> app.getId().getUuid()),
            slice(outputs, ZedagentTopics.CONFIG_ITEMS, DeviceConfig::getConfigItemsList, item -> item.getKey()));
  }

  private static <T extends Message> Slice<T> slice(
      Outputs outputs, Topic<T> topic, Function<DeviceConfig, List<T>> objects, Function<T, String> key) {
    return new Slice<>(outputs.publish(topic), objects, key);
  }

  /**
   * Publishes the config's objects.
   *
   * @return how many keys were created, changed or removed
   */
  public int apply(DeviceConfig config) {
    int changes = 0;
    for (Slice<?> slice : slices) {
      changes += slice.apply(config);
    }
    return changes;
  }

  /**
   * The config's NIs, each VPN NI's {@code psk_ref} resolved: its pre-shared key is the value of
   * the config item it names, so zedrouter gets the key and a new key (the item changed) reloads
   * the tunnel. A reference to no item is left unresolved: zedrouter reports it in the NI's status.
   */
  static List<NetworkInstanceConfig> networkInstances(DeviceConfig config) {
    Map<String, String> items = new HashMap<>();
    config.getConfigItemsList().forEach(item -> items.put(item.getKey(), item.getValue()));
    return config.getNetworkInstancesList().stream().map(ni -> {
      String ref = ni.getVpn().getPskRef();
      if (ref.isEmpty() || !ni.getVpn().getPsk().isEmpty() || !items.containsKey(ref)) {
        return ni;
      }
      NetworkInstanceConfig.Builder resolved = ni.toBuilder();
      resolved.getVpnBuilder().setPsk(items.get(ref));
      return resolved.build();
    }).toList();
  }

  private static String ioKey(PhysicalIo io) {
    return io.getLogicalLabel().isEmpty() ? io.getPhyLabel() : io.getLogicalLabel();
  }

  /** Bus keys cannot hold '/' or be empty; labels and UUIDs never do, but be total. */
  static String busKey(String key) {
    if (key.isEmpty()) {
      return "_";
    }
    return key.replace("%", "%25").replace("/", "%2F");
  }

  @Override
  public void close() {
    slices.forEach(slice -> slice.publication().close());
  }
}
