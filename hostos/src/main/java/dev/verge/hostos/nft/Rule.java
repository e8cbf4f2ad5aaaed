package dev.verge.hostos.nft;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A rule: its statements run left to right until one does not match or a verdict ends it.
 *
 * @param comment stored with the rule in the kernel; names the rule in traces and errors
 */
public record Rule(List<Stmt> statements, Optional<String> comment) {
  public Rule {
    statements = List.copyOf(statements);
    Objects.requireNonNull(comment);
  }

  public static Rule of(Stmt... statements) {
    return new Rule(List.of(statements), Optional.empty());
  }

  public static Rule commented(String comment, Stmt... statements) {
    return new Rule(List.of(statements), Optional.of(comment));
  }
}
