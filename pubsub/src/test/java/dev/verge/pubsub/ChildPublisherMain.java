package dev.verge.pubsub;

import com.google.protobuf.StringValue;
import java.nio.file.Path;

/**
 * A publisher agent in its own JVM, for the crash tests: {@code <socketDir> <stateDir> <mode>}.
 *
 * <ul>
 *   <li>{@code first}: publishes k0..k49 = "gen1" persistently, declares itself restored.
 *   <li>{@code second}: restores, unpublishes k0..k4, sets k5 = "gen2", adds "fresh", declares
 *       itself restored.
 * </ul>
 *
 * Prints {@code READY} when done, then waits to be killed.
 */
public final class ChildPublisherMain {
  static final Topic<StringValue> TOPIC = Topic.of("child", StringValue.getDefaultInstance());
  static final int KEYS = 50;

  private ChildPublisherMain() {}

  public static void main(String[] args) throws InterruptedException {
    var config =
        PubSubConfig.defaults().withSocketDir(Path.of(args[0])).withStateDir(Path.of(args[1]));
    var bus = PubSub.unixSockets(config);
    var pub = bus.publish(TOPIC, Durability.PERSISTENT);
    switch (args[2]) {
      case "first" -> {
        for (int i = 0; i < KEYS; i++) {
          pub.publish("k" + i, StringValue.of("gen1"));
        }
      }
      case "second" -> {
        System.out.println("RESTORED " + pub.snapshot().size());
        for (int i = 0; i < 5; i++) {
          pub.unpublish("k" + i);
        }
        pub.publish("k5", StringValue.of("gen2"));
        pub.publish("fresh", StringValue.of("gen2"));
      }
      default -> throw new IllegalArgumentException("mode " + args[2]);
    }
    pub.signalRestarted();
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
