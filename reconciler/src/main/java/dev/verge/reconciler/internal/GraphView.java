package dev.verge.reconciler.internal;

import dev.verge.reconciler.Edge;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemEntry;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ItemStateData;
import dev.verge.reconciler.SubGraphPath;
import dev.verge.reconciler.internal.GraphStore.Meta;
import dev.verge.reconciler.internal.GraphStore.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A root graph or a subgraph: a path view onto a {@link GraphStore}. */
public final class GraphView implements Graph {
  final GraphStore store;
  final Meta meta;

  GraphView(GraphStore store, Meta meta) {
    this.store = store;
    this.meta = meta;
  }

  public GraphStore store() {
    return store;
  }

  public boolean isRoot() {
    return meta.parent == null;
  }

  /** False once this subgraph was deleted or replaced. */
  boolean attached() {
    for (Meta m = meta; m.parent != null; m = m.parent) {
      if (m.parent.children.get(m.name) != m) {
        return false;
      }
    }
    return true;
  }

  private void requireAttached() {
    if (!attached()) {
      throw new IllegalStateException("subgraph " + meta.path + " was removed from its graph");
    }
  }

  @Override
  public String name() {
    return meta.name;
  }

  @Override
  public String description() {
    return meta.description;
  }

  @Override
  public SubGraphPath path() {
    return meta.path;
  }

  /** The node when it lives in this view. */
  Node nodeInView(ItemRef ref) {
    return inView(store.node(ref));
  }

  /** {@code node} (of this view's store) when it lives in this view, else null. */
  Node inView(Node node) {
    if (node == null || !(isRoot() || meta.path.isPrefixOf(node.path))) {
      return null;
    }
    return node;
  }

  private ItemEntry entry(Node node) {
    return new ItemEntry(node.item, node.state, node.path.trimPrefix(meta.path));
  }

  @Override
  public Optional<ItemEntry> item(ItemRef ref) {
    Node node = nodeInView(ref);
    return node == null ? Optional.empty() : Optional.of(entry(node));
  }

  /** Nodes of this view in order (path, then reference). */
  Iterable<Node> nodes(boolean includeSubGraphs) {
    var list = new ArrayList<Node>();
    if (!includeSubGraphs) {
      TreeMap<ItemRef, Node> atPath = store.byPath.get(meta.path);
      if (atPath != null) {
        list.addAll(atPath.values());
      }
      return list;
    }
    var tail = isRoot() ? store.byPath : store.byPath.tailMap(meta.path, true);
    for (Map.Entry<SubGraphPath, TreeMap<ItemRef, Node>> e : tail.entrySet()) {
      if (!meta.path.isPrefixOf(e.getKey())) {
        break;
      }
      list.addAll(e.getValue().values());
    }
    return list;
  }

  @Override
  public List<ItemEntry> items(boolean includeSubGraphs) {
    var list = new ArrayList<ItemEntry>();
    for (Node node : nodes(includeSubGraphs)) {
      list.add(entry(node));
    }
    return list;
  }

  @Override
  public int size(boolean includeSubGraphs) {
    if (isRoot() && includeSubGraphs) {
      return store.nodes.size();
    }
    int n = 0;
    for (Node ignored : nodes(includeSubGraphs)) {
      n++;
    }
    return n;
  }

  /** Whether {@code ref} differs between two views, in the sense of {@link #diffItems}. */
  public static boolean differs(GraphView a, GraphView b, ItemRef ref) {
    Node x = a == null ? null : a.nodeInView(ref);
    Node y = b == null ? null : b.nodeInView(ref);
    if (x == null || y == null) {
      return x != y;
    }
    return !x.item.isEqual(y.item)
        || !x.path.trimPrefix(a.meta.path).equals(y.path.trimPrefix(b.meta.path));
  }

  @Override
  public List<ItemRef> diffItems(GraphR other) {
    GraphView that = other == null ? null : asView(other);
    // Each ref lives at one path, so the two passes give distinct refs, each pass in (path, ref)
    // order: one sort of a list (merging sorted runs) beats a TreeSet insert per item.
    var diff = new ArrayList<ItemRef>();
    for (Node node : nodes(true)) {
      ItemRef ref = node.ref();
      if (differs(this, that, ref)) {
        diff.add(ref);
      }
    }
    if (that != null) {
      for (Node node : that.nodes(true)) {
        ItemRef ref = node.ref();
        if (nodeInView(ref) == null) {
          diff.add(ref);
        }
      }
    }
    diff.sort(null);
    return diff;
  }

  static GraphView asView(GraphR graph) {
    if (graph instanceof GraphView view) {
      return view;
    }
    throw new IllegalArgumentException("not a graph made by Graphs.newGraph: " + graph);
  }

  @Override
  public GraphView subGraph(String name) {
    Meta child = meta.children.get(name);
    return child == null ? null : store.view(child);
  }

  @Override
  public List<GraphView> subGraphs() {
    var list = new ArrayList<GraphView>();
    for (Meta child : meta.children.values()) {
      list.add(store.view(child));
    }
    return list;
  }

  @Override
  public GraphView parentGraph() {
    return meta.parent == null ? null : store.view(meta.parent);
  }

  @Override
  public Graph root() {
    return store.view(store.rootMeta);
  }

  @Override
  public Optional<GraphR> itemAsSubGraph(ItemRef ref) {
    Node node = nodeInView(ref);
    if (node == null) {
      return Optional.empty();
    }
    GraphView single = GraphStore.newRoot(ref.toString(), node.item.describe());
    single.putItem(node.item, node.state);
    return Optional.of(single);
  }

  @Override
  public List<Edge> outgoingEdges(ItemRef ref) {
    return store.outgoing(ref);
  }

  @Override
  public List<Edge> incomingEdges(ItemRef ref) {
    return store.incoming(ref);
  }

  @Override
  public Optional<List<ItemRef>> detectCycle() {
    var roots = new ArrayList<ItemRef>();
    for (Node node : nodes(true)) {
      roots.add(node.ref());
    }
    List<ItemRef> cycle = CycleFinder.firstCycle(store, roots);
    return Optional.ofNullable(cycle);
  }

  @Override
  public Object privateData() {
    return store.privateData;
  }

  // ---- writes ----

  @Override
  public void setDescription(String description) {
    meta.description = description == null ? "" : description;
  }

  @Override
  public void putItem(Item item, ItemStateData state) {
    requireAttached();
    store.put(item, state, meta.path);
  }

  /** Puts the item at {@code relativePath} below this view (subgraphs must exist). */
  public void putItemAt(Item item, ItemStateData state, SubGraphPath relativePath) {
    requireAttached();
    store.put(item, state, meta.path.concatenate(relativePath));
  }

  @Override
  public boolean delItem(ItemRef ref) {
    requireAttached();
    return nodeInView(ref) != null && store.delete(ref);
  }

  @Override
  public Graph putSubGraph(GraphR root) {
    requireAttached();
    GraphView src = asView(root);
    if (!src.isRoot() || src.store == store) {
      throw new IllegalArgumentException(
          "putSubGraph needs the root of another graph, got " + src.name());
    }
    delSubGraph(src.name());
    Meta child = new Meta(src.name(), src.description(), meta);
    meta.children.put(child.name, child);
    copyMetas(src.meta, child);
    for (Node node : src.nodes(true)) {
      store.put(node.item, node.state, child.path.concatenate(node.path));
    }
    return store.view(child);
  }

  private static void copyMetas(Meta from, Meta to) {
    for (Meta c : from.children.values()) {
      Meta copy = new Meta(c.name, c.description, to);
      to.children.put(copy.name, copy);
      copyMetas(c, copy);
    }
  }

  @Override
  public boolean delSubGraph(String name) {
    requireAttached();
    Meta child = meta.children.get(name);
    if (child == null) {
      return false;
    }
    store.deleteBelow(child.path);
    meta.children.remove(name);
    return true;
  }

  @Override
  public Graph editSubGraph(GraphR subGraph) {
    GraphView view = asView(subGraph);
    if (view.store != store || !meta.path.isPrefixOf(view.meta.path) || !view.attached()) {
      throw new IllegalArgumentException(
          "graph " + subGraph.name() + " is not a subgraph of " + name());
    }
    return view;
  }

  @Override
  public Graph editParentGraph() {
    return parentGraph();
  }

  @Override
  public Graph ensureSubGraph(String name, String description) {
    requireAttached();
    Meta child = meta.children.get(name);
    if (child == null) {
      child = new Meta(name, description, meta);
      meta.children.put(name, child);
    } else if (description != null) {
      child.description = description;
    }
    return store.view(child);
  }

  @Override
  public void putPrivateData(Object data) {
    store.privateData = data;
  }

  @Override
  public String toString() {
    return "Graph[" + meta.path + " of " + store.rootMeta.name + ", " + size(true) + " items]";
  }
}
