package dev.verge.agent;

import com.google.protobuf.Message;
import dev.verge.hostos.sim.SimHost;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.ManualAgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.Topic;
import dev.verge.topics.ZedagentTopics;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An agent's world for unit tests: the in-JVM bus, a sim host whose events arrive synchronously,
 * and a loop on virtual time that only the test drives. Nothing here runs unless the test says so,
 * so every test is deterministic.
 */
public final class SimWorld implements AutoCloseable {
  public static final RuntimeSettings SETTINGS = RuntimeSettings.DEFAULT;

  public final ManualAgentLoop loop = new ManualAgentLoop("agent-under-test");
  public final ManualAgentLoop observer = new ManualAgentLoop("observer");
  public final PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
  public final SimHost host;
  private Publication<NetworkInstanceConfig> networkInstances;
  public AgentRuntime runtime;

  public SimWorld(Path scratch) {
    this(SimHost.create(scratch));
  }

  /** A world on a host the test built (say, with PCI devices in its fake sysfs). */
  public SimWorld(SimHost host) {
    this.host = host;
    host.kernel().deliverEventsSynchronously();
  }

  public AgentRuntime start(Agent agent) {
    return start(agent, SETTINGS);
  }

  public AgentRuntime start(Agent agent, RuntimeSettings settings) {
    runtime = AgentRuntime.start(agent, bus, host, loop, settings);
    settle();
    return runtime;
  }

  /** zedagent's network instance topic, published from the test. */
  public Publication<NetworkInstanceConfig> networkInstances() {
    if (networkInstances == null) {
      networkInstances = bus.publish(ZedagentTopics.NETWORK_INSTANCES, Durability.VOLATILE);
    }
    return networkInstances;
  }

  /** Reads a topic the way another agent would; the test runs {@link #observer} to deliver. */
  public <T extends Message> Subscription<T> watch(Topic<T> topic) {
    return bus.subscribe(topic, observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
  }

  /**
   * Runs what is queued and lets the debounce pass, until the agent's loop is quiet; then delivers
   * what it published to the observer.
   */
  public void settle() {
    for (int round = 0; round < 50; round++) {
      loop.runPending();
      loop.advance(SETTINGS.debounce());
      if (loop.pendingTasks() == 0) {
        observer.runPending();
        return;
      }
    }
    throw new AssertionError("the agent's loop never went quiet");
  }

  /** Moves virtual time on (timers fire on the way), then settles. */
  public void advance(Duration duration) {
    loop.advance(duration);
    settle();
  }

  public static NetworkInstanceConfig localNi(String uuid, String subnet, String gateway) {
    return NetworkInstanceConfig.newBuilder()
        .setId(UuidAndVersion.newBuilder().setUuid(uuid).setVersion("1"))
        .setType(NetworkInstanceConfig.Type.TYPE_LOCAL)
        .setActivate(true)
        .setIp(IpSpec.newBuilder().setSubnet(subnet).setGateway(gateway))
        .build();
  }

  @Override
  public void close() {
    if (runtime != null) {
      runtime.close();
      loop.runPending();
    }
    bus.close();
    host.close();
    loop.close();
    observer.close();
  }
}
