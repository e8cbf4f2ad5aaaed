package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import dev.verge.pubsub.RecordingHandler.Event;
import dev.verge.pubsub.RecordingHandler.Kind;
import dev.verge.testkit.UncaughtFailures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The semantics every driver must have. Each driver's test class extends this and says how to
 * make a bus; publisher and subscriber use separate bus instances when the driver is
 * cross-process.
 */
abstract class PubSubContract {
  static final Duration WAIT = Duration.ofSeconds(20);
  static final Topic<StringValue> STATUS = Topic.of("nim", StringValue.getDefaultInstance());

  @TempDir Path dir;
  PubSubConfig config;
  PubSub publisherBus;
  PubSub subscriberBus;
  final List<AgentLoop> loops = new ArrayList<>();
  final List<RecordingHandler<?>> recorders = new ArrayList<>();
  AgentLoop loop;

  /** A bus of the driver under test. */
  abstract PubSub newBus(PubSubConfig config);

  /** True when publisher and subscriber must use distinct bus instances (other processes). */
  abstract boolean crossProcess();

  @BeforeEach
  void startBuses() {
    config =
        PubSubConfig.defaults()
            .withStateDir(dir.resolve("state"))
            .withSocketDir(dir.resolve("sock"))
            .withReconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(200));
    openBuses(config);
    loop = newLoop("subscriber");
  }

  @AfterEach
  void closeAll() {
    closeBuses();
    loops.forEach(AgentLoop::close);
    // Violations are seen on the loops; they are asserted here, on the test's own thread.
    for (RecordingHandler<?> recorder : recorders) {
      assertThat(recorder.violations()).as("bus contract violations seen by a handler").isEmpty();
    }
  }

  void openBuses(PubSubConfig cfg) {
    closeBuses();
    config = cfg;
    publisherBus = newBus(cfg);
    subscriberBus = crossProcess() ? newBus(cfg) : publisherBus;
  }

  private void closeBuses() {
    if (subscriberBus != null && subscriberBus != publisherBus) {
      subscriberBus.close();
    }
    if (publisherBus != null) {
      publisherBus.close();
    }
  }

  AgentLoop newLoop(String name) {
    var l = AgentLoop.create(name);
    loops.add(l);
    return l;
  }

  static StringValue s(String v) {
    return StringValue.of(v);
  }

  /** A recording handler whose contract violations fail the test when it ends. */
  <T extends com.google.protobuf.Message> RecordingHandler<T> recorder() {
    var handler = new RecordingHandler<T>();
    recorders.add(handler);
    return handler;
  }

  <T extends com.google.protobuf.Message> RecordingHandler<T> subscribe(Topic<T> topic) {
    RecordingHandler<T> handler = recorder();
    subscriberBus.subscribe(topic, loop, handler);
    return handler;
  }

  @Test
  void lateSubscriberGetsTheCurrentStateBeforeItsSynchronizedSignal() {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));
    pub.publish("eth1", s("down"));
    pub.publish("eth1", s("up"));

    var handler = subscribe(STATUS);

    await().atMost(WAIT).until(() -> handler.keysAtSynchronized() >= 0);
    assertThat(handler.keysAtSynchronized()).isEqualTo(2);
    assertThat(handler.mirror()).isEqualTo(Map.of("eth0", s("up"), "eth1", s("up")));
    assertThat(handler.events(Kind.MODIFY)).isEmpty();
  }

  @Test
  void aPublicationOwnedByAnAgentLoopDeliversChangesMadeOnAndOffThatLoop() throws Exception {
    var publisherLoop = newLoop("publisher");
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE, publisherLoop);
    var handler = subscribe(STATUS);
    await().atMost(WAIT).until(() -> handler.keysAtSynchronized() >= 0);

    // One task publishing many changes: they leave together when the task ends.
    var published = new CountDownLatch(1);
    publisherLoop.execute(
        () -> {
          for (int i = 0; i < 500; i++) {
            pub.publish("k" + i, s("on-loop"));
          }
          pub.unpublish("k0");
          published.countDown();
        });
    assertThat(published.await(20, TimeUnit.SECONDS)).isTrue();
    pub.publish("k1", s("off-loop")); // from the test thread

    await().atMost(WAIT).until(() -> handler.mirror().equals(pub.snapshot()));
    assertThat(handler.mirror()).hasSize(499).doesNotContainKey("k0")
        .containsEntry("k1", s("off-loop")).containsEntry("k499", s("on-loop"));
  }

  @Test
  void subscriberThatArrivesFirstIsSynchronizedOnceThePublisherAppears() throws Exception {
    var handler = subscribe(STATUS);
    var secondLoop = newLoop("second");
    var sub = subscriberBus.subscribe(STATUS, secondLoop, recorder());
    // A barrier, not a sleep: both loops have run what subscribing queued and what that queued
    // in turn (over a socket, registering the channel queues the dial, which fails at once on the
    // missing socket). A subscriber that declares itself synchronized without a publisher has
    // done so by now.
    LoopBarrier.await(loop, 2, WAIT);
    LoopBarrier.await(secondLoop, 2, WAIT);
    assertThat(sub.isSynchronized()).isFalse();
    assertThat(handler.events()).isEmpty();

    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));

    await().atMost(WAIT).until(() -> handler.mirror().containsKey("eth0"));
    await().atMost(WAIT).until(sub::isSynchronized);
    // eth0 and the end of the initial state may arrive in separate reads: the signal may follow.
    await().atMost(WAIT).until(() -> handler.keysAtSynchronized() >= 0);
    assertThat(handler.events(Kind.SYNCHRONIZED)).hasSize(1);
    assertThat(sub.get("eth0")).contains(s("up"));
  }

  @Test
  void everySubscriberOfATopicGetsEveryChangeInOrder() {
    var one = subscribe(STATUS);
    RecordingHandler<StringValue> two = recorder();
    subscriberBus.subscribe(STATUS, newLoop("two"), two);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);

    // One change at a time, each seen by both before the next, so none may be coalesced away.
    pub.publish("eth0", s("up"));
    awaitBoth(one, two, Map.of("eth0", s("up")));
    pub.publish("eth1", s("up"));
    awaitBoth(one, two, Map.of("eth0", s("up"), "eth1", s("up")));
    pub.publish("eth0", s("down"));
    awaitBoth(one, two, Map.of("eth0", s("down"), "eth1", s("up")));
    pub.unpublish("eth1");
    awaitBoth(one, two, Map.of("eth0", s("down")));

    var expected =
        List.of(
            new Event<>(Kind.CREATE, "eth0", null, s("up")),
            new Event<>(Kind.CREATE, "eth1", null, s("up")),
            new Event<>(Kind.MODIFY, "eth0", s("up"), s("down")),
            new Event<>(Kind.DELETE, "eth1", s("up"), null));
    for (var handler : List.of(one, two)) {
      assertThat(handler.events().stream().filter(e -> e.kind() != Kind.SYNCHRONIZED).toList())
          .containsExactlyElementsOf(expected);
      assertThat(handler.events(Kind.SYNCHRONIZED)).hasSize(1);
    }
  }

  private static void awaitBoth(
      RecordingHandler<StringValue> one, RecordingHandler<StringValue> two, Map<String, StringValue> state) {
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(one.mirror()).as("first subscriber").isEqualTo(state);
      assertThat(two.mirror()).as("second subscriber").isEqualTo(state);
    });
  }

  @Test
  void modifyCarriesOldAndNewValuesAndDeleteCarriesTheLastValue() {
    var handler = subscribe(STATUS);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));
    await().atMost(WAIT).until(() -> handler.mirror().containsKey("eth0"));
    pub.publish("eth0", s("down"));
    await().atMost(WAIT).until(() -> s("down").equals(handler.mirror().get("eth0")));
    assertThat(pub.unpublish("eth0")).isTrue();
    await().atMost(WAIT).until(() -> handler.mirror().isEmpty());

    var changes =
        handler.events().stream().filter(e -> e.kind() != Kind.SYNCHRONIZED).toList();
    assertThat(changes)
        .containsExactly(
            new Event<>(Kind.CREATE, "eth0", null, s("up")),
            new Event<>(Kind.MODIFY, "eth0", s("up"), s("down")),
            new Event<>(Kind.DELETE, "eth0", s("down"), null));
    assertThat(pub.unpublish("eth0")).isFalse();
  }

  @Test
  void publishingAnEqualValueChangesNothing() {
    var handler = subscribe(STATUS);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    assertThat(pub.publish("eth0", s("up"))).isTrue();
    assertThat(pub.publish("eth0", s("up"))).isFalse();
    pub.publish("marker", s("done"));

    await().atMost(WAIT).until(() -> handler.mirror().containsKey("marker"));
    assertThat(handler.events(Kind.MODIFY)).isEmpty();
    assertThat(publisherBus.metrics().published()).isEqualTo(2);
  }

  @Test
  void aSecondPublisherOfATopicIsRefused() {
    publisherBus.publish(STATUS, Durability.VOLATILE);
    assertThatThrownBy(() -> publisherBus.publish(STATUS, Durability.VOLATILE))
        .isInstanceOf(TopicAlreadyPublishedException.class)
        .hasMessageContaining("nim/StringValue");
    assertThatThrownBy(() -> subscriberBus.publish(STATUS, Durability.VOLATILE))
        .isInstanceOf(TopicAlreadyPublishedException.class);
  }

  @Test
  void aClosedPublicationFreesTheTopicForANewPublisher() {
    var handler = subscribe(STATUS);
    var first = publisherBus.publish(STATUS, Durability.VOLATILE);
    first.publish("eth0", s("up"));
    await().atMost(WAIT).until(() -> handler.mirror().containsKey("eth0"));

    first.close(); // volatile: its keys go with it
    await().atMost(WAIT).until(() -> handler.mirror().isEmpty());

    var second = publisherBus.publish(STATUS, Durability.VOLATILE);
    second.publish("eth1", s("up"));
    await().atMost(WAIT).until(() -> handler.mirror().equals(Map.of("eth1", s("up"))));
  }

  @Test
  void invalidKeysAreRejected() {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    assertThatThrownBy(() -> pub.publish("", s("x"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> pub.publish("a/b", s("x")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> pub.publish("k".repeat(256), s("x")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(pub.publish("k".repeat(255), s("x"))).isTrue();
  }

  @Test
  void thousandsOfKeysArriveCompleteForEarlyAndLateSubscribers() {
    var early = subscribe(STATUS);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    for (int i = 0; i < 3000; i++) {
      pub.publish("k" + i, s("v" + i));
    }
    var late = subscribe(STATUS);
    // Over a socket the late subscriber connects asynchronously: wait until its initial
    // state is in, so that state is exactly the 3,000 keys published before it came.
    await().atMost(WAIT).until(() -> late.keysAtSynchronized() >= 0);
    assertThat(late.keysAtSynchronized()).isEqualTo(3000);
    // This one joins while changes stream in; it only has to converge.
    var midStream = subscribe(STATUS);
    for (int i = 3000; i < 6000; i++) {
      pub.publish("k" + i, s("v" + i));
    }
    for (int i = 0; i < 6000; i += 7) {
      pub.unpublish("k" + i);
    }

    Map<String, StringValue> expected = pub.snapshot();
    assertThat(expected).hasSize(6000 - 858);
    await().atMost(WAIT).until(() -> early.mirror().equals(expected));
    await().atMost(WAIT).until(() -> late.mirror().equals(expected));
    await().atMost(WAIT).until(() -> midStream.mirror().equals(expected));
  }

  @Test
  void manyTopicsPublishedConcurrentlyAllConverge() throws Exception {
    int topicCount = 24;
    List<Topic<Int64Value>> topics =
        IntStream.range(0, topicCount)
            .mapToObj(i -> new Topic<>("agent" + i, "Counter", Int64Value.getDefaultInstance()))
            .toList();
    List<AgentLoop> agentLoops = List.of(newLoop("a"), newLoop("b"), newLoop("c"));
    List<Subscription<Int64Value>> subs = new ArrayList<>();
    for (int i = 0; i < topicCount; i++) {
      subs.add(
          subscriberBus.subscribe(topics.get(i), agentLoops.get(i % 3), recorder()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Map<String, Int64Value>>> finals = new ArrayList<>();
      for (var topic : topics) {
        finals.add(
            pool.submit(
                () -> {
                  var pub = publisherBus.publish(topic, Durability.VOLATILE);
                  for (int round = 0; round < 5; round++) {
                    for (int k = 0; k < 200; k++) {
                      pub.publish("key" + k, Int64Value.of(round * 1000L + k));
                    }
                  }
                  return pub.snapshot();
                }));
      }
      for (int i = 0; i < topicCount; i++) {
        var expected = finals.get(i).get(30, TimeUnit.SECONDS);
        var sub = subs.get(i);
        // The snapshot can match mid-way through the initial drain, before the signal.
        await().atMost(WAIT).until(() -> sub.isSynchronized() && sub.snapshot().equals(expected));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aSlowSubscriberGetsCoalescedUpdatesButNeverAStaleValue() throws Exception {
    var topic = Topic.of("zedrouter", Int64Value.getDefaultInstance());
    var release = new CountDownLatch(1);
    var seen = new HashMap<String, List<Long>>();
    var handler =
        new SubscriptionHandler<Int64Value>() {
          private boolean blocked;

          @Override
          public void onCreate(String key, Int64Value value) {
            record(key, value);
          }

          @Override
          public void onModify(String key, Int64Value oldValue, Int64Value newValue) {
            record(key, newValue);
            if (!blocked) {
              blocked = true; // the first modify stalls the agent loop like a slow handler
              awaitRelease();
            }
          }

          private synchronized void record(String key, Int64Value value) {
            seen.computeIfAbsent(key, k -> new ArrayList<>()).add(value.getValue());
          }

          private void awaitRelease() {
            try {
              release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    var sub = subscriberBus.subscribe(topic, loop, handler);
    var pub = publisherBus.publish(topic, Durability.VOLATILE);
    pub.publish("a", Int64Value.of(0));
    pub.publish("b", Int64Value.of(0));
    await().atMost(WAIT).until(sub::isSynchronized);
    int updates = 2000;
    for (long v = 1; v <= updates; v++) {
      pub.publish("a", Int64Value.of(v));
      pub.publish("b", Int64Value.of(v));
    }
    // The handler is blocked in its first modify; wait until the bus had to coalesce (at the
    // subscriber, or for a socket also in the publisher's per-connection queue).
    await()
        .atMost(WAIT)
        .until(
            () -> subscriberBus.metrics().coalesced() + publisherBus.metrics().coalesced() > 0);
    release.countDown();

    // Wait on what the handler saw: the subscription's own view is updated just before it runs.
    await()
        .atMost(WAIT)
        .until(
            () -> {
              synchronized (handler) {
                return lastSeen(seen, "a") == updates && lastSeen(seen, "b") == updates;
              }
            });
    assertThat(sub.get("a")).contains(Int64Value.of(updates));
    synchronized (handler) {
      for (var values : seen.values()) {
        assertThat(values).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();
        assertThat(values.get(values.size() - 1)).isEqualTo(updates);
      }
      int handlerCalls = seen.values().stream().mapToInt(List::size).sum();
      assertThat(handlerCalls).isLessThan(2 + 2 * updates); // 2 creates, then fewer modifies
    }
  }

  private static long lastSeen(Map<String, List<Long>> seen, String key) {
    List<Long> values = seen.getOrDefault(key, List.of());
    return values.isEmpty() ? -1 : values.get(values.size() - 1);
  }

  @Test
  void anOversizedValueIsRefusedWithTheTopicAndKeyAndTheBusGoesOn() {
    openBuses(config.withMaxMessageBytes(1000));
    var handler = subscribe(STATUS);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("big", s("small"));

    assertThatThrownBy(() -> pub.publish("big", s("x".repeat(2000))))
        .isInstanceOf(MessageTooLargeException.class)
        .hasMessageContaining("nim/StringValue")
        .hasMessageContaining("big");
    pub.publish("after", s("ok"));

    await().atMost(WAIT).until(() -> handler.mirror().containsKey("after"));
    assertThat(handler.mirror().get("big")).isEqualTo(s("small"));
    assertThat(pub.get("big")).contains(s("small"));
    assertThat(publisherBus.metrics().refusedOversized()).isEqualTo(1);
  }

  @Test
  void theWatchdogReportsAHandlerSlowerThanTheThreshold() {
    openBuses(config.withSlowHandlerThreshold(Duration.ofMillis(5)));
    var handler =
        new SubscriptionHandler<StringValue>() {
          @Override
          public void onCreate(String key, StringValue value) {
            if (key.equals("slow")) {
              try {
                Thread.sleep(50);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }
        };
    var sub = subscriberBus.subscribe(STATUS, loop, handler);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("fast", s("1"));
    pub.publish("slow", s("2"));

    await().atMost(WAIT).until(() -> subscriberBus.metrics().delivered() >= 2);
    await().atMost(WAIT).until(() -> subscriberBus.metrics().slowHandlers() >= 1);
    assertThat(sub.get("slow")).contains(s("2"));
  }

  @Test
  void theWatchdogReportsAStuckHandlerWhileItIsStillRunning() throws Exception {
    openBuses(config.withSlowHandlerThreshold(Duration.ofMillis(20)));
    var release = new CountDownLatch(1);
    var handler =
        new SubscriptionHandler<StringValue>() {
          @Override
          public void onCreate(String key, StringValue value) {
            try {
              release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    var sub = subscriberBus.subscribe(STATUS, loop, handler);
    publisherBus.publish(STATUS, Durability.VOLATILE).publish("stuck", s("1"));

    await().atMost(WAIT).until(() -> subscriberBus.metrics().stalledHandlers() >= 1);
    assertThat(subscriberBus.metrics().slowHandlers()).isZero(); // it has not returned yet
    release.countDown();
    await().atMost(WAIT).until(() -> subscriberBus.metrics().slowHandlers() >= 1);
    assertThat(sub.get("stuck")).contains(s("1"));
  }

  @Test
  void aHandlerThatThrowsDoesNotStopLaterDeliveries() {
    var handler =
        new SubscriptionHandler<StringValue>() {
          @Override
          public void onCreate(String key, StringValue value) {
            if (key.equals("bad")) {
              throw new IllegalStateException("handler bug");
            }
          }
        };
    var sub = subscriberBus.subscribe(STATUS, loop, handler);
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    UncaughtFailures.expect("handler bug");
    pub.publish("bad", s("1"));
    pub.publish("good", s("2"));

    // Awaitility would rethrow the expected failure; the extension collects it instead.
    await().dontCatchUncaughtExceptions().atMost(WAIT).until(() -> sub.get("good").isPresent());
    assertThat(UncaughtFailures.seen()).as("the failure reached the loop's failure report")
        .extracting(f -> f.error().getMessage()).containsExactly("handler bug");
    assertThat(subscriberBus.metrics().handlerErrors()).isEqualTo(1);
  }

  @Test
  void aRestartedPersistentPublisherIsResynchronisedWithoutPhantomKeys() {
    var handler = subscribe(STATUS);
    var first = publisherBus.publish(STATUS, Durability.PERSISTENT);
    for (int i = 0; i < 20; i++) {
      first.publish("k" + i, s("gen1"));
    }
    first.signalRestarted();
    await().atMost(WAIT).until(() -> handler.events(Kind.RESTARTED).size() == 1);
    first.close(); // persistent: the keys stay on disk and at the subscriber

    var second = publisherBus.publish(STATUS, Durability.PERSISTENT);
    assertThat(second.snapshot()).hasSize(20); // restored before being announced
    for (int i = 0; i < 5; i++) {
      second.unpublish("k" + i);
    }
    second.publish("k5", s("gen2"));
    second.publish("fresh", s("gen2"));
    second.signalRestarted();

    await().atMost(WAIT).until(() -> handler.events(Kind.RESTARTED).size() == 2);
    assertThat(handler.mirror()).isEqualTo(second.snapshot());
    assertThat(handler.events(Kind.DELETE).stream().map(Event::key).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("k0", "k1", "k2", "k3", "k4");
    assertThat(handler.events(Kind.SYNCHRONIZED)).hasSize(1);
    assertThat(handler.keysAtRestarted()).isEqualTo(16);
  }

  @Test
  void aCorruptPersistedFileIsReportedAndSkippedWithoutStoppingTheRestore() throws Exception {
    var first = publisherBus.publish(STATUS, Durability.PERSISTENT);
    first.publish("eth0", s("up"));
    first.publish("eth1", s("up"));
    first.close();
    var file = config.stateDir().orElseThrow().resolve("nim/StringValue/eth0.rec");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));

    var second = publisherBus.publish(STATUS, Durability.PERSISTENT);
    var handler = subscribe(STATUS);

    assertThat(second.snapshot()).isEqualTo(Map.of("eth1", s("up")));
    assertThat(publisherBus.metrics().corruptFiles()).isEqualTo(1);
    await().atMost(WAIT).until(() -> handler.keysAtSynchronized() >= 0);
    assertThat(handler.mirror()).isEqualTo(Map.of("eth1", s("up")));
  }

  @Test
  void theSubscriberSeesThePublishersDurabilityAndCountsAMismatch() {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));
    var sub =
        subscriberBus.subscribe(STATUS, loop, recorder(), Durability.PERSISTENT);

    await().atMost(WAIT).until(sub::isSynchronized);
    assertThat(sub.publisher().orElseThrow().durability()).isEqualTo(Durability.VOLATILE);
    assertThat(subscriberBus.metrics().durabilityMismatches()).isEqualTo(1);
  }
}
