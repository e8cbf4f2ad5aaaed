package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import dev.verge.testkit.UncaughtFailures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ManualAgentLoopTest {
  private final ManualAgentLoop loop = new ManualAgentLoop("virtual");
  private final List<String> ran = new ArrayList<>();

  @Test
  void timersFireAtTheirDueTimeInOrderAndOnlyWhenTimePasses() {
    loop.schedule(Duration.ofSeconds(3), () -> ran.add("3s@" + loop.elapsed().toSeconds()));
    loop.schedule(Duration.ofSeconds(1), () -> ran.add("1s@" + loop.elapsed().toSeconds()));
    loop.every(Duration.ofSeconds(2), () -> ran.add("every2s@" + loop.elapsed().toSeconds()));

    loop.advance(Duration.ofMillis(999));
    assertThat(ran).isEmpty();
    loop.advance(Duration.ofSeconds(4));
    assertThat(ran).containsExactly("1s@1", "every2s@2", "3s@3", "every2s@4");
    assertThat(loop.elapsed()).isEqualTo(Duration.ofMillis(4999));
  }

  @Test
  void aCancelledTimerNeverFiresAndTasksQueuedByATimerRunAtItsTime() {
    Future<?> cancelled = loop.schedule(Duration.ofSeconds(1), () -> ran.add("cancelled"));
    loop.schedule(
        Duration.ofSeconds(2),
        () -> loop.execute(() -> ran.add("queued by timer@" + loop.elapsed().toSeconds())));
    assertThat(cancelled.cancel(false)).isTrue();
    loop.advance(Duration.ofSeconds(10));
    assertThat(ran).containsExactly("queued by timer@2");
    assertThat(loop.pendingTimers()).isZero();
  }

  @Test
  void tasksRunOnlyWhenTheTestDrivesTheLoopAndSeeTheLoopAsTheirs() {
    loop.execute(() -> ran.add("inLoop=" + loop.inLoop()));
    assertThat(ran).isEmpty();
    assertThat(loop.runPending()).isEqualTo(1);
    assertThat(ran).containsExactly("inLoop=true");
    assertThat(loop.inLoop()).isFalse();
  }

  @Test
  void aFailingTaskIsReportedAndLaterTasksStillRun() {
    UncaughtFailures.expect("virtual bug");
    loop.execute(() -> {
      throw new IllegalStateException("virtual bug");
    });
    loop.execute(() -> ran.add("after"));
    loop.runPending();
    assertThat(ran).containsExactly("after");
    assertThat(UncaughtFailures.seen()).hasSize(1);
  }

  @Test
  void busDeliveriesWaitForTheTestToRunTheLoop() {
    var topic = Topic.of("nim", StringValue.getDefaultInstance());
    try (var bus = PubSub.inJvm(PubSubConfig.defaults())) {
      var sub =
          bus.subscribe(
              topic,
              loop,
              new SubscriptionHandler<StringValue>() {
                @Override
                public void onCreate(String key, StringValue value) {
                  ran.add(key + "=" + value.getValue());
                }
              });
      bus.publish(topic, Durability.VOLATILE).publish("eth0", StringValue.of("up"));
      assertThat(ran).isEmpty();
      loop.runPending();
      assertThat(ran).containsExactly("eth0=up");
      assertThat(sub.isSynchronized()).isTrue();
    }
  }
}
