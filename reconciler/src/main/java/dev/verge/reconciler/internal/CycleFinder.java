package dev.verge.reconciler.internal;

import dev.verge.reconciler.Edge;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.internal.GraphStore.Node;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jgrapht.Graph;
import org.jgrapht.alg.connectivity.KosarajuStrongConnectivityInspector;
import org.jgrapht.graph.DefaultDirectedGraph;
import org.jgrapht.graph.DefaultEdge;

/**
 * Finds dependency cycles among items reachable from a set of seeds. A plain colour DFS decides
 * whether there is any cycle (the common, cheap case); only then is the reached region copied into
 * a JGraphT view to name every item on a cycle (strongly connected components).
 */
final class CycleFinder {
  private static final byte ON_PATH = 1;
  private static final byte DONE = 2;

  private CycleFinder() {}

  /** The first cycle found from the seeds (in seed order), or null. */
  static List<ItemRef> firstCycle(GraphStore store, Collection<ItemRef> seeds) {
    var walk = new Walk(store);
    for (ItemRef seed : seeds) {
      List<ItemRef> cycle = walk.from(seed, true);
      if (cycle != null) {
        return cycle;
      }
    }
    return null;
  }

  /**
   * Every non-trivial strongly connected component reachable from the seeds, each sorted, in order
   * of their first member. Empty when the reachable region is acyclic.
   */
  static List<List<ItemRef>> cycles(GraphStore store, Collection<ItemRef> seeds) {
    var walk = new Walk(store);
    boolean found = false;
    for (ItemRef seed : seeds) {
      found |= walk.from(seed, false) != null;
    }
    if (!found) {
      return List.of();
    }
    Graph<ItemRef, DefaultEdge> region = new DefaultDirectedGraph<>(DefaultEdge.class);
    for (Node node : walk.reached) {
      region.addVertex(node.ref());
    }
    for (Node node : walk.reached) {
      for (Edge edge : node.outgoing) {
        if (region.containsVertex(edge.to())) {
          region.addEdge(edge.from(), edge.to());
        }
      }
    }
    var components = new ArrayList<List<ItemRef>>();
    for (Set<ItemRef> scc : new KosarajuStrongConnectivityInspector<>(region).stronglyConnectedSets()) {
      if (scc.size() > 1) {
        components.add(new ArrayList<>(new TreeSet<>(scc)));
      }
    }
    components.sort((a, b) -> a.get(0).compareTo(b.get(0)));
    return components;
  }

  /** Iterative colour DFS over outgoing edges, sharing marks across seeds. */
  private static final class Walk {
    final GraphStore store;
    final int epoch;
    final List<Node> reached = new ArrayList<>();

    Walk(GraphStore store) {
      this.store = store;
      this.epoch = store.nextWalkEpoch();
    }

    private byte mark(Node node) {
      return node.markEpoch == epoch ? node.mark : 0;
    }

    private void setMark(Node node, byte mark) {
      if (node.markEpoch != epoch) {
        node.markEpoch = epoch;
        reached.add(node);
      }
      node.mark = mark;
    }

    /** Walks from {@code seed}; returns a cycle if a back edge is met (stopping early if asked). */
    List<ItemRef> from(ItemRef seed, boolean stopAtFirst) {
      Node start = store.node(seed);
      if (start == null || mark(start) != 0) {
        return null;
      }
      List<ItemRef> cycle = null;
      var stack = new ArrayDeque<Frame>();
      setMark(start, ON_PATH);
      stack.push(new Frame(start));
      while (!stack.isEmpty()) {
        Frame top = stack.peek();
        if (top.next == top.node.outgoing.size()) {
          setMark(top.node, DONE);
          stack.pop();
          continue;
        }
        Node target = store.target(top.node, top.next++);
        if (target == null) {
          continue;
        }
        byte m = mark(target);
        if (m == 0) {
          setMark(target, ON_PATH);
          stack.push(new Frame(target));
        } else if (m == ON_PATH && cycle == null) {
          cycle = pathFrom(stack, target);
          if (stopAtFirst) {
            return cycle;
          }
        }
      }
      return cycle;
    }

    private static List<ItemRef> pathFrom(ArrayDeque<Frame> stack, Node target) {
      var cycle = new ArrayList<ItemRef>();
      var it = stack.descendingIterator();
      boolean on = false;
      while (it.hasNext()) {
        Node n = it.next().node;
        on |= n == target;
        if (on) {
          cycle.add(n.ref());
        }
      }
      return cycle;
    }
  }

  private static final class Frame {
    final Node node;
    int next;

    Frame(Node node) {
      this.node = node;
    }
  }
}
