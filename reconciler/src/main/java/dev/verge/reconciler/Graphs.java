package dev.verge.reconciler;

import dev.verge.reconciler.internal.GraphStore;

/** Factories for dependency graphs. */
public final class Graphs {
  private Graphs() {}

  public static Graph newGraph(String name, String description) {
    return GraphStore.newRoot(name, description);
  }

  public static Graph newGraph(GraphSpec spec) {
    Graph root = newGraph(spec.name(), spec.description());
    fill(root, spec);
    return root;
  }

  private static void fill(Graph graph, GraphSpec spec) {
    for (ItemEntry entry : spec.items()) {
      graph.putItem(entry.item(), entry.state());
    }
    for (GraphSpec child : spec.subGraphs()) {
      fill(graph.ensureSubGraph(child.name(), child.description()), child);
    }
  }
}
