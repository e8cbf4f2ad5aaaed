package dev.verge.reconciler;

/** Read-write view of a dependency graph or subgraph. Not thread-safe: confine to one thread. */
public interface Graph extends GraphR {
  void setDescription(String description);

  /**
   * Adds or replaces an item in this (sub)graph; an item living in another subgraph of the same
   * root is moved here.
   *
   * @throws IllegalArgumentException for a self-dependency, a duplicate dependency on one item, or
   *     an external item with dependencies (the graph is left unchanged)
   */
  void putItem(Item item, ItemStateData state);

  /** Removes the item if it lives in this view; incoming edges of others stay (dangling). */
  boolean delItem(ItemRef ref);

  /**
   * Copies {@code root} (which must be a root of another graph) in as a child subgraph, replacing a
   * child of the same name. Its items move here from wherever they were in this graph.
   */
  Graph putSubGraph(GraphR root);

  boolean delSubGraph(String name);

  /** Read-write access to a descendant of this view. */
  Graph editSubGraph(GraphR subGraph);

  /** Read-write access to the parent, or null for a root. */
  Graph editParentGraph();

  /** Read-write child subgraph, created empty if missing. */
  Graph ensureSubGraph(String name, String description);

  void putPrivateData(Object data);

  @Override
  Graph subGraph(String name);

  @Override
  Graph parentGraph();

  /** The root of this graph. */
  Graph root();
}
