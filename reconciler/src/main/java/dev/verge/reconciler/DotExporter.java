package dev.verge.reconciler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Graphviz DOT of a graph: one {@code subgraph cluster_<name>} per subgraph, node colour by state
 * (blue in transition, red on error, grey not created, else black), external items as
 * doubleoctagons, missing dependency targets as dashed grey {@code "<missing>"} nodes.
 */
public final class DotExporter {
  private static final String INDENT = "\t";
  private final boolean checkDeps;
  private GraphR graph;
  private GraphR dst;
  private Map<String, Float> hues;

  /** @param checkDeps draw unsatisfied dependencies in red */
  public DotExporter(boolean checkDeps) {
    this.checkDeps = checkDeps;
  }

  public String export(GraphR graph) {
    return render(graph, null);
  }

  /** Shows {@code src} plus, greyed out, what only {@code dst} has (a planned transition). */
  public String exportTransition(GraphR src, GraphR dst) {
    return render(src, dst);
  }

  private synchronized String render(GraphR src, GraphR target) {
    this.graph = src;
    this.dst = target;
    this.hues = hueMap();
    var sb = new StringBuilder("digraph G {\n");
    exportSubgraph(sb, SubGraphPath.EMPTY);
    exportEdges(sb);
    sb.append("}\n");
    return sb.toString();
  }

  private static GraphR at(GraphR g, SubGraphPath path) {
    GraphR sub = g;
    for (String name : path.elements()) {
      if (sub == null) {
        return null;
      }
      sub = sub.subGraph(name);
    }
    return sub;
  }

  private void exportSubgraph(StringBuilder sb, SubGraphPath path) {
    GraphR sub = graph == null ? null : at(graph, path);
    GraphR dstSub = dst == null ? null : at(dst, path);
    String indent = INDENT.repeat(path.length());
    String nested = indent + INDENT;
    GraphR named = sub != null ? sub : dstSub;
    if (path.length() > 0) {
      sb.append(indent).append("subgraph cluster_").append(escapeName(named.name())).append(" {\n");
    }
    sb.append(nested).append("color = ").append(sub == null ? "grey" : "black").append(";\n");
    sb.append(nested).append("label = \"").append(named.name()).append("\";\n");
    sb.append(nested).append("tooltip = \"").append(escapeTooltip(named.description())).append("\";\n");
    if (sub != null) {
      for (ItemEntry e : sub.items(false)) {
        exportItem(sb, e.item(), e.state(), false, nested);
      }
    }
    if (dstSub != null) {
      for (ItemEntry e : dstSub.items(false)) {
        if (graph == null || graph.item(e.ref()).isEmpty()) {
          exportItem(sb, e.item(), e.state(), true, nested);
        }
      }
    }
    if (sub != null) {
      for (GraphR child : sub.subGraphs()) {
        exportSubgraph(sb, path.append(child.name()));
      }
    }
    if (dstSub != null) {
      for (GraphR child : dstSub.subGraphs()) {
        if (sub == null || sub.subGraph(child.name()) == null) {
          exportSubgraph(sb, path.append(child.name()));
        }
      }
    }
    if (path.length() > 0) {
      sb.append(indent).append("}\n");
    }
  }

  private void exportItem(StringBuilder sb, Item item, ItemStateData state, boolean missing, String indent) {
    Throwable error = null;
    boolean inTransition = false;
    boolean created = !missing;
    if (state != null) {
      error = state.lastError();
      inTransition = state.inTransition();
      created = state.isCreated();
    }
    String shape = item.external() ? "doubleoctagon" : inTransition ? "cds" : "ellipse";
    String color = inTransition ? "blue" : error != null ? "red" : !created ? "grey" : "black";
    float saturation = created ? 0.60f : 0.12f;
    String fill = String.format(Locale.ROOT, "%.3f %.3f 0.800", hues.getOrDefault(item.type(), 0f), saturation);
    String label = item.label() == null || item.label().isEmpty() ? item.name() : item.label();
    String tooltip = item.describe();
    if (error != null) {
      tooltip += "\nError: " + error.getMessage();
    }
    sb.append(indent).append(escapeName(item.ref().toString()))
        .append(" [color = ").append(color)
        .append(", fillcolor = \"").append(fill)
        .append("\", shape = ").append(shape)
        .append(", style = filled, tooltip = \"").append(escapeTooltip(tooltip))
        .append("\", label = \"").append(label).append("\"];\n");
  }

  private void exportEdges(StringBuilder sb) {
    var missing = new TreeSet<ItemRef>();
    if (graph != null) {
      for (ItemEntry e : graph.items(true)) {
        for (Edge edge : graph.outgoingEdges(e.ref())) {
          exportEdge(sb, edge, missing);
        }
      }
    }
    if (dst != null) {
      for (ItemEntry e : dst.items(true)) {
        if (graph != null && graph.item(e.ref()).isPresent()) {
          continue;
        }
        for (Edge edge : dst.outgoingEdges(e.ref())) {
          exportEdge(sb, edge, missing);
        }
      }
    }
    for (ItemRef ref : missing) {
      sb.append(INDENT).append(escapeName(ref.toString()))
          .append(" [color = grey, shape = ellipse, style = dashed, tooltip = \"<missing>\", label = \"")
          .append(ref).append("\"];\n");
    }
  }

  private void exportEdge(StringBuilder sb, Edge edge, TreeSet<ItemRef> missing) {
    boolean targetMissing = true;
    if (graph != null) {
      targetMissing = graph.item(edge.to()).isEmpty();
      if (targetMissing && dst != null) {
        targetMissing = dst.item(edge.to()).isEmpty();
      }
    }
    if (targetMissing) {
      missing.add(edge.to());
    }
    String color = !checkDeps || isSatisfied(edge) ? "black" : "red";
    sb.append(INDENT).append(escapeName(edge.from().toString())).append(" -> ")
        .append(escapeName(edge.to().toString())).append(" [color = ").append(color)
        .append(", tooltip = \"").append(escapeTooltip(edge.dependency().description())).append("\"];\n");
  }

  private boolean isSatisfied(Edge edge) {
    if (graph == null) {
      return false;
    }
    return graph.item(edge.to())
        .filter(e -> e.state() == null || e.state().isCreated())
        .filter(e -> edge.dependency().acceptsValue(e.item()))
        .isPresent();
  }

  /** One hue per item type, spread over the green-to-blue third of the colour wheel. */
  private Map<String, Float> hueMap() {
    var types = new TreeSet<String>();
    List<GraphR> graphs = new ArrayList<>();
    if (graph != null) {
      graphs.add(graph);
    }
    if (dst != null) {
      graphs.add(dst);
    }
    for (GraphR g : graphs) {
      for (ItemEntry e : g.items(true)) {
        types.add(e.item().type());
      }
    }
    var map = new HashMap<String, Float>();
    float green = 1f / 3;
    float step = (1f / 3) / (types.size() + 1);
    int i = 0;
    for (String type : types) {
      map.put(type, green + step * ++i);
    }
    return map;
  }

  static String escapeName(String name) {
    return name.replace('-', '_').replace('/', '_').replace('.', '_').replace(':', '_');
  }

  static String escapeTooltip(String tooltip) {
    return tooltip.replace("\n", "\\n").replace("\"", "\\\"");
  }
}
