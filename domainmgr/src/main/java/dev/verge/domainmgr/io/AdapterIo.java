package dev.verge.domainmgr.io;

import dev.verge.agent.AgentContext;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.domainmgr.VmDefinition.HostPciDevice;
import dev.verge.domainmgr.io.AdapterAssignments.AppDevices;
import dev.verge.domainmgr.io.IoItems.PciFunction;
import dev.verge.domainmgr.io.IoItems.VirtualFunction;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.info.v1.AssignableAdapters;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * domainmgr's I/O half as the agent uses it: reads the physical I/O and nim's ports, plans the
 * assignments, gives the items for the graph and each app's devices for its VM, publishes
 * AssignableAdapters. The I/O topics are watched, not inputs: domainmgr must not wait for nim to
 * run VMs without adapters; until nim's ports are known, adapter requests wait (refused).
 */
public final class AdapterIo {
  /** The reason of a domain error for adapters the app did not get. */
  public static final String ADAPTERS_REFUSED = "ADAPTERS_REFUSED";
  /** The reason of a domain error for an adapter the host failed to hand over (the VM waits for it). */
  public static final String ADAPTER_FAILED = "ADAPTER_FAILED";
  static final String PORTS_UNKNOWN = "the host's ports are not known yet (nim's DeviceNetwork): adapters wait";

  private final Host host;
  private final Subscription<PhysicalIo> physicalIo;
  private final Subscription<DeviceNetwork> network;
  private final Publication<AssignableAdapters> status;
  private AdapterAssignments plan = AdapterAssignments.plan(
      new IoInventory(List.of(), List.of(), Map.of()), List.of(), Map.of());
  private List<String> waiting = List.of();
  /** Which app each item of the last plan serves; a PF's VF count serves every app with VFs on it. */
  private Map<ItemRef, List<String>> users = Map.of();

  private AdapterIo(AgentContext context) {
    host = context.host();
    physicalIo = context.watch(ZedagentTopics.PHYSICAL_IO, reconcileOnChange(context));
    network = context.watch(NimTopics.DEVICE_NETWORK, reconcileOnChange(context));
    status = context.output(DomainmgrTopics.ASSIGNABLE_ADAPTERS, Durability.VOLATILE);
    IoConfigurators.register(context::configure, host, IoConfigurators.VF_WAIT);
  }

  /** Watches the I/O topics, registers the configurators and becomes AssignableAdapters' publisher. */
  public static AdapterIo start(AgentContext context) {
    return new AdapterIo(context);
  }

  private static <T extends com.google.protobuf.Message> SubscriptionHandler<T> reconcileOnChange(
      AgentContext context) {
    return new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, T value) {
        context.requestReconcile("the I/O inventory changed");
      }

      @Override
      public void onModify(String key, T oldValue, T newValue) {
        context.requestReconcile("the I/O inventory changed");
      }

      @Override
      public void onDelete(String key, T lastValue) {
        context.requestReconcile("the I/O inventory changed");
      }
    };
  }

  /** Plans over sysfs as it is now; the items of the VF counts and of the activated apps' devices. */
  public List<Item> plan(Collection<AppInstanceConfig> apps) {
    boolean portsKnown = network.isSynchronized() && network.get("global").isPresent();
    List<AppInstanceConfig> asking = apps.stream().filter(app -> app.getAdaptersCount() > 0).toList();
    waiting = portsKnown ? List.of() : asking.stream().map(app -> app.getId().getUuid()).toList();
    IoInventory inventory = IoInventory.of(List.copyOf(physicalIo.snapshot().values()),
        network.get("global").orElse(DeviceNetwork.getDefaultInstance()), host.sysfs().pciDevices());
    plan = AdapterAssignments.plan(inventory, portsKnown ? asking : List.of(), plan.owners());
    List<Item> items = IoItems.of(plan, apps.stream().filter(AppInstanceConfig::getActivate)
        .map(a -> a.getId().getUuid()).toList());
    Map<ItemRef, List<String>> byItem = new HashMap<>();
    for (Item item : items) {
      if (item instanceof IoItems.VfioBinding binding) {
        byItem.put(item.ref(), List.of(binding.app()));
      } else if (item instanceof IoItems.VfSettingsItem vf) {
        byItem.put(item.ref(), List.of(vf.app()));
      } else if (item instanceof IoItems.VfCountItem count) {
        byItem.put(item.ref(), plan.apps().values().stream()
            .filter(app -> app.vfs().stream().anyMatch(vf -> vf.pf().equals(count.pf())))
            .map(AppDevices::app).toList());
      }
    }
    users = byItem;
    return items;
  }

  /** The failed operations of the items the app's devices need, as the host refused them. */
  public List<String> failures(String app, ReconcileOutcome outcome) {
    return outcome.failedItems().entrySet().stream()
        .filter(failed -> users.getOrDefault(failed.getKey(), List.of()).contains(app))
        .map(failed -> failed.getKey() + ": " + failed.getValue())
        .toList();
  }

  /** The MACs set on the VFs apps got, each with the VF and app it belongs to. */
  public Map<dev.verge.hostos.MacAddress, String> vfMacs() {
    Map<dev.verge.hostos.MacAddress, String> macs = new HashMap<>();
    plan.apps().values().stream().filter(d -> !d.refused()).forEach(d -> d.vfs().forEach(vf -> vf.mac().ifPresent(mac ->
        macs.put(mac, "VF " + vf.index() + " of " + vf.pfInterface() + " (app " + d.app() + ")"))));
    return macs;
  }

  /** Why the app did not get its adapters; empty when it did (or asked for none). */
  public List<String> errors(String app) {
    if (waiting.contains(app)) {
      return List.of(PORTS_UNKNOWN);
    }
    return Optional.ofNullable(plan.apps().get(app)).map(AppDevices::errors).orElse(List.of());
  }

  /**
   * The host devices for the app's VM, each labelled with the name of its vfio binding item (the
   * VM depends on it); empty while a VF does not exist yet (its PF's VF count is being set).
   */
  public Optional<List<HostPciDevice>> devices(String app) {
    AppDevices devices = plan.apps().get(app);
    if (devices == null || devices.refused()) {
      return Optional.of(List.of());
    }
    List<HostPciDevice> all = new ArrayList<>();
    try {
      for (AdapterAssignments.AssignedVf vf : devices.vfs()) {
        VirtualFunction ref = new VirtualFunction(vf.pf(), vf.index());
        all.add(new HostPciDevice(ref.resolve(host.sysfs()), ref.name()));
      }
    } catch (HostException notYet) {
      return Optional.empty();
    }
    devices.passthrough().forEach(address -> all.add(new HostPciDevice(address, new PciFunction(address).name())));
    return Optional.of(all);
  }

  public void publish() {
    status.publish("global", plan.status());
  }
}
