package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import dev.verge.pubsub.RecordingHandler.Kind;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InJvmPubSubTest extends PubSubContract {

  @Override
  PubSub newBus(PubSubConfig config) {
    return PubSub.inJvm(config);
  }

  @Override
  boolean crossProcess() {
    return false;
  }

  @Test
  void afterACrashTheNextProcessRestoresPersistentStateBeforeAnnouncingIt() {
    var pub = publisherBus.publish(STATUS, Durability.PERSISTENT);
    pub.publish("eth0", s("up"));
    pub.publish("eth1", s("down"));
    // A crash: nothing is closed, the process (here: the bus) is simply gone.
    var restartedBus = PubSub.inJvm(config);
    try {
      RecordingHandler<StringValue> handler = recorder();
      restartedBus.subscribe(STATUS, loop, handler);
      var restored = restartedBus.publish(STATUS, Durability.PERSISTENT);
      restored.signalRestarted();

      await().atMost(WAIT).until(() -> handler.keysAtRestarted() >= 0);
      assertThat(handler.keysAtSynchronized()).isEqualTo(2);
      assertThat(handler.mirror()).isEqualTo(Map.of("eth0", s("up"), "eth1", s("down")));
      assertThat(handler.events(Kind.RESTARTED)).hasSize(1);
    } finally {
      restartedBus.close();
    }
  }
}
