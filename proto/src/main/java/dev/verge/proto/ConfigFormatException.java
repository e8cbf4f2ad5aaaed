package dev.verge.proto;

import java.util.List;

/** A config document was refused; {@link #violations()} says where and why. */
public final class ConfigFormatException extends Exception {
  private final List<ConfigViolation> violations;

  public ConfigFormatException(List<ConfigViolation> violations) {
    super(violations.isEmpty() ? "invalid config" : violations.get(0).toString()
        + (violations.size() > 1 ? " (and " + (violations.size() - 1) + " more)" : ""));
    this.violations = List.copyOf(violations);
  }

  public List<ConfigViolation> violations() {
    return violations;
  }
}
