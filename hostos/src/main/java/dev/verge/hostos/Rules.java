package dev.verge.hostos;

import java.util.List;

/** Policy routing rules. Rules outlive the links they name (the kernel marks them detached). */
public interface Rules {
  void addRule(Rule rule);

  void deleteRule(Rule rule);

  /** The rules of one family, the kernel's defaults included, in evaluation order. */
  List<Rule> rules(boolean ipv6);
}
