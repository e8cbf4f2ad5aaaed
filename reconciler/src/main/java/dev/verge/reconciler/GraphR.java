package dev.verge.reconciler;

import java.util.List;
import java.util.Optional;

/**
 * Read-only view of a dependency graph or of one of its subgraphs. All lists are in a
 * deterministic order: items by path then reference, edges by the other end's reference.
 */
public interface GraphR {
  String name();

  String description();

  /** Looks the item up in this graph and its nested subgraphs; the path is relative to this view. */
  Optional<ItemEntry> item(ItemRef ref);

  /** Items ordered by path, then reference. */
  List<ItemEntry> items(boolean includeSubGraphs);

  /** Number of items, with or without nested subgraphs. */
  int size(boolean includeSubGraphs);

  /**
   * References of items that differ between this graph and {@code other}: present in only one,
   * not {@link Item#isEqual equal}, or at a different relative path. Sorted. A null {@code other}
   * gives every item of this graph.
   */
  List<ItemRef> diffItems(GraphR other);

  /** Direct child subgraph, or null. */
  GraphR subGraph(String name);

  /** Direct child subgraphs, ordered by name. */
  List<? extends GraphR> subGraphs();

  /** Parent graph, or null for a root. */
  GraphR parentGraph();

  /** Path of this view from the root of its graph. */
  SubGraphPath path();

  /** A new detached graph holding just this item (and its state). Empty if the item is absent. */
  Optional<GraphR> itemAsSubGraph(ItemRef ref);

  /** Edges from the item to what it depends on, sorted by target. Searches the whole root graph. */
  List<Edge> outgoingEdges(ItemRef ref);

  /** Edges into the item (even if it is missing), sorted by source. Searches the whole root graph. */
  List<Edge> incomingEdges(ItemRef ref);

  /** One dependency cycle among the items of this view (first in reference order), if any. */
  Optional<List<ItemRef>> detectCycle();

  /** Data attached to the root graph by its user (the reconciler keeps its state here). */
  Object privateData();
}
