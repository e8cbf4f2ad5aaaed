package dev.verge.pubsub;

/** A value too large for the bus; the publication keeps its previous value for the key. */
public final class MessageTooLargeException extends IllegalArgumentException {
  private final String topic;
  private final String key;
  private final long size;
  private final long limit;

  public MessageTooLargeException(String topic, String key, long size, long limit) {
    super(
        "topic "
            + topic
            + " key "
            + key
            + ": value of "
            + size
            + " bytes exceeds the bus limit of "
            + limit
            + " bytes");
    this.topic = topic;
    this.key = key;
    this.size = size;
    this.limit = limit;
  }

  public String topic() {
    return topic;
  }

  public String key() {
    return key;
  }

  public long size() {
    return size;
  }

  public long limit() {
    return limit;
  }
}
