package dev.verge.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PublisherInfo;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The subscriber half, driven step by step by a loop that runs only when told to. */
class SubscriberCoreTest {
  private static final Topic<StringValue> TOPIC = Topic.of("nim", StringValue.getDefaultInstance());

  private final ManualLoop loop = new ManualLoop();
  private final List<String> calls = new ArrayList<>();
  private final BusCounters counters = new BusCounters();
  private final SubscriberCore<StringValue> core =
      new SubscriberCore<>(
          TOPIC,
          loop,
          new SubscriptionHandler<>() {
            @Override
            public void onCreate(String key, StringValue value) {
              calls.add("create " + key + "=" + value.getValue());
            }

            @Override
            public void onModify(String key, StringValue oldValue, StringValue newValue) {
              calls.add("modify " + key + "=" + oldValue.getValue() + "->" + newValue.getValue());
            }

            @Override
            public void onDelete(String key, StringValue lastValue) {
              calls.add("delete " + key + "=" + lastValue.getValue());
            }

            @Override
            public void onSynchronized() {
              calls.add("synchronized");
            }

            @Override
            public void onRestarted() {
              calls.add("restarted");
            }
          },
          null,
          counters,
          Duration.ofSeconds(1).toNanos(),
          c -> {});

  private static PublisherInfo info(long epoch, long restarts) {
    return new PublisherInfo(
        TOPIC.name(), TOPIC.messageType(), Durability.PERSISTENT, epoch, restarts);
  }

  private void dump(long epoch, long restarts, String... keyValues) {
    core.beginSnapshot(info(epoch, restarts));
    for (int i = 0; i < keyValues.length; i += 2) {
      core.update(keyValues[i], StringValue.of(keyValues[i + 1]));
    }
    core.endSnapshot();
  }

  @Test
  void changesQueuedWhileTheLoopIsBusyCoalesceToTheLatestPerKey() {
    dump(1, 0, "a", "1");
    loop.runAll();
    calls.clear();

    core.update("a", StringValue.of("2"));
    core.update("a", StringValue.of("3"));
    core.update("b", StringValue.of("1"));
    core.delete("b");
    core.update("c", StringValue.of("1"));
    core.delete("c");
    core.update("c", StringValue.of("2"));
    loop.runAll();

    assertThat(calls).containsExactly("modify a=1->3", "create c=2");
    assertThat(counters.snapshot().coalesced()).isEqualTo(4);
    assertThat(loop.executed).isEqualTo(2); // one drain per busy period, not per change
  }

  @Test
  void anEqualValueIsNotDeliveredAgain() {
    dump(1, 0, "a", "1");
    loop.runAll();
    calls.clear();

    core.update("a", StringValue.of("2"));
    core.update("a", StringValue.of("1"));
    loop.runAll();

    assertThat(calls).isEmpty();
  }

  @Test
  void aNewDumpDeletesTheKeysItNoLongerCarries() {
    dump(1, 0, "a", "1", "b", "1", "c", "1");
    loop.runAll();
    calls.clear();

    dump(2, 0, "b", "1", "c", "2", "d", "1");
    loop.runAll();

    assertThat(calls).containsExactlyInAnyOrder("delete a=1", "modify c=1->2", "create d=1");
    assertThat(core.snapshot()).containsOnlyKeys("b", "c", "d");
  }

  @Test
  void aKeyPublishedAfterTheDumpIsDeliveredAndNotSwept() {
    dump(1, 0, "a", "1");
    loop.runAll();
    calls.clear();

    core.beginSnapshot(info(2, 0));
    core.update("a", StringValue.of("1"));
    core.endSnapshot();
    core.update("live", StringValue.of("1")); // after the dump, before the next drain
    loop.runAll();

    assertThat(calls).containsExactly("create live=1");
  }

  @Test
  void synchronizedComesOnceAfterTheDumpedKeys() {
    dump(1, 0, "a", "1", "b", "1");
    dump(1, 0, "a", "1", "b", "1");
    loop.runAll();
    dump(1, 0, "a", "1", "b", "1");
    loop.runAll();

    assertThat(calls).containsExactly("create a=1", "create b=1", "synchronized");
  }

  @Test
  void restartedComesOncePerPublisherInstanceAndDeclaration() {
    dump(1, 0, "a", "1");
    loop.runAll();
    core.restarted(1, 1);
    core.restarted(1, 1); // the same declaration seen twice (e.g. in the hello after a reconnect)
    loop.runAll();
    dump(1, 1, "a", "1");
    loop.runAll();
    dump(2, 1, "a", "1"); // a new instance declares itself restored
    loop.runAll();

    assertThat(calls).containsExactly("create a=1", "synchronized", "restarted", "restarted");
  }

  @Test
  void nothingIsDeliveredAfterClose() {
    dump(1, 0, "a", "1");
    core.close();
    loop.runAll();
    core.update("b", StringValue.of("1"));
    loop.runAll();

    assertThat(calls).isEmpty();
  }

  /** Queues tasks and runs them only in {@link #runAll()}. */
  private static final class ManualLoop implements AgentLoop {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    int executed;

    void runAll() {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        executed++;
        task.run();
      }
    }

    @Override
    public String name() {
      return "manual";
    }

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    @Override
    public Future<?> schedule(Duration delay, Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<?> every(Duration period, Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean inLoop() {
      return true;
    }

    @Override
    public void close() {}
  }
}
