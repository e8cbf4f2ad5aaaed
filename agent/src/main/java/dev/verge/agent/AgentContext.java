package dev.verge.agent;

import com.google.protobuf.Message;
import dev.verge.hostos.Host;
import dev.verge.hostos.Link;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.reconciler.Configurator;
import java.util.function.Predicate;

/** What the runtime gives an agent at {@link Agent#start}. Use it on the agent's loop only. */
public interface AgentContext {

  /** The agent's loop: its timers ({@code schedule}, {@code every}) and its clock. */
  AgentLoop loop();

  /**
   * The machine the agent acts on (the real one in a namespace, or the sim).
   *
   * @throws IllegalStateException for an agent started without a host (one that does not act
   *     on the kernel, such as zedagent)
   */
  Host host();

  /** The kernel as it is now, read live through the host (same condition as {@link #host()}). */
  KernelView kernel();

  /**
   * Subscribes to an input topic. The first reconcile waits until every input has delivered its
   * initial state; after that, each change triggers a reconcile (a burst of them, one).
   */
  <T extends Message> Input<T> input(Topic<T> topic);

  /**
   * An input whose changes the agent also handles itself (say, to move a state machine) before
   * the reconcile they trigger. A listener that throws is reported; the agent goes on.
   */
  <T extends Message> Input<T> input(Topic<T> topic, SubscriptionHandler<T> listener);

  /**
   * Reads a topic without making it an input: no gate on the first reconcile, no reconcile on
   * change (say, other agents' status that zedagent reports). Handlers run on the agent's loop;
   * the subscription closes with the agent.
   */
  <T extends Message> Subscription<T> watch(Topic<T> topic, SubscriptionHandler<T> handler);

  /** Becomes the publisher of a topic, publishing from the agent's loop. */
  <T extends Message> Publication<T> output(Topic<T> topic, Durability durability);

  /** The configurator that creates, modifies and deletes items of one type on the host. */
  void configure(String itemType, Configurator configurator);

  /**
   * Asks for a reconcile soon (bursts coalesce), e.g. after a timer changed what the agent wants.
   *
   * @param reason why, for the log
   */
  void requestReconcile(String reason);

  /**
   * Reconciles when a link that matches appears, changes or vanishes: for agents whose intent or
   * external items depend on links they do not own (physical NICs, another agent's devices).
   */
  void watchLinks(Predicate<Link> interesting);

  /**
   * Declares the links this agent makes (by its naming scheme), so that the ones an earlier run of
   * it left in the kernel (a crash, kill -9) and its intent no longer has are deleted before its
   * first reconcile: a node restarted on another config leaks no bridge or tap of the old one.
   */
  void ownLinks(Predicate<Link> owned);
}
