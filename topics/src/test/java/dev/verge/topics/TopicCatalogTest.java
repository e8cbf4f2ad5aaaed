package dev.verge.topics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.pubsub.Topic;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TopicCatalogTest {

  @Test
  void everyTopicHasAUniqueNameAndIsPublishedByAKnownAgent() {
    var topics = TopicCatalog.all();
    Set<String> names = new HashSet<>();
    for (Topic<?> topic : topics) {
      assertThat(names.add(topic.name())).as("duplicate topic %s", topic).isTrue();
      assertThat(AgentTopics.AGENTS).as("publisher of %s", topic).contains(topic.agent());
    }
    assertThat(names)
        .contains("nim/DeviceNetwork", "zedrouter/AppVifPlan", "domainmgr/AppVifs", "zedagent/PhysicalIo",
            "zedrouter/AgentHealth", "zedagent/AgentGraphs");
  }

  @Test
  void agentContractsAreNotTheControllersInfoMessages() {
    assertThat(NimTopics.DEVICE_NETWORK.messageType()).isEqualTo("dev.verge.topics.v1.DeviceNetwork");
    assertThat(NimTopics.DEVICE_NETWORK_STATUS.messageType()).startsWith("dev.verge.proto.info.v1.");
    assertThat(ZedrouterTopics.APP_VIF_PLAN.messageType()).startsWith("dev.verge.topics.v1.");
    assertThat(DomainmgrTopics.APP_VIFS.messageType()).startsWith("dev.verge.topics.v1.");
  }
}
