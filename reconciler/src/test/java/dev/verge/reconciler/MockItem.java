package dev.verge.reconciler;

import java.util.List;

/**
 * Test item: {@code staticAttr} changes need a recreate, {@code attr} changes a Modify;
 * failure and async flags drive the mock configurator.
 */
record MockItem(
    String name,
    String type,
    boolean external,
    String staticAttr,
    int attr,
    boolean failToCreate,
    boolean failToDelete,
    boolean asyncCreate,
    boolean asyncDelete,
    List<Dependency> dependencies) implements Item {

  static MockItem of(String type, String name, Dependency... deps) {
    return new MockItem(name, type, false, "", 0, false, false, false, false, List.of(deps));
  }

  static MockItem external(String type, String name, int attr) {
    return new MockItem(name, type, true, "", attr, false, false, false, false, List.of());
  }

  MockItem withStatic(String value) {
    return new MockItem(name, type, external, value, attr, failToCreate, failToDelete, asyncCreate, asyncDelete, dependencies);
  }

  MockItem withAttr(int value) {
    return new MockItem(name, type, external, staticAttr, value, failToCreate, failToDelete, asyncCreate, asyncDelete, dependencies);
  }

  MockItem failingCreate(boolean fail) {
    return new MockItem(name, type, external, staticAttr, attr, fail, failToDelete, asyncCreate, asyncDelete, dependencies);
  }

  MockItem failingDelete(boolean fail) {
    return new MockItem(name, type, external, staticAttr, attr, failToCreate, fail, asyncCreate, asyncDelete, dependencies);
  }

  MockItem async(boolean create, boolean delete) {
    return new MockItem(name, type, external, staticAttr, attr, failToCreate, failToDelete, create, delete, dependencies);
  }

  MockItem withDeps(Dependency... deps) {
    return new MockItem(name, type, external, staticAttr, attr, failToCreate, failToDelete, asyncCreate, asyncDelete, List.of(deps));
  }

  @Override
  public boolean isEqual(Item other) {
    return other instanceof MockItem m
        && m.staticAttr.equals(staticAttr)
        && m.attr == attr
        && m.dependencies.equals(dependencies);
  }
}
