package dev.verge.topics;

import dev.verge.pubsub.Topic;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every topic on a node's bus, with its publisher and message type: the one place agents find each
 * other's topics (an agent never imports another agent). Used for documentation, the CLI and a
 * test that keeps names unique.
 */
public final class TopicCatalog {
  private TopicCatalog() {}

  /** The fixed topics of every publisher class, then the runtime's per-agent topics; sorted by name. */
  public static List<Topic<?>> all() {
    List<Topic<?>> topics = new ArrayList<>();
    for (Class<?> holder :
        List.of(ZedagentTopics.class, NimTopics.class, ZedrouterTopics.class, DomainmgrTopics.class)) {
      for (Field field : holder.getFields()) {
        if (Modifier.isStatic(field.getModifiers()) && Topic.class.isAssignableFrom(field.getType())) {
          try {
            topics.add((Topic<?>) field.get(null));
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    }
    for (String agent : AgentTopics.AGENTS) {
      topics.add(AgentTopics.health(agent));
      topics.add(AgentTopics.metrics(agent));
      topics.add(AgentTopics.graphs(agent));
    }
    topics.sort(Comparator.comparing(Topic::name));
    return List.copyOf(topics);
  }
}
