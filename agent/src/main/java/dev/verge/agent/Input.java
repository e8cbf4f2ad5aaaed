package dev.verge.agent;

import com.google.protobuf.Message;
import dev.verge.pubsub.Topic;
import java.util.Optional;
import java.util.SortedMap;

/** An input topic as the agent has received it so far. */
public interface Input<T extends Message> {

  Topic<T> topic();

  Optional<T> get(String key);

  /** Every key delivered so far, sorted by key (so graphs built from it are built in one order). */
  SortedMap<String, T> all();

  /** True once the publisher's initial state has been delivered. */
  boolean isSynchronized();
}
