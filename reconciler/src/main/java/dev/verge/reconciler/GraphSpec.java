package dev.verge.reconciler;

import java.util.ArrayList;
import java.util.List;

/** Declarative content of a new graph: name, description, items (with optional state), subgraphs. */
public record GraphSpec(String name, String description, List<ItemEntry> items, List<GraphSpec> subGraphs) {
  public GraphSpec {
    description = description == null ? "" : description;
    items = List.copyOf(items);
    subGraphs = List.copyOf(subGraphs);
  }

  public static GraphSpec named(String name) {
    return new GraphSpec(name, "", List.of(), List.of());
  }

  public GraphSpec describedAs(String text) {
    return new GraphSpec(name, text, items, subGraphs);
  }

  public GraphSpec withItems(Item... newItems) {
    var list = new ArrayList<>(items);
    for (Item item : newItems) {
      list.add(new ItemEntry(item, null, SubGraphPath.EMPTY));
    }
    return new GraphSpec(name, description, list, subGraphs);
  }

  public GraphSpec withItem(Item item, ItemStateData state) {
    var list = new ArrayList<>(items);
    list.add(new ItemEntry(item, state, SubGraphPath.EMPTY));
    return new GraphSpec(name, description, list, subGraphs);
  }

  public GraphSpec withSubGraphs(GraphSpec... specs) {
    var list = new ArrayList<>(subGraphs);
    list.addAll(List.of(specs));
    return new GraphSpec(name, description, items, list);
  }
}
