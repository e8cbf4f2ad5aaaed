package dev.verge.reconciler;

import java.util.HashMap;
import java.util.Map;

/** Configurators keyed by item type. */
public final class DefaultRegistry implements ConfiguratorRegistry {
  private final Map<String, Configurator> byType = new HashMap<>();

  /** @throws IllegalArgumentException when the type already has a configurator */
  public DefaultRegistry register(String itemType, Configurator configurator) {
    if (byType.putIfAbsent(itemType, configurator) != null) {
      throw new IllegalArgumentException("configurator for item type " + itemType + " is already registered");
    }
    return this;
  }

  @Override
  public Configurator configuratorFor(Item item) {
    return byType.get(item.type());
  }
}
