package dev.verge.pubsub;

/**
 * What a publisher announces at the handshake.
 *
 * @param topic the topic name, {@code agent/Type}
 * @param messageType full protobuf name of the value type
 * @param durability whether the publisher persists its state
 * @param epoch random per publisher instance: a restarted publisher has a new one
 * @param restartCounter how often this instance declared its state restored (0 = not yet)
 */
public record PublisherInfo(
    String topic, String messageType, Durability durability, long epoch, long restartCounter) {}
