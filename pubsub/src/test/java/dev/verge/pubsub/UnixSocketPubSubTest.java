package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import dev.verge.pubsub.RecordingHandler.Event;
import dev.verge.pubsub.RecordingHandler.Kind;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UnixSocketPubSubTest extends PubSubContract {
  /** Child JVMs and their output files; always killed after the test. */
  private final Map<Process, Path> children = new HashMap<>();

  @Override
  PubSub newBus(PubSubConfig config) {
    return PubSub.unixSockets(config);
  }

  @Override
  boolean crossProcess() {
    return true;
  }

  @AfterEach
  void killChildren() throws InterruptedException {
    for (var child : children.keySet()) {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aPublisherKilledWithSigkillAndRestartedIsSeenRestartedWithoutPhantomKeys()
      throws Exception {
    var topic = ChildPublisherMain.TOPIC;
    var handler = subscribe(topic);

    var first = startChild("first");
    await().atMost(WAIT).until(() -> output(first).contains("READY"));
    await().atMost(WAIT).until(() -> handler.events(Kind.RESTARTED).size() == 1);
    assertThat(handler.mirror()).hasSize(ChildPublisherMain.KEYS);

    first.destroyForcibly(); // SIGKILL: no close, no unpublish, socket file left behind
    assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.exists(socket(topic))).isTrue();

    var second = startChild("second");
    await().atMost(WAIT).until(() -> output(second).contains("READY"));
    assertThat(output(second)).contains("RESTORED " + ChildPublisherMain.KEYS);
    await().atMost(WAIT).until(() -> handler.events(Kind.RESTARTED).size() == 2);

    var expected = new HashMap<String, StringValue>();
    for (int i = 5; i < ChildPublisherMain.KEYS; i++) {
      expected.put("k" + i, StringValue.of(i == 5 ? "gen2" : "gen1"));
    }
    expected.put("fresh", StringValue.of("gen2"));
    assertThat(handler.mirror()).isEqualTo(expected);
    assertThat(handler.events(Kind.DELETE).stream().map(Event::key).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("k0", "k1", "k2", "k3", "k4");
    assertThat(handler.events(Kind.SYNCHRONIZED)).hasSize(1);
    // One reconnection: to the second child (failed dials in between are not reconnections).
    assertThat(subscriberBus.metrics().reconnects()).isEqualTo(1);
  }

  @Test
  void aSubscriberExpectingAnotherMessageTypeIsRefusedAndGetsNothing() throws Exception {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));
    var wrongType = new Topic<>("nim", "StringValue", Int64Value.getDefaultInstance());
    RecordingHandler<Int64Value> handler = recorder();
    var sub = subscriberBus.subscribe(wrongType, loop, handler);

    await().atMost(WAIT).until(() -> subscriberBus.metrics().protocolErrors() >= 1);
    // The refusal is counted on the subscriber's loop: whatever it would deliver has been queued.
    LoopBarrier.await(loop, WAIT);
    assertThat(sub.snapshot()).isEmpty();
    assertThat(sub.isSynchronized()).isFalse();
    assertThat(handler.events()).isEmpty();
  }

  @Test
  void whenThePublishingLoopClosesItsSubscribersAreCutOffAndPublishingDoesNotFail() {
    var publisherLoop = newLoop("publisher");
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE, publisherLoop);
    pub.publish("eth0", s("up"));
    var handler = subscribe(STATUS);
    await().atMost(WAIT).until(() -> handler.mirror().containsKey("eth0"));
    long reconnects = subscriberBus.metrics().reconnects();

    publisherLoop.close(); // the agent is gone: its connections go with its loop

    for (int i = 0; i < 100; i++) {
      pub.publish("eth0", s("v" + i)); // no exception, nothing queued for a dead connection
    }
    assertThat(pub.get("eth0")).contains(s("v99"));
    // Once the loop has ended nothing listens any more; redials find no publisher.
    await().atMost(WAIT).until(() -> !Files.exists(socket(STATUS)));

    // The barrier: the topic's next publisher (another process's bus). Everything the subscriber
    // sees before that publisher's state is all the dead one ever got to it.
    try (PubSub nextBus = newBus(config)) {
      nextBus.publish(STATUS, Durability.VOLATILE).publish("next", s("marker"));
      await().atMost(WAIT).until(() -> handler.mirror().equals(Map.of("next", s("marker"))));

      // Nothing from the closed loop's publication; eth0 kept while there was no publisher; the
      // next publisher's state, and only at the end of its dump the sweep of what it lacks.
      assertThat(handler.events().stream().filter(e -> e.kind() != Kind.SYNCHRONIZED).toList())
          .containsExactly(
              new Event<>(Kind.CREATE, "eth0", null, s("up")),
              new Event<>(Kind.CREATE, "next", null, s("marker")),
              new Event<>(Kind.DELETE, "eth0", s("up"), null));
      assertThat(subscriberBus.metrics().reconnects()).isEqualTo(reconnects + 1);
    }
  }

  @Test
  void aSubscriberWhosePublisherHangsUpBeforeItsHelloStaysUnsynchronizedAndRedials() throws Exception {
    // A fake publisher socket that takes each request and hangs up without answering.
    Path path = socket(STATUS);
    Files.createDirectories(path.getParent());
    ExecutorService io = Executors.newSingleThreadExecutor();
    RecordingHandler<StringValue> handler;
    try (ServerSocketChannel fake = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      fake.bind(UnixDomainSocketAddress.of(path));
      handler = subscribe(STATUS);

      for (int connection = 1; connection <= 2; connection++) {
        try (SocketChannel dialled = io.submit(fake::accept).get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
          int read = io.submit(() -> dialled.read(ByteBuffer.allocate(256))).get(WAIT.toSeconds(), TimeUnit.SECONDS);
          assertThat(read).as("the subscriber's request").isPositive();
        }
      }
      // The second dial is the barrier: the subscriber has handled the first hang-up (on its
      // loop), and a loop round later anything that hang-up made it deliver has run.
      LoopBarrier.await(loop, WAIT);
      assertThat(handler.events()).isEmpty();
      assertThat(subscriberBus.metrics().reconnects()).isZero();
    } finally {
      io.shutdownNow();
      Files.deleteIfExists(path);
    }

    publisherBus.publish(STATUS, Durability.VOLATILE).publish("eth0", s("up"));
    await().atMost(WAIT).until(() -> handler.keysAtSynchronized() == 1);
    assertThat(handler.mirror()).isEqualTo(Map.of("eth0", s("up")));
  }

  @Test
  void handlersOfASocketSubscriptionRunOnTheSubscribersLoop() throws Exception {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    var threads = new CopyOnWriteArrayList<String>();
    subscriberBus.subscribe(
        STATUS,
        loop,
        new SubscriptionHandler<StringValue>() {
          @Override
          public void onCreate(String key, StringValue value) {
            threads.add(Thread.currentThread().getName());
          }

          @Override
          public void onSynchronized() {
            threads.add(Thread.currentThread().getName());
          }
        });
    pub.publish("eth0", s("up"));
    await().atMost(WAIT).until(() -> threads.size() == 2);
    assertThat(threads).containsOnly("agent-subscriber");
  }

  private Path socket(Topic<?> topic) {
    return config.socketDir().resolve(topic.agent()).resolve(topic.type() + ".sock");
  }

  private Process startChild(String mode) throws IOException {
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var log = dir.resolve("child-" + mode + ".log");
    var process =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                ChildPublisherMain.class.getName(),
                config.socketDir().toString(),
                config.stateDir().orElseThrow().toString(),
                mode)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    children.put(process, log);
    return process;
  }

  private String output(Process process) throws IOException {
    return Files.readString(children.get(process));
  }
}
