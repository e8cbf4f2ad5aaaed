package dev.verge.reconciler;

/** Finds the configurator for an item. */
@FunctionalInterface
public interface ConfiguratorRegistry {
  /** The configurator, or null when none is registered. */
  Configurator configuratorFor(Item item);
}
