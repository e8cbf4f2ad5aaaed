package dev.verge.reconciler;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * A dependency of one item on another.
 *
 * @param requiredItem the item that must exist (created) first
 * @param mustSatisfy optional extra condition on the required item's value (null: existence is enough)
 * @param description why the dependency exists (DOT tooltip)
 * @param recreateWhenModified recreate the dependent whenever the required item is modified
 * @param autoDeletedByExternal the dependent vanishes by itself when the (external) required item
 *     goes away, so the reconciler drops it without calling Delete
 */
public record Dependency(
    ItemRef requiredItem,
    Predicate<Item> mustSatisfy,
    String description,
    boolean recreateWhenModified,
    boolean autoDeletedByExternal) {

  public Dependency {
    Objects.requireNonNull(requiredItem, "required item");
    description = description == null ? "" : description;
  }

  public static Dependency on(ItemRef requiredItem) {
    return new Dependency(requiredItem, null, "", false, false);
  }

  public static Dependency on(String type, String name) {
    return on(ItemRef.of(type, name));
  }

  public Dependency describedAs(String text) {
    return new Dependency(requiredItem, mustSatisfy, text, recreateWhenModified, autoDeletedByExternal);
  }

  public Dependency satisfying(Predicate<Item> condition) {
    return new Dependency(requiredItem, condition, description, recreateWhenModified, autoDeletedByExternal);
  }

  public Dependency recreatedWhenModified() {
    return new Dependency(requiredItem, mustSatisfy, description, true, autoDeletedByExternal);
  }

  public Dependency autoDeletedWithExternal() {
    return new Dependency(requiredItem, mustSatisfy, description, recreateWhenModified, true);
  }

  /** True when the required item's value passes {@link #mustSatisfy} (or there is no condition). */
  public boolean acceptsValue(Item value) {
    return mustSatisfy == null || mustSatisfy.test(value);
  }
}
