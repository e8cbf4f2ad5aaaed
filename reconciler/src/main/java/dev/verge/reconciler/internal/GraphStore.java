package dev.verge.reconciler.internal;

import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Edge;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ItemStateData;
import dev.verge.reconciler.SubGraphPath;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Storage shared by a root graph and all its subgraph views. Every item lives here once, tagged
 * with its subgraph path; subgraphs are path views. Keeps incoming-edge and external-item indexes
 * up to date on each put, and a change journal so that a reconciler can diff only what changed.
 */
public final class GraphStore {
  private static final AtomicLong IDS = new AtomicLong();

  /** One item with its mutable bookkeeping. */
  static final class Node {
    Item item;
    ItemStateData state;
    SubGraphPath path;
    List<Edge> outgoing;
    /** Nodes of the outgoing edges' targets, resolved on demand (see {@link #target}); null until then. */
    Node[] targets;
    /** Set once the node left its store, so that cached references to it are resolved again. */
    boolean removed;
    /** Journal position at which the outgoing edges last changed. */
    long edgesChangedAt;
    /** Scratch marks for graph walks (epoch-stamped, so no clearing is needed). */
    int markEpoch;
    byte mark;

    ItemRef ref() {
      return item.ref();
    }
  }

  /** Name, description and children of one subgraph. */
  static final class Meta {
    final String name;
    String description;
    final Meta parent;
    final SubGraphPath path;
    final TreeMap<String, Meta> children = new TreeMap<>();
    GraphView view;

    Meta(String name, String description, Meta parent) {
      this.name = name;
      this.description = description == null ? "" : description;
      this.parent = parent;
      this.path = parent == null ? SubGraphPath.EMPTY : parent.path.append(name);
    }
  }

  final long id = IDS.incrementAndGet();
  final HashMap<ItemRef, Node> nodes = new HashMap<>();
  final TreeMap<SubGraphPath, TreeMap<ItemRef, Node>> byPath = new TreeMap<>();
  private final HashMap<ItemRef, List<Edge>> incoming = new HashMap<>();
  final TreeSet<ItemRef> externals = new TreeSet<>();
  final Meta rootMeta;
  Object privateData;
  int walkEpoch;

  private final ArrayList<ItemRef> journal = new ArrayList<>();
  private long journalBase;

  private GraphStore(String name, String description) {
    rootMeta = new Meta(name, description, null);
  }

  public static GraphView newRoot(String name, String description) {
    GraphStore store = new GraphStore(name, description);
    return store.view(store.rootMeta);
  }

  GraphView view(Meta meta) {
    Meta m = meta == null ? rootMeta : meta;
    if (m.view == null) {
      m.view = new GraphView(this, m);
    }
    return m.view;
  }

  public long id() {
    return id;
  }

  // ---- change journal ----

  /** Position after the last recorded change. */
  public long journalPosition() {
    return journalBase + journal.size();
  }

  /** Items touched since {@code position}, or null when the journal no longer reaches back that far. */
  public List<ItemRef> changesSince(long position) {
    if (position < journalBase || position > journalPosition()) {
      return null;
    }
    return Collections.unmodifiableList(journal.subList((int) (position - journalBase), journal.size()));
  }

  /** Whether the item's dependencies changed at or after {@code position} (true for unknown items). */
  public boolean edgesChangedSince(ItemRef ref, long position) {
    Node node = nodes.get(ref);
    return node == null || node.edgesChangedAt >= position;
  }

  private void record(ItemRef ref) {
    // Bounded: once the journal outgrows the graph, readers fall back to a full diff.
    if (journal.size() > 1024 + 4L * nodes.size()) {
      journalBase += journal.size();
      journal.clear();
    }
    journal.add(ref);
  }

  // ---- items ----

  static void validate(Item item) {
    if (item == null) {
      throw new IllegalArgumentException("item is null");
    }
    ItemRef ref = item.ref();
    List<Dependency> deps = item.dependencies();
    if (deps == null) {
      throw new IllegalArgumentException("item " + ref + ": dependencies() returned null");
    }
    if (item.external() && !deps.isEmpty()) {
      throw new IllegalArgumentException("external item " + ref + " cannot have dependencies");
    }
    // Pairwise for the usual handful of dependencies; a set only for long lists.
    var seen = deps.size() > 16 ? new HashSet<ItemRef>() : null;
    for (int i = 0; i < deps.size(); i++) {
      Dependency dep = deps.get(i);
      if (dep == null) {
        throw new IllegalArgumentException("item " + ref + ": null dependency");
      }
      if (dep.requiredItem().equals(ref)) {
        throw new IllegalArgumentException("item " + ref + " depends on itself");
      }
      if (seen != null ? !seen.add(dep.requiredItem()) : seenBefore(deps, i)) {
        throw new IllegalArgumentException(
            "item " + ref + " has a duplicate dependency on " + dep.requiredItem());
      }
    }
  }

  private static boolean seenBefore(List<Dependency> deps, int index) {
    ItemRef ref = deps.get(index).requiredItem();
    for (int j = 0; j < index; j++) {
      if (deps.get(j) != null && deps.get(j).requiredItem().equals(ref)) {
        return true;
      }
    }
    return false;
  }

  Node node(ItemRef ref) {
    return nodes.get(ref);
  }

  /**
   * The node that outgoing edge {@code i} of {@code node} points to, or null when it is missing.
   * Walks call this for every edge, so found targets are cached on the node instead of being
   * looked up by reference each time.
   */
  Node target(Node node, int i) {
    if (node.targets == null) {
      node.targets = new Node[node.outgoing.size()];
    }
    Node t = node.targets[i];
    if (t == null || t.removed) {
      t = nodes.get(node.outgoing.get(i).to());
      node.targets[i] = t;
    }
    return t;
  }

  void put(Item item, ItemStateData state, SubGraphPath path) {
    validate(item);
    store(item, state, path, null);
  }

  /**
   * Puts an item that {@code source}, a node of another store, holds: it was validated there, and
   * its edges (immutable) can be shared instead of built and sorted again.
   */
  void putFrom(Node source, Item item, ItemStateData state, SubGraphPath path) {
    if (source.item != item || source.removed) {
      put(item, state, path); // the source changed meanwhile
      return;
    }
    store(item, state, path, source.outgoing);
  }

  /** {@code edges}: the item's edges when already built, else null. */
  private void store(Item item, ItemStateData state, SubGraphPath path, List<Edge> edges) {
    ItemRef ref = item.ref();
    Node node = nodes.get(ref);
    long pos = journalPosition();
    if (node == null) {
      node = new Node();
      node.item = item;
      node.path = path;
      nodes.put(ref, node);
      byPath.computeIfAbsent(path, p -> new TreeMap<>()).put(ref, node);
      node.outgoing = List.of();
      replaceEdges(node, edges != null ? edges : buildEdges(ref, item.dependencies()));
      node.edgesChangedAt = pos;
    } else {
      if (!node.path.equals(path)) {
        removeFromPath(node, ref);
        node.path = path;
        byPath.computeIfAbsent(path, p -> new TreeMap<>()).put(ref, node);
      }
      if (!sameDependencies(node.item.dependencies(), item.dependencies())) {
        replaceEdges(node, edges != null ? edges : buildEdges(ref, item.dependencies()));
        node.edgesChangedAt = pos;
      }
      node.item = item;
    }
    node.state = state;
    if (item.external()) {
      externals.add(ref);
    } else {
      externals.remove(ref);
    }
    record(ref);
  }

  boolean delete(ItemRef ref) {
    Node node = nodes.remove(ref);
    if (node == null) {
      return false;
    }
    node.removed = true;
    removeFromPath(node, ref);
    replaceEdges(node, List.of());
    externals.remove(ref);
    record(ref);
    return true;
  }

  private void removeFromPath(Node node, ItemRef ref) {
    TreeMap<ItemRef, Node> atPath = byPath.get(node.path);
    atPath.remove(ref);
    if (atPath.isEmpty()) {
      byPath.remove(node.path);
    }
  }

  private static boolean sameDependencies(List<Dependency> a, List<Dependency> b) {
    return a == b || a.equals(b);
  }

  private static List<Edge> buildEdges(ItemRef from, List<Dependency> deps) {
    if (deps.isEmpty()) {
      return List.of();
    }
    var edges = new ArrayList<Edge>(deps.size());
    for (Dependency dep : deps) {
      edges.add(new Edge(from, dep.requiredItem(), dep));
    }
    edges.sort((x, y) -> x.to().compareTo(y.to()));
    return Collections.unmodifiableList(edges);
  }

  private void replaceEdges(Node node, List<Edge> edges) {
    for (Edge old : node.outgoing) {
      List<Edge> in = incoming.get(old.to());
      if (in != null) {
        in.removeIf(e -> e.from().equals(old.from()));
        if (in.isEmpty()) {
          incoming.remove(old.to());
        }
      }
    }
    for (Edge edge : edges) {
      List<Edge> in = incoming.computeIfAbsent(edge.to(), k -> new ArrayList<>(4));
      int at = Collections.binarySearch(in, edge, (x, y) -> x.from().compareTo(y.from()));
      in.add(at < 0 ? -at - 1 : at, edge);
    }
    node.outgoing = edges;
    node.targets = null;
  }

  List<Edge> incoming(ItemRef ref) {
    List<Edge> in = incoming.get(ref);
    return in == null ? List.of() : Collections.unmodifiableList(in);
  }

  List<Edge> outgoing(ItemRef ref) {
    Node node = nodes.get(ref);
    return node == null ? List.of() : node.outgoing;
  }

  /** Removes every item at or below {@code path}. */
  void deleteBelow(SubGraphPath path) {
    var refs = new ArrayList<ItemRef>();
    for (Map.Entry<SubGraphPath, TreeMap<ItemRef, Node>> e : byPath.tailMap(path, true).entrySet()) {
      if (!path.isPrefixOf(e.getKey())) {
        break;
      }
      refs.addAll(e.getValue().keySet());
    }
    refs.forEach(this::delete);
  }

  int nextWalkEpoch() {
    return ++walkEpoch;
  }
}
