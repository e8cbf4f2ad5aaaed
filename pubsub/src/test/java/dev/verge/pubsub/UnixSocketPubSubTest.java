package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import dev.verge.pubsub.RecordingHandler.Event;
import dev.verge.pubsub.RecordingHandler.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
    assertThat(subscriberBus.metrics().reconnects()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aSubscriberExpectingAnotherMessageTypeIsRefusedAndGetsNothing() {
    var pub = publisherBus.publish(STATUS, Durability.VOLATILE);
    pub.publish("eth0", s("up"));
    var wrongType = new Topic<>("nim", "StringValue", Int64Value.getDefaultInstance());
    var sub = subscriberBus.subscribe(wrongType, loop, new RecordingHandler<>());

    await().atMost(WAIT).until(() -> subscriberBus.metrics().protocolErrors() >= 1);
    assertThat(sub.snapshot()).isEmpty();
    assertThat(sub.isSynchronized()).isFalse();
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
    await().during(Duration.ofMillis(300)).atMost(WAIT)
        .until(() -> handler.mirror().get("eth0").equals(s("up")));
    assertThat(subscriberBus.metrics().reconnects()).isEqualTo(reconnects);
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
