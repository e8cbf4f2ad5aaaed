package dev.verge.pubsub;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Objects;

/**
 * A typed bus topic named {@code agent/Type}, whose values are protobuf messages of one type.
 *
 * @param agent the publishing agent (non-empty, no '/')
 * @param type the topic's type name, by default the message's simple name (non-empty, no '/')
 * @param defaultInstance the value type's default instance: gives the parser and the type check
 */
public record Topic<T extends Message>(String agent, String type, T defaultInstance) {

  public Topic {
    requireNamePart(agent, "agent");
    requireNamePart(type, "type");
    Objects.requireNonNull(defaultInstance, "defaultInstance");
  }

  /** The topic {@code agent/<message simple name>}. */
  public static <T extends Message> Topic<T> of(String agent, T defaultInstance) {
    return new Topic<>(agent, defaultInstance.getDescriptorForType().getName(), defaultInstance);
  }

  /** {@code agent/Type}. */
  public String name() {
    return agent + "/" + type;
  }

  /** Full protobuf name of the value type, checked at the handshake. */
  public String messageType() {
    return defaultInstance.getDescriptorForType().getFullName();
  }

  @SuppressWarnings("unchecked")
  public Parser<T> parser() {
    return (Parser<T>) defaultInstance.getParserForType();
  }

  /** True when {@code value} is of this topic's message type. */
  public boolean accepts(Message value) {
    return value.getDescriptorForType() == defaultInstance.getDescriptorForType();
  }

  @Override
  public String toString() {
    return name();
  }

  private static void requireNamePart(String part, String what) {
    if (part == null || part.isEmpty() || part.indexOf('/') >= 0) {
      throw new IllegalArgumentException(
          "topic " + what + " must be non-empty and contain no '/': '" + part + "'");
    }
  }
}
