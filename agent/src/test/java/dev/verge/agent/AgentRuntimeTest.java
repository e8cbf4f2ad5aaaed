package dev.verge.agent;

import static dev.verge.agent.SimWorld.localNi;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.sample.SampleBridgeAgent;
import dev.verge.agent.sample.SampleBridgeAgent.Bridge;
import dev.verge.agent.sample.SampleBridgeAgent.BridgeAddress;
import dev.verge.agent.sample.SampleBridgeAgent.BridgePort;
import dev.verge.hostos.Errno;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.sim.SimOperation;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpLogEntry;
import dev.verge.testkit.UncaughtFailures;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.AgentMetrics;
import dev.verge.topics.v1.OperationCount;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentRuntimeTest {
  static final String NI1 = "11111111-aaaa-4bbb-8ccc-000000000001";
  static final String BR1 = SampleBridgeAgent.bridgeName(NI1);

  @TempDir Path dir;
  SimWorld world;

  @BeforeEach
  void world() {
    world = new SimWorld(dir);
  }

  @AfterEach
  void close() {
    world.close();
  }

  private static List<String> ops(ReconcileOutcome outcome) {
    return outcome.operations().stream()
        .map(e -> e.operation() + " " + e.item().ref() + (e.error() != null ? " failed" : ""))
        .toList();
  }

  private ReconcileOutcome last() {
    return world.runtime.lastOutcome().orElseThrow();
  }

  /** The one health value on an agent's health topic (keyed by the agent's name). */
  private static AgentHealth health(dev.verge.pubsub.Subscription<AgentHealth> sub) {
    assertThat(sub.snapshot()).hasSize(1);
    return sub.snapshot().values().iterator().next();
  }

  @Test
  void theFirstReconcileWaitsUntilEveryInputHasItsInitialState() {
    var health = world.watch(AgentTopics.health(SampleBridgeAgent.NAME));
    world.start(new SampleBridgeAgent());
    world.advance(Duration.ofSeconds(10));

    assertThat(world.runtime.reconcileRuns()).isZero();
    assertThat(health(health).getState()).isEqualTo(AgentHealth.State.STATE_WAITING_FOR_INPUTS);
    assertThat(health(health).getWaitingForList()).containsExactly("zedagent/NetworkInstanceConfig");

    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.settle();

    assertThat(world.runtime.reconcileRuns()).isEqualTo(1);
    assertThat(ops(last())).containsExactly("CREATE Bridge/" + BR1, "CREATE Address/" + BR1 + "/10.1.0.1/24");
    assertThat(world.host.kernel().link(BR1)).hasValueSatisfying(l -> assertThat(l.up()).isTrue());
    assertThat(world.host.kernel().addresses(BR1)).extracting(a -> a.prefix().toString()).containsExactly("10.1.0.1/24");
    assertThat(health(health).getState()).isEqualTo(AgentHealth.State.STATE_RUNNING);
    assertThat(health(health).getWaitingForList()).isEmpty();
  }

  @Test
  void anInputWithDataDoesNotStartReconcilesWhileAnotherHasNotSynchronized() {
    var health = world.watch(AgentTopics.health("two-inputs"));
    var agent = new TestGraphAgent("two-inputs");
    agent.intent(TestGraphAgent.item("A"));
    agent.onStart = ctx -> {
      ctx.input(dev.verge.topics.ZedagentTopics.NETWORK_INSTANCES);
      ctx.input(dev.verge.topics.ZedagentTopics.CONFIG_ITEMS);
    };
    world.start(agent);
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.advance(Duration.ofSeconds(10));

    assertThat(world.runtime.reconcileRuns()).isZero();
    assertThat(agent.created).isEmpty();
    assertThat(health(health).getWaitingForList()).containsExactly("zedagent/ConfigItem");

    world.bus.publish(dev.verge.topics.ZedagentTopics.CONFIG_ITEMS, dev.verge.pubsub.Durability.VOLATILE);
    world.settle();
    assertThat(world.runtime.reconcileRuns()).isEqualTo(1);
    assertThat(agent.created).containsExactly("A");
  }

  @Test
  void aBurstOfInputChangesIsReconciledOnce() {
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());
    assertThat(world.runtime.reconcileRuns()).isEqualTo(1);

    for (int i = 2; i <= 101; i++) {
      String uuid = String.format("%08x-aaaa-4bbb-8ccc-000000000000", i);
      world.networkInstances().publish(uuid, localNi(uuid, "10." + i + ".0.0/24", "10." + i + ".0.1"));
    }
    world.settle();

    assertThat(world.runtime.reconcileRuns()).as("one reconcile for the burst").isEqualTo(2);
    assertThat(last().operations()).hasSize(200);
    assertThat(world.host.kernel().links()).filteredOn(l -> l.kind().equals("bridge")).hasSize(101);
  }

  @Test
  void aLinkDeletedBehindTheAgentsBackIsRecreatedWithItsAddress() {
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());
    long runs = world.runtime.reconcileRuns();

    world.host.kernel().deleteLink(BR1); // the kernel takes the address with it
    world.settle();

    assertThat(world.runtime.reconcileRuns()).isEqualTo(runs + 1);
    assertThat(last().reason()).contains("kernel changed").contains("Bridge/" + BR1);
    assertThat(ops(last())).containsExactly("CREATE Bridge/" + BR1, "CREATE Address/" + BR1 + "/10.1.0.1/24");
    assertThat(world.host.kernel().link(BR1)).isPresent();
    assertThat(world.host.kernel().addresses(BR1)).hasSize(1);
  }

  @Test
  void anAgentStartedOverWhatACrashedRunLeftConvergesOnItsIntentAndRemovesTheRest() {
    // what a run killed with SIGKILL left: the bridge it still intends, with its address, and the
    // bridge of an NI the config no longer has; a link of someone else's naming stays untouched
    world.host.kernel().createLink(BR1, new dev.verge.hostos.LinkSpec.Bridge(false));
    world.host.kernel().addAddress(BR1, dev.verge.hostos.IpPrefix.parse("10.1.0.1/24"));
    world.host.kernel().createLink("bn-0dd0ld00", new dev.verge.hostos.LinkSpec.Bridge(false));
    world.host.kernel().createLink("br-other", new dev.verge.hostos.LinkSpec.Bridge(false));
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));

    world.start(new SampleBridgeAgent());

    assertThat(last().failedItems()).isEmpty();
    assertThat(ops(last())).contains("CREATE Bridge/" + BR1, "CREATE Address/" + BR1 + "/10.1.0.1/24");
    assertThat(world.host.kernel().link(BR1)).isPresent();
    assertThat(world.host.kernel().addresses(BR1)).hasSize(1);
    assertThat(world.host.kernel().link("bn-0dd0ld00")).as("a leftover the intent does not have").isEmpty();
    assertThat(world.host.kernel().link("br-other")).as("not the agent's").isPresent();
  }

  /** The sample agent, but its links planned elsewhere: its intent names them all only when told. */
  private static Agent plannedElsewhere(java.util.function.BooleanSupplier namesAll) {
    SampleBridgeAgent sample = new SampleBridgeAgent();
    return new Agent() {
      @Override
      public String name() {
        return sample.name();
      }

      @Override
      public void start(AgentContext context) {
        sample.start(context);
      }

      @Override
      public dev.verge.reconciler.GraphR intendedState() {
        return sample.intendedState();
      }

      @Override
      public java.util.Collection<? extends dev.verge.reconciler.Item> externalItems() {
        return sample.externalItems();
      }

      @Override
      public boolean intentNamesAllItsLinks() {
        return namesAll.getAsBoolean();
      }

      @Override
      public void reconciled(ReconcileOutcome outcome) {
        sample.reconciled(outcome);
      }
    };
  }

  @Test
  void leftoversStayUntilTheIntentNamesAllItsLinksThenTheOnesItDoesNotNameGo() {
    world.host.kernel().createLink("bn-0dd0ld00", new dev.verge.hostos.LinkSpec.Bridge(false));
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    java.util.concurrent.atomic.AtomicBoolean namesAll = new java.util.concurrent.atomic.AtomicBoolean();

    world.start(plannedElsewhere(namesAll::get));
    world.advance(SimWorld.SETTINGS.leftoverWait().dividedBy(2));

    assertThat(world.host.kernel().link("bn-0dd0ld00")).as("its plan may still come").isPresent();
    assertThat(world.host.kernel().link(BR1)).isPresent();

    namesAll.set(true);
    String ni2 = "11111111-aaaa-4bbb-8ccc-000000000002";
    world.networkInstances().publish(ni2, localNi(ni2, "10.2.0.0/24", "10.2.0.1"));
    world.settle();

    assertThat(world.host.kernel().link("bn-0dd0ld00")).as("named by no plan").isEmpty();
    assertThat(world.host.kernel().link(SampleBridgeAgent.bridgeName(ni2))).isPresent();
    assertThat(world.host.kernel().link(BR1)).isPresent();
  }

  @Test
  void leftoversTheIntentNeverNamesGoOnceTheWaitIsOver() {
    world.host.kernel().createLink("bn-0dd0ld00", new dev.verge.hostos.LinkSpec.Bridge(false));
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));

    world.start(plannedElsewhere(() -> false));
    world.advance(SimWorld.SETTINGS.leftoverWait().minusSeconds(1));
    assertThat(world.host.kernel().link("bn-0dd0ld00")).isPresent();

    world.advance(Duration.ofSeconds(1));

    assertThat(world.host.kernel().link("bn-0dd0ld00")).as("removed after the wait").isEmpty();
    assertThat(last().reason()).contains("the wait for its intent to name all its links is over");
    assertThat(world.host.kernel().link(BR1)).isPresent();
  }

  @Test
  void aLinkSetDownBehindTheAgentsBackIsSetUpAgain() {
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());

    world.host.kernel().setUp(BR1, false);
    world.settle();

    assertThat(ops(last())).containsExactly("MODIFY Bridge/" + BR1);
    assertThat(world.host.kernel().link(BR1)).hasValueSatisfying(l -> assertThat(l.up()).isTrue());
  }

  @Test
  void ownOperationsDoNotLookLikeDriftToTheRuntime() {
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());
    world.advance(Duration.ofSeconds(5));

    // The kernel events of the agent's own creations were seen, and led to no second reconcile.
    var metrics = world.watch(AgentTopics.metrics(SampleBridgeAgent.NAME));
    world.observer.runPending();
    assertThat(metrics.get(SampleBridgeAgent.NAME).orElseThrow().getKernelEvents()).isPositive();
    assertThat(world.runtime.reconcileRuns()).isEqualTo(1);
  }

  @Test
  void statusHealthAndMetricsArePublishedAfterEachReconcile() {
    var health = world.watch(AgentTopics.health(SampleBridgeAgent.NAME));
    var metrics = world.watch(AgentTopics.metrics(SampleBridgeAgent.NAME));
    var status = world.watch(SampleBridgeAgent.STATUS);
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());

    assertThat(status.get(NI1)).hasValueSatisfying(s -> {
      assertThat(s.getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
      assertThat(s.getBridgeName()).isEqualTo(BR1);
    });
    AgentHealth h = health(health);
    assertThat(h.getState()).isEqualTo(AgentHealth.State.STATE_RUNNING);
    assertThat(h.getReconcileRuns()).isEqualTo(1);
    // Started at virtual time 0, reconciled once the debounce had passed.
    assertThat(h.getLastReconcileMs())
        .isEqualTo(java.time.Instant.parse("2026-01-01T00:00:00Z").plus(SimWorld.SETTINGS.debounce()).toEpochMilli());
    AgentMetrics m = metrics.get(SampleBridgeAgent.NAME).orElseThrow();
    assertThat(m.getReconcileRuns()).isEqualTo(1);
    assertThat(m.getCurrentItems()).isEqualTo(2);
    assertThat(m.getOperationsList())
        .extracting(OperationCount::getItemType, OperationCount::getOperation, OperationCount::getResult,
            OperationCount::getCount)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("Address", "CREATE", "SUCCEEDED", 1L),
            org.assertj.core.groups.Tuple.tuple("Bridge", "CREATE", "SUCCEEDED", 1L));

    world.networkInstances().unpublish(NI1);
    world.settle();
    assertThat(ops(last())).containsExactly("DELETE Address/" + BR1 + "/10.1.0.1/24", "DELETE Bridge/" + BR1);
    assertThat(status.get(NI1)).isEmpty();
    assertThat(world.host.kernel().link(BR1)).isEmpty();
  }

  @Test
  void aFailedOperationIsLoggedWithItemOperationAndErrorAsFields() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(AgentRuntime.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      world.host.kernel().faults().failNth(SimOperation.CREATE_LINK, 1, Errno.ENOMEM);
      world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
      world.start(new SampleBridgeAgent());

      assertThat(appender.list).filteredOn(event -> event.getKeyValuePairs() != null).singleElement().satisfies(event -> {
        assertThat(event.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
        assertThat(event.getKeyValuePairs()).extracting(kv -> kv.key + "=" + kv.value).containsExactly(
            "agent=" + SampleBridgeAgent.NAME, "item=Bridge/" + BR1, "item_type=Bridge", "operation=CREATE",
            "error=cannot create bridge " + BR1 + ": injected fault: " + Errno.ENOMEM.description() + " (ENOMEM)");
      });
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void aFailedItemIsReportedAndRetriedWithExponentialBackOff() {
    var health = world.watch(AgentTopics.health(SampleBridgeAgent.NAME));
    var status = world.watch(SampleBridgeAgent.STATUS);
    world.host.kernel().faults()
        .failNth(SimOperation.CREATE_LINK, 1, Errno.ENOMEM)
        .failNth(SimOperation.CREATE_LINK, 2, Errno.ENOMEM)
        .failNth(SimOperation.CREATE_LINK, 3, Errno.ENOMEM);
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());

    assertThat(ops(last())).containsExactly("CREATE Bridge/" + BR1 + " failed");
    AgentHealth h = health(health);
    assertThat(h.getState()).isEqualTo(AgentHealth.State.STATE_DEGRADED);
    assertThat(h.getFailedItemsList()).singleElement().satisfies(f -> {
      assertThat(f.getType()).isEqualTo("Bridge");
      assertThat(f.getName()).isEqualTo(BR1);
      assertThat(f.getOperation()).isEqualTo("CREATE");
      assertThat(f.getError()).isEqualTo("cannot create bridge " + BR1 + ": injected fault: "
          + Errno.ENOMEM.description() + " (ENOMEM)");
    });
    assertThat(status.get(NI1).orElseThrow().getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ERROR);

    // Tries at 1 s, then 2 s, then 4 s after the previous one (virtual time); the third retry works.
    long start = world.loop.elapsed().toMillis();
    List<Long> tries = new java.util.ArrayList<>();
    long runs = world.runtime.reconcileRuns();
    for (int ms = 0; ms < 10_000 && tries.size() < 3; ms++) {
      world.loop.advance(Duration.ofMillis(1));
      world.settle();
      if (world.runtime.reconcileRuns() > runs) {
        runs = world.runtime.reconcileRuns();
        tries.add(world.loop.elapsed().toMillis() - start);
      }
    }
    long debounce = SimWorld.SETTINGS.debounce().toMillis();
    assertThat(tries).hasSize(3);
    assertThat(tries.get(0)).isBetween(1000L, 1000L + 2 * debounce + 1);
    assertThat(tries.get(1) - tries.get(0)).isBetween(2000L, 2000L + 2 * debounce + 1);
    assertThat(tries.get(2) - tries.get(1)).isBetween(4000L, 4000L + 2 * debounce + 1);
    assertThat(world.host.kernel().link(BR1)).isPresent();
    assertThat(health(health).getState()).isEqualTo(AgentHealth.State.STATE_RUNNING);
    assertThat(health(health).getFailedItemsList()).isEmpty();
    assertThat(status.get(NI1).orElseThrow().getState()).isEqualTo(NetworkInstanceStatus.State.STATE_ONLINE);
  }

  @Test
  void externalItemsSatisfyDependenciesAndTheirDependentsGoWithThem() {
    world.host.kernel().plugNic("eth1", 0);
    world.networkInstances().publish(NI1,
        localNi(NI1, "10.1.0.0/24", "10.1.0.1").toBuilder()
            .setType(NetworkInstanceConfig.Type.TYPE_SWITCH)
            .setPort(Adapter.newBuilder().setName("eth1"))
            .build());
    world.start(new SampleBridgeAgent());
    int bridgeIndex = world.host.kernel().link(BR1).orElseThrow().index();
    assertThat(world.host.kernel().link("eth1").orElseThrow().masterIndex()).isEqualTo(bridgeIndex);
    assertThat(world.runtime.currentState().item(ItemRef.of(BridgePort.TYPE, "eth1"))).isPresent();

    world.host.kernel().deleteLink("eth1"); // unplugged: a watched link vanished
    world.settle();
    assertThat(last().reason()).contains("watched link changed");
    assertThat(world.runtime.currentState().item(ItemRef.of(BridgePort.TYPE, "eth1"))).isEmpty();
    assertThat(ops(last())).as("the port went with the NIC: nothing to delete").isEmpty();

    world.host.kernel().plugNic("eth1", 0);
    world.settle();
    assertThat(ops(last())).containsExactly("CREATE BridgePort/eth1");
    assertThat(world.host.kernel().link("eth1").orElseThrow().masterIndex()).isEqualTo(bridgeIndex);
  }

  @Test
  void anInputListenerThatThrowsDoesNotStopTheAgent() {
    UncaughtFailures.expect("listener bug");
    var metrics = world.watch(AgentTopics.metrics("throwing"));
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    var agent = new TestGraphAgent("throwing");
    agent.onStart = ctx -> ctx.input(dev.verge.topics.ZedagentTopics.CONFIG_ITEMS, new SubscriptionHandler<>() {
      @Override
      public void onSynchronized() {
        throw new IllegalStateException("listener bug");
      }
    });
    world.start(agent);
    world.bus.publish(dev.verge.topics.ZedagentTopics.CONFIG_ITEMS, dev.verge.pubsub.Durability.VOLATILE);
    world.settle();

    assertThat(world.runtime.reconcileRuns()).as("it still reconciled").isEqualTo(1);
    assertThat(metrics.get("throwing").orElseThrow().getHandlerErrors()).isEqualTo(1);
    assertThat(UncaughtFailures.seen()).extracting(f -> f.error().getMessage()).containsExactly("listener bug");
  }

  @Test
  void backgroundOperationsResumeOnTheAgentsLoop() throws Exception {
    var agent = new TestGraphAgent("async");
    var gate = new java.util.concurrent.CompletableFuture<Void>();
    agent.asyncCreates.put("A", gate);
    agent.intent(TestGraphAgent.item("A"), TestGraphAgent.item("B", "A"));
    world.start(agent);
    assertThat(ops(last())).containsExactly("CREATE Thing/A");
    assertThat(last().operations().get(0).inProgress()).isTrue();

    // Finished on another thread: the runtime is told and reconciles on its own loop.
    Thread finisher = new Thread(() -> gate.complete(null), "finisher");
    finisher.start();
    finisher.join();
    world.settle();

    assertThat(ops(last())).containsExactly("CREATE Thing/A", "CREATE Thing/B");
    assertThat(last().operations()).noneMatch(OpLogEntry::inProgress);
    assertThat(agent.reconciledOnLoop).containsOnly(true);
    assertThat(last().reason()).isEqualTo("background operation finished");
  }

  @Test
  void anIntentWithACycleIsRejectedAndTheLastGoodStateStays() {
    var health = world.watch(AgentTopics.health("cyclic"));
    var agent = new TestGraphAgent("cyclic");
    agent.intent(TestGraphAgent.item("A"), TestGraphAgent.item("B", "A"));
    world.start(agent);
    assertThat(agent.created).containsExactly("A", "B");

    agent.intent(TestGraphAgent.item("A", "C"), TestGraphAgent.item("C", "A"));
    world.runtime.loop().execute(() -> agent.context.requestReconcile("test"));
    world.settle();

    assertThat(agent.deleted).as("the last good state stays").isEmpty();
    assertThat(last().intentError()).hasValueSatisfying(e ->
        assertThat(e).isEqualTo("dependency cycle in the intended state between items [Thing/A, Thing/C]"));
    assertThat(health(health).getState()).isEqualTo(AgentHealth.State.STATE_DEGRADED);
    assertThat(health(health).getLastError()).contains("dependency cycle");

    agent.intent(TestGraphAgent.item("A"));
    world.runtime.loop().execute(() -> agent.context.requestReconcile("test"));
    world.settle();
    assertThat(agent.deleted).containsExactly("B");
    assertThat(health(health).getState()).isEqualTo(AgentHealth.State.STATE_RUNNING);
    assertThat(health(health).getLastError()).isEmpty();
  }

  @Test
  void anIntentWithAnUnknownItemTypeIsRejectedNamingIt() {
    var agent = new TestGraphAgent("unknown");
    agent.intent(TestGraphAgent.item("A"));
    world.start(agent);
    agent.intent(TestGraphAgent.item("A"), new TestGraphAgent.Thing("Gadget", "G", List.of()));
    world.runtime.loop().execute(() -> agent.context.requestReconcile("test"));
    world.settle();

    assertThat(last().intentError()).hasValue(
        "unknown item type Gadget (item Gadget/G): no configurator is registered for it");
    assertThat(agent.deleted).isEmpty();
    assertThat(world.runtime.currentState().item(ItemRef.of("Thing", "A"))).isPresent();
  }

  @Test
  void anIntentThatThrowsKeepsTheLastGoodStateAndSaysWhy() {
    var agent = new TestGraphAgent("throws");
    agent.intent(TestGraphAgent.item("A"));
    world.start(agent);
    agent.failIntent = new IllegalArgumentException("bad subnet 10.1");
    world.runtime.loop().execute(() -> agent.context.requestReconcile("test"));
    world.settle();

    assertThat(last().intentError()).hasValue(
        "building the intended state failed: java.lang.IllegalArgumentException: bad subnet 10.1");
    assertThat(agent.deleted).isEmpty();
  }

  @Test
  void theIntendedGraphIsAPureFunctionOfTheInputs() {
    var graph = SampleBridgeAgent.intendedState(java.util.Map.of(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1")));
    assertThat(graph.items(true)).extracting(e -> e.item())
        .containsExactly(new BridgeAddress(BR1, IpPrefix.parse("10.1.0.1/24")), new Bridge(BR1, 1500, true));
  }

  @Test
  void graphsArePublishedForTheCli() {
    var graphs = world.watch(AgentTopics.graphs(SampleBridgeAgent.NAME));
    world.networkInstances().publish(NI1, localNi(NI1, "10.1.0.0/24", "10.1.0.1"));
    world.start(new SampleBridgeAgent());
    world.advance(SimWorld.SETTINGS.graphInterval());

    var published = graphs.get(SampleBridgeAgent.NAME).orElseThrow();
    assertThat(published.getIntendedDot()).startsWith("digraph").contains(BR1);
    assertThat(published.getCurrentDot()).contains(BR1).contains("10.1.0.1/24");
  }

  static boolean isBridge(Link link) {
    return link.kind().equals("bridge");
  }
}
