package dev.verge.hostos.nft;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A chain and its rules, in order; a regular chain (no base) runs only when jumped to. */
public record Chain(String name, Optional<BaseChain> base, List<Rule> rules) {
  public Chain {
    Objects.requireNonNull(name);
    Objects.requireNonNull(base);
    rules = List.copyOf(rules);
  }

  public static Chain base(String name, BaseChain base, List<Rule> rules) {
    return new Chain(name, Optional.of(base), rules);
  }

  public static Chain regular(String name, List<Rule> rules) {
    return new Chain(name, Optional.empty(), rules);
  }

  public Chain withRules(List<Rule> newRules) {
    return new Chain(name, base, newRules);
  }
}
