package dev.verge.reconciler;

/**
 * An item found in a graph, with its state (null in an intended graph) and its path relative to
 * the graph it was looked up from.
 */
public record ItemEntry(Item item, ItemStateData state, SubGraphPath path) {
  public ItemRef ref() {
    return item.ref();
  }

  /** State data, or the default (created) for an item put without state. */
  public ItemStateData stateOrCreated() {
    return state == null ? ItemStateData.CREATED : state;
  }
}
