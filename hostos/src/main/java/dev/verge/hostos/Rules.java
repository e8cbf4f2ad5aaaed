package dev.verge.hostos;

import java.util.List;

/** Policy routing rules. Rules outlive the links they name (the kernel marks them detached). */
public interface Rules {
  /** Adds a rule; an identical one (every field equal) is refused with EEXIST. */
  void addRule(Rule rule);

  /**
   * Deletes the first rule (in evaluation order) of that family and priority that matches what
   * this one names; what it leaves out (no prefixes, no interfaces, mark and mask 0, no
   * suppression) matches anything, as in the kernel. ENOENT if none matches.
   */
  void deleteRule(Rule rule);

  /** The rules of one family, the kernel's defaults included, in evaluation order. */
  List<Rule> rules(boolean ipv6);
}
