package dev.verge.reconciler;

import java.util.ArrayList;
import java.util.List;

/** Path of nested subgraph names, relative to some graph. The empty path is the graph itself. */
public record SubGraphPath(List<String> elements) implements Comparable<SubGraphPath> {
  public static final SubGraphPath EMPTY = new SubGraphPath(List.of());

  public SubGraphPath {
    elements = List.copyOf(elements);
  }

  public static SubGraphPath of(String... names) {
    return new SubGraphPath(List.of(names));
  }

  public int length() {
    return elements.size();
  }

  public boolean isEmpty() {
    return elements.isEmpty();
  }

  public SubGraphPath append(String name) {
    var list = new ArrayList<>(elements);
    list.add(name);
    return new SubGraphPath(list);
  }

  public SubGraphPath concatenate(SubGraphPath other) {
    if (other.isEmpty()) {
      return this;
    }
    var list = new ArrayList<>(elements);
    list.addAll(other.elements);
    return new SubGraphPath(list);
  }

  public boolean isPrefixOf(SubGraphPath other) {
    return other.elements.size() >= elements.size()
        && other.elements.subList(0, elements.size()).equals(elements);
  }

  /** This path without {@code prefix}; unchanged when {@code prefix} is not a prefix. */
  public SubGraphPath trimPrefix(SubGraphPath prefix) {
    if (prefix.isEmpty() || !prefix.isPrefixOf(this)) {
      return this;
    }
    return new SubGraphPath(elements.subList(prefix.length(), elements.size()));
  }

  @Override
  public int compareTo(SubGraphPath other) {
    int n = Math.min(elements.size(), other.elements.size());
    for (int i = 0; i < n; i++) {
      int c = elements.get(i).compareTo(other.elements.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(elements.size(), other.elements.size());
  }

  @Override
  public String toString() {
    return "/" + String.join("/", elements);
  }
}
