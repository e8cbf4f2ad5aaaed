package dev.verge.hostos.sim;

import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.TableRef;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * What the sim firewall did with a packet at one hook: the verdict, the packet as it leaves the hook
 * (marks set, addresses translated), and a trace of the rules that acted on it.
 *
 * @param counters the named counters the packet was counted in, in order
 * @param logs one line per log statement hit: its prefix (or empty) and the packet
 */
public record Evaluation(
    Outcome outcome, Packet packet, List<Step> trace, List<String> counters, List<NatApplied> nat,
    List<String> logs) {

  public enum Outcome {
    ACCEPT,
    DROP,
    REJECT
  }

  /**
   * A rule that ended in a verdict or jump, or a chain's policy.
   *
   * @param rule the rule's index in its chain; -1 for the policy at the end of a base chain
   * @param action what happened: {@code accept}, {@code drop}, {@code jump web}, {@code policy drop},
   *     {@code dnat}...
   */
  public record Step(TableRef table, String chain, int rule, Optional<String> comment, String action) {}

  /** An address translation the packet got; masquerade and redirect leave the address to the kernel. */
  public record NatApplied(Stmt.NatKind kind, Optional<InetAddress> address, Optional<Integer> port) {}

  /** The comments of the rules in the trace, in order (rules without one are left out). */
  public List<String> matchedComments() {
    return trace.stream().flatMap(s -> s.comment().stream()).toList();
  }

  public boolean accepted() {
    return outcome == Outcome.ACCEPT;
  }
}
