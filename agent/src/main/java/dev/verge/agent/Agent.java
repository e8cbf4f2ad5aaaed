package dev.verge.agent;

import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Item;
import java.util.Collection;
import java.util.List;

/**
 * One agent of the node (nim, zedrouter, domainmgr...): what it reads, the state it wants, and what
 * it reports. The {@link AgentRuntime} runs it on one loop: it gates the first reconcile on every
 * input's initial state, turns bursts of changes into one reconcile, keeps the current state from
 * operation results and kernel events, retries failed items with back-off, and publishes the
 * agent's health, metrics and graphs. Every method runs on the agent's loop.
 */
public interface Agent {

  /** The agent's name: its bus topics are {@code <name>/Type} and its graphs are named after it. */
  String name();

  /**
   * Declares inputs, outputs and configurators, and starts the agent's own timers. Runs once,
   * before anything else.
   */
  void start(AgentContext context);

  /**
   * The state the agent wants, from what its inputs hold now: a function of the inputs (and of the
   * agent's own decisions, such as which port config it runs), testable without any kernel. The
   * graph must be named {@link #name()}. It names the external items it depends on (as EVE's
   * agents do): an external item in the intent that is not among the {@link #externalItems()}
   * leaves its dependents pending. Throwing, or returning a graph with a dependency cycle or an
   * item type without a configurator, rejects this intent: the error is published and the last
   * good state stays.
   */
  GraphR intendedState();

  /**
   * Items the agent does not manage but depends on, as they exist now (physical NICs, another
   * agent's uplinks): they only satisfy dependencies. The runtime puts them in the current state
   * before each reconcile. A change to one makes the reconciler recheck
   * (and, where a dependency asks for it, recreate) what depends on it; when one goes, items whose
   * dependency on it is {@code autoDeletedWithExternal} go with it, without a Delete.
   */
  default Collection<? extends Item> externalItems() {
    return List.of();
  }

  /**
   * Whether the intent just built names every link of the agent's naming scheme
   * ({@link AgentContext#ownLinks}) that the agent wants. An agent whose links are planned by
   * another agent says no until those plans arrived: until then the runtime keeps what an earlier
   * run left, so the intent's create can adopt it ({@link LeftoverAdopter}) rather than the link
   * being deleted and made again; after {@link RuntimeSettings#leftoverWait} it removes them anyway.
   */
  default boolean intentNamesAllItsLinks() {
    return true;
  }

  /** Called after every reconcile with its outcome: publish the agent's status from it. */
  default void reconciled(ReconcileOutcome outcome) {}

  /** Called once when the agent stops. */
  default void stop() {}
}
