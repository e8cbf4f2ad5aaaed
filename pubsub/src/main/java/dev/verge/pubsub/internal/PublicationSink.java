package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.PublisherInfo;

/**
 * Where a publication sends its changes: a subscriber in this JVM, or a socket connection to one
 * in another process. A publication calls these under its lock, so they arrive in order; they
 * must not block.
 */
interface PublicationSink<T extends Message> {

  /** A full dump follows (the {@code update}s up to {@link #endSnapshot()}). */
  void beginSnapshot(PublisherInfo info);

  void update(String key, T value);

  void delete(String key);

  /** The dump is complete: keys known before it and absent from it are gone. */
  void endSnapshot();

  void restarted(long epoch, long restartCounter);
}
