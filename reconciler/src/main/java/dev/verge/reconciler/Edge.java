package dev.verge.reconciler;

/** A dependency edge: {@code from} depends on {@code to}. The target may be missing from the graph. */
public record Edge(ItemRef from, ItemRef to, Dependency dependency) {}
