package dev.verge.agent.sample;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.Input;
import dev.verge.agent.KernelBacked;
import dev.verge.agent.KernelView;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetworkStack;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Topic;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ValueItem;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpContext;
import dev.verge.topics.ZedagentTopics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The pattern nim, zedrouter and domainmgr follow, on a small job: one bridge per network
 * instance with the NI's gateway address on it, and, for a switch NI, its port enslaved to the
 * bridge. Inputs from the bus, an intended graph built by a pure function of them, items named
 * after the kernel objects they stand for, one configurator per item type on the {@code Host},
 * external items for what the agent does not own (physical NICs), status published after each
 * reconcile. Not shipped: it lives in the runtime's tests.
 */
public final class SampleBridgeAgent implements Agent {
  public static final String NAME = "sample";
  public static final Topic<NetworkInstanceStatus> STATUS =
      Topic.of(NAME, NetworkInstanceStatus.getDefaultInstance());

  // ---------------------------------------------------------------- items

  /** A bridge link. Kernel-backed: deleted or changed behind the agent's back, it is repaired. */
  public record Bridge(String name, int mtu, boolean up) implements ValueItem, KernelBacked {
    public static final String TYPE = "Bridge";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<Bridge> observe(KernelView kernel) {
      return kernel.link(name).filter(l -> l.kind().equals("bridge")).map(
          l -> new Bridge(name, l.mtu(), l.up()));
    }
  }

  /** An address on a bridge; it needs the bridge. */
  public record BridgeAddress(String bridge, IpPrefix prefix) implements ValueItem, KernelBacked {
    public static final String TYPE = "Address";

    @Override
    public String name() {
      return bridge + "/" + prefix;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Bridge.TYPE, bridge).describedAs("an address needs its link"));
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(bridge);
    }

    @Override
    public Optional<BridgeAddress> observe(KernelView kernel) {
      return kernel.addresses(bridge).stream()
          .filter(a -> a.prefix().equals(prefix))
          .findFirst()
          .map(a -> this);
    }
  }

  /** A physical NIC: not the agent's; it only satisfies dependencies. */
  public record PhysicalNic(String name) implements ValueItem {
    public static final String TYPE = "PhysicalNic";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public boolean external() {
      return true;
    }
  }

  /** A switch NI's port, enslaved to the NI's bridge; it vanishes with the NIC. */
  public record BridgePort(String nic, String bridge) implements ValueItem {
    public static final String TYPE = "BridgePort";

    @Override
    public String name() {
      return nic;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(
          Dependency.on(Bridge.TYPE, bridge),
          Dependency.on(PhysicalNic.TYPE, nic).autoDeletedWithExternal());
    }
  }

  // ---------------------------------------------------------------- the intended state

  /** The pure part: the intended graph from the NI configs, testable without any kernel. */
  public static GraphR intendedState(Map<String, NetworkInstanceConfig> nis) {
    List<Item> items = new ArrayList<>();
    nis.forEach(
        (uuid, ni) -> {
          if (!ni.getActivate()) {
            return;
          }
          String bridge = bridgeName(uuid);
          items.add(new Bridge(bridge, ni.getMtu() == 0 ? 1500 : (int) ni.getMtu(), true));
          if (!ni.getIp().getGateway().isEmpty()) {
            IpPrefix subnet = IpPrefix.parse(ni.getIp().getSubnet());
            IpPrefix gateway = new IpPrefix(IpPrefix.literal(ni.getIp().getGateway()), subnet.length());
            items.add(new BridgeAddress(bridge, gateway));
          }
          if (ni.getType() == NetworkInstanceConfig.Type.TYPE_SWITCH && !ni.getPort().getName().isEmpty()) {
            // The NIC is external: named here as needed, present in the current state only while
            // it is plugged in (externalItems).
            items.add(new PhysicalNic(ni.getPort().getName()));
            items.add(new BridgePort(ni.getPort().getName(), bridge));
          }
        });
    return Graphs.newGraph(
        GraphSpec.named(NAME).describedAs("bridges of network instances").withItems(items.toArray(Item[]::new)));
  }

  public static String bridgeName(String niUuid) {
    return "bn-" + niUuid.replace("-", "").substring(0, Math.min(8, niUuid.replace("-", "").length()));
  }

  // ---------------------------------------------------------------- the agent

  private Input<NetworkInstanceConfig> networkInstances;
  private Publication<NetworkInstanceStatus> status;
  private AgentContext context;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(AgentContext context) {
    this.context = context;
    networkInstances = context.input(ZedagentTopics.NETWORK_INSTANCES);
    status = context.output(STATUS, Durability.VOLATILE);
    NetworkStack net = context.host().network();
    context.configure(Bridge.TYPE, new BridgeConfigurator(net));
    context.ownLinks(link -> link.name().startsWith("bn-"));
    context.configure(BridgeAddress.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var a = (BridgeAddress) item;
        net.addAddress(a.bridge(), a.prefix());
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        throw new UnsupportedOperationException("addresses are recreated, never modified");
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        var a = (BridgeAddress) item;
        net.deleteAddress(a.bridge(), a.prefix());
      }

      @Override
      public boolean needsRecreate(Item oldItem, Item newItem) {
        return true;
      }
    });
    context.configure(BridgePort.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var p = (BridgePort) item;
        net.setMaster(p.nic(), p.bridge());
        net.setUp(p.nic(), true);
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        create(ctx, newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        net.clearMaster(((BridgePort) item).nic());
      }
    });
    // Physical NICs come and go (hotplug, a cable): their presence changes what can be built.
    context.watchLinks(SampleBridgeAgent::isPhysical);
  }

  static boolean isPhysical(Link link) {
    return link.kind().isEmpty() && !link.name().equals("lo");
  }

  @Override
  public GraphR intendedState() {
    return intendedState(networkInstances.all());
  }

  @Override
  public List<PhysicalNic> externalItems() {
    return context.kernel().links().stream()
        .filter(SampleBridgeAgent::isPhysical)
        .map(l -> new PhysicalNic(l.name()))
        .toList();
  }

  @Override
  public void reconciled(ReconcileOutcome outcome) {
    networkInstances.all().forEach(
        (uuid, ni) -> {
          String bridge = bridgeName(uuid);
          var failed =
              outcome.failedItems().entrySet().stream()
                  .filter(e -> e.getKey().name().startsWith(bridge) || e.getKey().equals(ItemRef.of(Bridge.TYPE, bridge)))
                  .map(Map.Entry::getValue)
                  .toList();
          boolean exists = outcome.current().item(ItemRef.of(Bridge.TYPE, bridge)).isPresent();
          status.publish(
              uuid,
              NetworkInstanceStatus.newBuilder()
                  .setId(ni.getId())
                  .setBridgeName(bridge)
                  .setActivated(exists)
                  .setState(!failed.isEmpty() ? NetworkInstanceStatus.State.STATE_ERROR
                      : exists ? NetworkInstanceStatus.State.STATE_ONLINE : NetworkInstanceStatus.State.STATE_INIT)
                  .build());
        });
    for (String key : status.snapshot().keySet()) {
      if (networkInstances.get(key).isEmpty()) {
        status.unpublish(key);
      }
    }
  }

  /** Creates, changes and deletes bridges. */
  static final class BridgeConfigurator implements Configurator {
    private final NetworkStack net;

    BridgeConfigurator(NetworkStack net) {
      this.net = net;
    }

    @Override
    public void create(OpContext ctx, Item item) {
      var b = (Bridge) item;
      net.createLink(b.name(), new LinkSpec.Bridge(false));
      net.setMtu(b.name(), b.mtu());
      net.setUp(b.name(), b.up());
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      var b = (Bridge) newItem;
      net.setMtu(b.name(), b.mtu());
      net.setUp(b.name(), b.up());
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      net.deleteLink(item.name());
    }
  }
}
