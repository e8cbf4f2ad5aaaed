package dev.verge.zedagent;

import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.LoopBarrier;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigPublisherTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir Path state;
  private PubSub bus;
  private AgentLoop loop;

  @BeforeEach
  void bus() {
    bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(state));
    loop = AgentLoop.create("test");
  }

  @AfterEach
  void close() {
    loop.close();
    bus.close();
  }

  static NetworkInstanceConfig ni(String uuid, String name) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setDisplayName(name)
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL)
        .build();
  }

  @Test
  void eachObjectLandsOnItsTopicAndOnlyTheDifferenceIsRepublished() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>(); // written on the loop, read by the test
    Subscription<NetworkInstanceConfig> nis =
        bus.subscribe(ZedagentTopics.NETWORK_INSTANCES, loop, new SubscriptionHandler<>() {
          @Override
          public void onCreate(String key, NetworkInstanceConfig value) {
            events.add("create " + value.getDisplayName());
          }

          @Override
          public void onModify(String key, NetworkInstanceConfig oldValue, NetworkInstanceConfig newValue) {
            events.add("modify " + oldValue.getDisplayName() + "->" + newValue.getDisplayName());
          }

          @Override
          public void onDelete(String key, NetworkInstanceConfig lastValue) {
            events.add("delete " + lastValue.getDisplayName());
          }
        });
    DeviceConfig first =
        DeviceConfig.newBuilder()
            .addNetworkInstances(ni("a", "ni-a"))
            .addNetworkInstances(ni("b", "ni-b"))
            .addSystemAdapters(SystemAdapter.newBuilder().setName("eth0").setUplink(true))
            .addConfigItems(ConfigItem.newBuilder().setKey("timer.config.interval").setValue("10"))
            .build();
    DeviceConfig second =
        first.toBuilder().clearNetworkInstances().addNetworkInstances(ni("a", "ni-a2")).build();

    try (ConfigPublisher publisher = new ConfigPublisher(new ConfigPublisher.Outputs() {
      @Override
      public <T extends com.google.protobuf.Message> dev.verge.pubsub.Publication<T> publish(dev.verge.pubsub.Topic<T> topic) {
        return bus.publish(topic, Durability.PERSISTENT, loop);
      }
    })) {
      assertThat(publisher.apply(first)).isEqualTo(4);
      // Barriers, not counts: a count reached can still be followed by a stray event.
      LoopBarrier.await(loop, WAIT);
      assertThat(events).containsExactly("create ni-a", "create ni-b");
      assertThat(publisher.apply(second)).as("ni-a modified, ni-b removed").isEqualTo(2);
      assertThat(publisher.apply(second)).as("same config again").isZero();

      LoopBarrier.await(loop, WAIT);
      // Removals go first, then changes, each in the config's order.
      assertThat(events).containsExactly("create ni-a", "create ni-b", "delete ni-b", "modify ni-a->ni-a2");
      assertThat(nis.snapshot()).containsOnlyKeys("a");
    }
  }

  /**
   * zedrouter (metadata server) and domainmgr (seed disk) both read the app's user data from the
   * APPS topic: the split carries the app config whole, and a change of only its user data is a
   * change.
   */
  @Test
  void anAppsUserDataReachesTheAppsTopicAndAChangeOfItIsRepublished() throws Exception {
    Subscription<dev.verge.proto.config.v1.AppInstanceConfig> apps =
        bus.subscribe(ZedagentTopics.APPS, loop, new SubscriptionHandler<>() {});
    var app = dev.verge.proto.config.v1.AppInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid("c1").setVersion("1")).setDisplayName("web")
        .setUserData("#cloud-config\nruncmd: [echo one]\n").build();
    DeviceConfig first = DeviceConfig.newBuilder().addApps(app).build();
    DeviceConfig second = DeviceConfig.newBuilder()
        .addApps(app.toBuilder().setUserData("#cloud-config\nruncmd: [echo two]\n")).build();

    try (ConfigPublisher publisher = new ConfigPublisher(new ConfigPublisher.Outputs() {
      @Override
      public <T extends com.google.protobuf.Message> dev.verge.pubsub.Publication<T> publish(dev.verge.pubsub.Topic<T> topic) {
        return bus.publish(topic, Durability.PERSISTENT, loop);
      }
    })) {
      publisher.apply(first);
      LoopBarrier.await(loop, WAIT);
      assertThat(apps.snapshot().get("c1").getUserData()).isEqualTo("#cloud-config\nruncmd: [echo one]\n");

      assertThat(publisher.apply(second)).isEqualTo(1);
      LoopBarrier.await(loop, WAIT);
      assertThat(apps.snapshot().get("c1").getUserData()).isEqualTo("#cloud-config\nruncmd: [echo two]\n");
    }
  }

  /** The controller takes a VPN NI's key as a config item it names (psk_ref); zedrouter needs the key itself. */
  @Test
  void aVpnNisPskRefIsResolvedFromItsConfigItemAndAMissingItemIsLeftForZedrouterToReport() {
    NetworkInstanceConfig.Builder vpn = ni("v1", "site").toBuilder().setType(NetworkInstanceConfig.Type.TYPE_VPN);
    vpn.getVpnBuilder().setPeer("198.51.100.2").setPskRef("site-psk");
    DeviceConfig config = DeviceConfig.newBuilder().addNetworkInstances(vpn)
        .addNetworkInstances(vpn.clone().setId(UuidAndVersion.newBuilder().setUuid("v2")).setVpn(
            vpn.getVpn().toBuilder().setPskRef("no-such-item")))
        .addNetworkInstances(ni("l1", "local"))
        .addConfigItems(ConfigItem.newBuilder().setKey("site-psk").setValue("a key of the site")).build();

    List<NetworkInstanceConfig> nis = ConfigPublisher.networkInstances(config);

    assertThat(nis.get(0).getVpn().getPsk()).isEqualTo("a key of the site");
    assertThat(nis.get(0).getVpn().getPskRef()).isEqualTo("site-psk");
    assertThat(nis.get(1).getVpn().getPsk()).isEmpty();
    assertThat(nis.get(2)).isEqualTo(ni("l1", "local"));
  }

  @Test
  void keysThatCannotBeBusKeysAreEscapedNotRefused() {
    assertThat(ConfigPublisher.busKey("a/b")).isEqualTo("a%2Fb");
    assertThat(ConfigPublisher.busKey("50%")).isEqualTo("50%25");
    assertThat(ConfigPublisher.busKey("")).isEqualTo("_");
  }
}
