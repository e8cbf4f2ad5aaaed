package dev.verge.agent;

import static dev.verge.agent.SimWorld.localNi;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.sample.SampleBridgeAgent;
import dev.verge.hostos.linux.LinuxHost;
import dev.verge.hostos.linux.LinuxHostSettings;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.AgentHealth;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime and the sample agent on the real kernel, in a throw-away namespace. */
class AgentRuntimeIT {
  static final String NI1 = "22222222-aaaa-4bbb-8ccc-000000000001";
  static final String BRIDGE = SampleBridgeAgent.bridgeName(NI1);
  static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;
  NetTopology topology;
  Netns ns;
  LinuxHost host;
  PubSub bus;
  AgentLoop loop;
  AgentLoop observer;
  AgentRuntime runtime;

  @BeforeEach
  void start() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("agent");
    ns = topology.namespace("dev");
    host = topology.own(LinuxHost.inNamespace(ns.name(), new LinuxHostSettings(dir.resolve("daemons"), Path.of("/sys"))));
    bus = topology.own(PubSub.inJvm(PubSubConfig.defaults()));
    loop = topology.own(AgentLoop.create("sample"));
    observer = topology.own(AgentLoop.create("observer"));
    bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE)
        .publish(NI1, localNi(NI1, "10.7.0.0/24", "10.7.0.1"));
    runtime = topology.own(AgentRuntime.start(new SampleBridgeAgent(), bus, host, loop, RuntimeSettings.DEFAULT));
  }

  @AfterEach
  void stop() {
    if (topology != null) {
      topology.close(); // with it, what the test made it own: agents, loops, the bus, the host
    }
  }

  private boolean bridgeUpWithAddress() {
    String link = ns.exec("ip", "-o", "link", "show", BRIDGE).stdout();
    return link.contains("<") && link.contains(",UP") && ns.ipv4Addresses(BRIDGE).contains("10.7.0.1/24");
  }

  @Test
  void theAgentBuildsItsStateInTheNamespaceAndRepairsWhatIsDeletedOrChangedBehindItsBack() {
    var health = bus.subscribe(AgentTopics.health(SampleBridgeAgent.NAME), observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
    await().atMost(WAIT).until(this::bridgeUpWithAddress);
    await().atMost(WAIT).until(() -> health.get(SampleBridgeAgent.NAME)
        .map(h -> h.getState() == AgentHealth.State.STATE_RUNNING).orElse(false));
    long runs = runtime.reconcileRuns();

    ns.ip("link", "del", BRIDGE); // behind the agent's back: the kernel takes the address too
    await().atMost(WAIT).until(() -> runtime.reconcileRuns() > runs && bridgeUpWithAddress());

    long runs2 = runtime.reconcileRuns();
    ns.ip("link", "set", BRIDGE, "down");
    await().atMost(WAIT).until(() -> runtime.reconcileRuns() > runs2 && bridgeUpWithAddress());

    assertThat(health.get(SampleBridgeAgent.NAME).orElseThrow().getFailedItemsList()).isEmpty();
    // Only the namespace was touched: the machine's own namespace has no such bridge.
    assertThat(dev.verge.netlab.Exec.run("ip", "link", "show", BRIDGE).ok()).isFalse();
  }
}
