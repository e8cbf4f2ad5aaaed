package dev.verge.pubsub;

/** A topic has at most one publisher: a second one is refused with this. */
public final class TopicAlreadyPublishedException extends IllegalStateException {
  public TopicAlreadyPublishedException(String topic, String where) {
    super("topic " + topic + " already has a publisher (" + where + ")");
  }
}
