package dev.verge.nim;

import com.google.protobuf.Message;
import dev.verge.agent.AgentRuntime;
import dev.verge.agent.RuntimeSettings;
import dev.verge.hostos.sim.SimHost;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.ManualAgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.Topic;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * nim's world for unit tests: zedagent's topics published from the test, a sim host whose events
 * arrive at once, a loop on virtual time only the test drives, and a controller probe whose answer
 * per interface the test sets. Deterministic: nothing runs unless the test says so.
 */
final class NimWorld implements AutoCloseable {
  final ManualAgentLoop loop = new ManualAgentLoop("nim-under-test");
  final ManualAgentLoop observer = new ManualAgentLoop("observer");
  final PubSub bus = PubSub.inJvm(PubSubConfig.defaults());
  final SimHost host;
  final Path stateDir;
  final Publication<PhysicalIo> physicalIo = bus.publish(ZedagentTopics.PHYSICAL_IO, Durability.VOLATILE);
  final Publication<VlanAdapter> vlans = bus.publish(ZedagentTopics.VLANS, Durability.VOLATILE);
  final Publication<BondAdapter> bonds = bus.publish(ZedagentTopics.BONDS, Durability.VOLATILE);
  final Publication<SystemAdapter> adapters = bus.publish(ZedagentTopics.SYSTEM_ADAPTERS, Durability.VOLATILE);
  final Publication<NetworkConfig> networks = bus.publish(ZedagentTopics.NETWORKS, Durability.VOLATILE);
  final Publication<ConfigItem> configItems = bus.publish(ZedagentTopics.CONFIG_ITEMS, Durability.VOLATILE);
  final FakeProbe probe = new FakeProbe();
  final Subscription<DeviceNetwork> deviceNetwork;
  NimAgent agent;
  AgentRuntime runtime;

  NimWorld(Path scratch, String... nics) {
    host = SimHost.create(scratch.resolve("sim"));
    host.kernel().deliverEventsSynchronously();
    stateDir = scratch.resolve("state");
    for (String nic : nics) {
      host.kernel().plugNic(nic, 0);
    }
    deviceNetwork = watch(NimTopics.DEVICE_NETWORK);
  }

  NimAgent start() {
    agent = new NimAgent(new NimSettings(stateDir), context -> probe);
    runtime = AgentRuntime.start(agent, bus, host, loop, RuntimeSettings.DEFAULT);
    settle();
    return agent;
  }

  /** nim's process restarts (the kernel and the bus stay as they are): a new agent on the same state directory. */
  NimAgent restart() {
    runtime.close();
    loop.runPending();
    return start();
  }

  <T extends Message> Subscription<T> watch(Topic<T> topic) {
    return bus.subscribe(topic, observer, new dev.verge.pubsub.SubscriptionHandler<>() {});
  }

  /**
   * Runs what is queued and lets debounces pass (a few milliseconds of virtual time) until the
   * loop stays quiet; then delivers to the observer.
   */
  void settle() {
    int quiet = 0;
    for (int round = 0; round < 400; round++) {
      loop.runPending();
      loop.advance(Duration.ofMillis(1));
      quiet = loop.pendingTasks() == 0 ? quiet + 1 : 0;
      if (quiet == 3) {
        observer.runPending();
        return;
      }
    }
    throw new AssertionError("nim's loop never went quiet");
  }

  /** Moves virtual time on (timers, and what they schedule meanwhile, fire on the way), then settles. */
  void advance(Duration duration) {
    loop.advance(duration);
    settle();
  }

  DeviceNetwork network() {
    return deviceNetwork.get(NimAgent.GLOBAL).orElseThrow(() -> new AssertionError("nim published no DeviceNetwork"));
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

  /** The controller as seen from each interface: reachable unless the test says otherwise. */
  static final class FakeProbe implements ControllerProbe {
    private final Map<String, String> failing = new HashMap<>();
    private final Map<String, Integer> failuresLeft = new HashMap<>();
    final List<String> probed = new ArrayList<>();
    final List<Request> requests = new ArrayList<>();

    /** The next {@code count} probes out of the interface fail (a blip), then it works again. */
    synchronized void failNext(String ifName, int count, String error) {
      failing.put(ifName, error);
      failuresLeft.put(ifName, count);
    }

    synchronized void fail(String ifName, String error) {
      failing.put(ifName, error);
    }

    synchronized void heal(String ifName) {
      failing.remove(ifName);
    }

    @Override
    public synchronized void probe(Request request, java.util.function.Consumer<Result> done) {
      probed.add(request.ifName() + "@" + request.source().getHostAddress());
      requests.add(request);
      String error = failing.get(request.ifName());
      Integer left = failuresLeft.get(request.ifName());
      if (left != null && error != null && left <= 1) {
        failuresLeft.remove(request.ifName());
        failing.remove(request.ifName());
      } else if (left != null) {
        failuresLeft.put(request.ifName(), left - 1);
      }
      done.accept(error == null ? Result.success(Duration.ofMillis(3)) : Result.failure(error));
    }
  }
}
