package dev.verge.domainmgr;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.Input;
import dev.verge.agent.LeftoverAdopter;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.domainmgr.DomainItems.Macvtap;
import dev.verge.domainmgr.DomainItems.ParentLink;
import dev.verge.domainmgr.DomainItems.Tap;
import dev.verge.domainmgr.DomainItems.Vm;
import dev.verge.domainmgr.DomainPlanner.DomainError;
import dev.verge.domainmgr.DomainPlanner.DomainPlan;
import dev.verge.domainmgr.DomainPlanner.PlannedNic;
import dev.verge.domainmgr.io.AdapterIo;
import dev.verge.domainmgr.io.LibvirtDomainXml;
import dev.verge.hostos.Address;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetworkStack;
import dev.verge.proto.common.v1.EntityRef;
import dev.verge.proto.common.v1.EntityType;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.common.v1.Severity;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.proto.info.v1.DomainVif;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpContext;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.AppVifs;
import dev.verge.topics.v1.CreatedVif;
import dev.verge.topics.v1.PlannedVif;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * domainmgr's VM half: per app, the VIF devices under the names zedrouter chose (zedrouter then
 * puts taps on the NI bridge) and a QEMU VM that depends on them; the VIFs it created go back to
 * zedrouter ({@link DomainmgrTopics#APP_VIFS}), the domain state to the controller.
 */
public final class DomainmgrAgent implements Agent {
  public static final String NAME = DomainmgrTopics.AGENT;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DomainmgrAgent.class);
  /** How long a guest gets to power off (ACPI) when its app is stopped, before QEMU is stopped. */
  public static final java.time.Duration SHUTDOWN_GRACE = java.time.Duration.ofSeconds(3);

  private final DomainPlanner.Settings settings;
  private final Supplier<QemuCommand.Accel> accel;
  private final java.util.function.BiPredicate<QemuCommand.Accel, String> exitedOfKvm;
  private AgentContext context;
  private Input<AppInstanceConfig> apps;
  private Input<AppVifPlan> vifPlans;
  private Publication<AppVifs> appVifs;
  private Publication<DomainStatus> domainStatus;
  private VmConfigurator vms;
  private AdapterIo io;
  private Set<String> waitingForVfs = Set.of();
  private Map<String, DomainPlan> plans = Map.of();
  private volatile Set<String> parentLinks = Set.of();
  private volatile Set<String> ownLinks = Set.of();

  /** An agent whose VMs always get {@code accel}. */
  public DomainmgrAgent(DomainPlanner.Settings settings, Supplier<QemuCommand.Accel> accel) {
    this.settings = settings;
    this.accel = accel;
    this.exitedOfKvm = (used, output) -> false;
  }

  /** An agent whose VMs get KVM while {@code accel} allows it, and TCG once a QEMU failed on KVM. */
  public DomainmgrAgent(DomainPlanner.Settings settings, AccelChoice accel) {
    this.settings = settings;
    this.accel = accel::next;
    this.exitedOfKvm = accel::exitedOfKvm;
  }

  /** An agent keeping its files under {@code stateDir}, sized to this machine. */
  public static DomainmgrAgent forHost(Path stateDir) {
    return new DomainmgrAgent(new DomainPlanner.Settings(stateDir.resolve("domains"), stateDir.resolve("images"),
        HostResources.memoryMb(), HostResources.RESERVED_MEMORY_MB), AccelChoice.forHost());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(AgentContext context) {
    this.context = context;
    apps = context.input(ZedagentTopics.APPS);
    vifPlans = context.input(ZedrouterTopics.APP_VIF_PLAN);
    appVifs = context.output(DomainmgrTopics.APP_VIFS, Durability.VOLATILE);
    domainStatus = context.output(DomainmgrTopics.DOMAIN_STATUS, Durability.VOLATILE);
    NetworkStack net = context.host().network();
    context.configure(Tap.TYPE, new TapConfigurator(net));
    context.configure(Macvtap.TYPE, new LinkConfigurator(net) {
      @Override
      public void create(OpContext ctx, Item item) {
        Macvtap m = (Macvtap) item;
        net.createLink(m.name(), new LinkSpec.Macvtap(m.parent(), m.mode()));
        net.setMac(m.name(), dev.verge.hostos.MacAddress.of(m.mac()));
        net.setMtu(m.name(), m.mtu());
        net.setUp(m.name(), true);
      }

      @Override
      public boolean needsRecreate(Item oldItem, Item newItem) {
        return true;
      }
    });
    vms = new VmConfigurator(context.host().daemons(), context.loop(), accel, exitedOfKvm,
        () -> context.requestReconcile("a VM's state changed"), SHUTDOWN_GRACE);
    context.configure(Vm.TYPE, vms);
    io = AdapterIo.start(context);
    context.configure(DomainItems.HotNic.TYPE, new HotNicConfigurator(vms::qmpSocket,
        domain -> vms.qemuStarts().getOrDefault(domain, -1)));
    // a VIF deleted behind our back, or a macvtap parent coming and going, changes what to do
    context.watchLinks(link -> ownLinks.contains(link.name()) || parentLinks.contains(link.name()));
    // the taps and macvtaps of VIFs (zedrouter's nbu<adapter>x<app> names) an earlier run left
    context.ownLinks(link -> link.name().matches("nbu\\d+x\\d+"));
  }

  @Override
  public GraphR intendedState() {
    plans = DomainPlanner.plan(apps.all(), vifPlans.all(), settings);
    List<Item> ioItems = io.plan(apps.all().values());
    plans = withAdapters(plans);
    return intendedState(plans, vms.booted(), ioItems, vms.qemuStarts());
  }

  /**
   * Gives each VM its host devices; an app refused its adapters gets no VM (and the reasons), an
   * app whose VFs do not exist yet waits for the reconcile that makes them.
   */
  private Map<String, DomainPlan> withAdapters(Map<String, DomainPlan> planned) {
    Map<String, DomainPlan> result = new java.util.LinkedHashMap<>();
    Set<String> waiting = new TreeSet<>();
    Map<dev.verge.hostos.MacAddress, String> vfMacs = io.vfMacs();
    planned.forEach((uuid, plan) -> {
      List<DomainError> errors = new ArrayList<>(plan.errors());
      io.errors(uuid).forEach(e -> errors.add(new DomainError(AdapterIo.ADAPTERS_REFUSED, e)));
      // a VIF and a VF with one MAC would make the guest's two NICs (or two guests) answer for each other
      plan.nics().stream().filter(n -> vfMacs.containsKey(n.nic().mac())).forEach(n -> errors.add(new DomainError(
          "DUPLICATE_MAC", "adapter " + n.adapter().getName() + ": MAC " + n.nic().mac() + " is already the MAC of "
              + vfMacs.get(n.nic().mac()))));
      Optional<VmDefinition> vm = plan.vm();
      if (errors.size() > plan.errors().size()) {
        vm = Optional.empty();
      } else if (vm.isPresent()) {
        Optional<List<VmDefinition.HostPciDevice>> devices = io.devices(uuid);
        if (devices.isEmpty()) {
          waiting.add(uuid);
        }
        VmDefinition d = vm.get();
        vm = devices.map(d::withPassthrough);
      }
      result.put(uuid, new DomainPlan(uuid, plan.app(), vm, plan.nics(), errors));
    });
    waitingForVfs = waiting;
    return result;
  }

  /**
   * The VIFs are zedrouter's plans: until it published one for every app, the taps an earlier run
   * left may still be wanted (zedrouter publishes after its own first reconcile).
   */
  @Override
  public boolean intentNamesAllItsLinks() {
    return vifPlans.all().keySet().containsAll(apps.all().keySet());
  }

  /**
   * The pure part: the graph of the plans, given what each running VM was started with (so
   * adapters appended to a running app are hot-plugged rather than restarting it).
   */
  static GraphR intendedState(Map<String, DomainPlan> plans, Map<String, Vm> running) {
    return intendedState(plans, running, List.of());
  }

  /** The same, with the I/O items (VF counts, VF settings, vfio bindings) the VMs depend on. */
  static GraphR intendedState(Map<String, DomainPlan> plans, Map<String, Vm> running, List<Item> ioItems) {
    return intendedState(plans, running, ioItems, Map.of());
  }

  /** The same, knowing which start of each VM's QEMU runs now (hot-plugged NICs belong to one start). */
  static GraphR intendedState(Map<String, DomainPlan> plans, Map<String, Vm> running, List<Item> ioItems,
      Map<String, Integer> qemuStarts) {
    List<Item> items = new ArrayList<>(ioItems);
    Set<String> parents = new TreeSet<>();
    plans.values().forEach(plan -> {
      Vm running0 = running.get(DomainPlanner.domainName(plan.uuid()));
      if (plan.activated() && plan.vm().isEmpty() && running0 != null) {
        // refused input (or zedrouter not caught up yet): the running VM stays as it is
        for (VmDefinition.Nic nic : running0.definition().nics()) {
          if (nic.attach() == VmDefinition.Attach.TAP) {
            items.add(new Tap(nic.ifName(), nic.mtu()));
          }
        }
        items.add(running0);
        return;
      }
      if (!plan.activated() || plan.vm().isEmpty()) {
        return;
      }
      for (PlannedNic nic : plan.nics()) {
        PlannedVif vif = nic.vif();
        if (nic.nic().attach() == VmDefinition.Attach.TAP) {
          items.add(new Tap(vif.getVifName(), nic.nic().mtu()));
        } else {
          if (parents.add(vif.getParentLink())) {
            items.add(new ParentLink(vif.getParentLink()));
          }
          items.add(new Macvtap(vif.getVifName(), vif.getParentLink(), LinkSpec.MacvlanMode.BRIDGE,
              nic.nic().mac().toString(), nic.nic().mtu()));
        }
      }
      Vm wanted = new Vm(plan.vm().get(), plan.app().getRestartCounter(),
          plan.nics().stream().map(nic -> nic.vif().getIpAddress()).toList());
      Vm booted = running.get(wanted.name());
      if (booted != null && DomainItems.onlyNicsAppended(booted, wanted)) {
        items.add(booted);
        List<VmDefinition.Nic> nics = wanted.definition().nics();
        for (int i = booted.definition().nics().size(); i < nics.size(); i++) {
          items.add(new DomainItems.HotNic(wanted.name(), i, nics.get(i), qemuStarts.getOrDefault(wanted.name(), 0)));
        }
      } else {
        items.add(wanted);
      }
    });
    return Graphs.newGraph(GraphSpec.named(NAME).describedAs("app domains: VIFs and VMs")
        .withItems(items.toArray(Item[]::new)));
  }

  /**
   * The macvtaps' parent links, from the inputs themselves: the runtime asks for them before the
   * intended state of the same reconcile, so the plans of the last run would be one run late.
   */
  @Override
  public List<ParentLink> externalItems() {
    Set<String> parents = new TreeSet<>();
    Set<String> own = new TreeSet<>();
    Map<String, AppVifPlan> planned = vifPlans.all();
    apps.all().keySet().forEach(uuid -> Optional.ofNullable(planned.get(uuid)).ifPresent(plan ->
        plan.getVifsList().forEach(vif -> {
          own.add(vif.getVifName());
          if (vif.getKind() == PlannedVif.Kind.KIND_MACVTAP) {
            parents.add(vif.getParentLink());
          }
        })));
    parentLinks = parents;
    ownLinks = own;
    return parents.stream().filter(p -> context.kernel().link(p).isPresent()).map(ParentLink::new).toList();
  }

  @Override
  public void reconciled(ReconcileOutcome outcome) {
    long now = context.loop().now().toEpochMilli();
    plans.forEach((uuid, plan) -> {
      Optional<VmConfigurator.VmRun> run = vms.run(DomainPlanner.domainName(uuid));
      boolean vmUp = outcome.current().item(ItemRef.of(Vm.TYPE, DomainPlanner.domainName(uuid))).isPresent()
          && run.map(r -> r.state() == VmConfigurator.VmRun.State.RUNNING).orElse(false);
      List<ErrorInfo> errors = new ArrayList<>();
      plan.errors().forEach(e -> errors.add(error(uuid, e, now)));
      outcome.failedItems().forEach((ref, why) -> {
        if (ref.equals(ItemRef.of(Vm.TYPE, DomainPlanner.domainName(uuid)))
            || plan.nics().stream().anyMatch(n -> n.vif().getVifName().equals(ref.name()))) {
          errors.add(error(uuid, new DomainError("DOMAIN_START_FAILED", ref + ": " + why), now));
        }
      });
      run.ifPresent(r -> exportLibvirt(r.booted().definition(), r.accel(), plan.nics()));
      io.failures(uuid, outcome)
          .forEach(why -> errors.add(error(uuid, new DomainError(AdapterIo.ADAPTER_FAILED, why), now)));
      run.filter(r -> r.state() != VmConfigurator.VmRun.State.RUNNING).flatMap(VmConfigurator.VmRun::lastProblem)
          .ifPresent(p -> errors.add(error(uuid, new DomainError("DOMAIN_DIED", p), now)));

      AppVifs.Builder created = AppVifs.newBuilder().setAppUuid(uuid);
      DomainStatus.Builder status = DomainStatus.newBuilder().setId(plan.app().getId())
          .setDomainName(DomainPlanner.domainName(uuid)).addAllErrors(errors);
      plan.vm().or(() -> run.map(r -> r.booted().definition()))
          .ifPresent(vm -> status.setConsoleLog(vm.serialLog().toString()));
      plan.vm().or(() -> run.map(r -> r.booted().definition()))
          .ifPresent(vm -> vm.passthrough().forEach(d -> status.addPassthroughAdapters(
              d.label().equals(d.address().value()) ? d.label() : d.address() + " (" + d.label() + ")")));
      run.ifPresent(r -> status.setRestarts(r.restarts()).setAccel(r.accel().name().toLowerCase()));
      for (PlannedNic nic : plan.nics()) {
        String type = nic.nic().attach() == VmDefinition.Attach.TAP ? Tap.TYPE : Macvtap.TYPE;
        Optional<Vm> vmItem = outcome.current().item(ItemRef.of(Vm.TYPE, DomainPlanner.domainName(uuid)))
            .map(e -> (Vm) e.item());
        boolean held = vmItem.map(v -> v.definition().nics().contains(nic.nic())).orElse(false)
            || outcome.current().item(ItemRef.of(DomainItems.HotNic.TYPE, nic.vif().getVifName())).isPresent();
        boolean tapExists = outcome.current().item(ItemRef.of(type, nic.vif().getVifName())).isPresent();
        int index = tapExists ? context.kernel().link(nic.vif().getVifName()).map(Link::index).orElse(0) : 0;
        status.addVifs(DomainVif.newBuilder().setName(nic.adapter().getName()).setVifName(nic.vif().getVifName())
            .setMac(nic.nic().mac().toString()).setNetworkInstance(nic.vif().getNetworkInstance())
            .setIpAddress(nic.vif().getIpAddress()).setModel(nic.nic().model().qemuName())
            .setReady(tapExists && held && vmUp));
        if (tapExists) {
          created.addVifs(CreatedVif.newBuilder().setVifName(nic.vif().getVifName()).setKind(nic.vif().getKind())
              .setMac(nic.nic().mac().toString()).setIfIndex(index).setReady(held && vmUp));
        }
      }
      status.setState(!plan.activated() ? DomainStatus.State.STATE_HALTED
          : !errors.isEmpty() ? DomainStatus.State.STATE_ERROR
          : vmUp ? DomainStatus.State.STATE_RUNNING : DomainStatus.State.STATE_BOOTING);
      domainStatus.publish(uuid, status.build());
      appVifs.publish(uuid, created.build());
    });
    for (String key : domainStatus.snapshot().keySet()) {
      if (!plans.containsKey(key)) {
        domainStatus.unpublish(key);
        removeAppFiles(key);
      }
    }
    for (String key : appVifs.snapshot().keySet()) {
      if (!plans.containsKey(key)) {
        appVifs.unpublish(key);
      }
    }
    io.publish();
    boolean vfCountFailed = outcome.failedItems().keySet().stream()
        .anyMatch(ref -> ref.type().equals(dev.verge.domainmgr.io.IoItems.VfCountItem.TYPE));
    if (!waitingForVfs.isEmpty() && !vfCountFailed) {
      context.requestReconcile("the VFs of " + waitingForVfs + " exist now");
    }
  }

  /**
   * A deleted app's disk overlay and cloud-init seed go with it (a restart keeps them: only the
   * app's removal ends its disk). QEMU may still be shutting down with a file open; unlinking is
   * safe then.
   */
  private void removeAppFiles(String uuid) {
    for (Path file : List.of(DomainPlanner.overlayPath(settings, uuid), DomainPlanner.seedPath(settings, uuid))) {
      try {
        if (java.nio.file.Files.deleteIfExists(file)) {
          LOG.info("domain {}: app deleted, its {} removed", uuid, file);
        }
      } catch (java.io.IOException e) {
        LOG.warn("domain {}: cannot remove its {}: {}", uuid, file, e.getMessage());
      }
    }
  }

  /** The VM as started, as libvirt domain XML next to its console log; a failure is only logged. */
  private static void exportLibvirt(VmDefinition vm, QemuCommand.Accel accel, List<PlannedNic> nics) {
    Map<String, LibvirtDomainXml.NicAttachment> attachments = new java.util.HashMap<>();
    nics.forEach(n -> attachments.put(n.vif().getVifName(), n.nic().attach() == VmDefinition.Attach.TAP
        ? new LibvirtDomainXml.OnBridge(n.vif().getBridge())
        : new LibvirtDomainXml.Direct(n.vif().getParentLink(), LinkSpec.MacvlanMode.BRIDGE)));
    LibvirtDomainXml.writeNextTo(vm, accel, attachments).ifPresent(LOG::warn);
  }

  private static ErrorInfo error(String uuid, DomainError error, long now) {
    return ErrorInfo.newBuilder().setReason(error.reason()).setDescription(error.description())
        .setSeverity(Severity.SEVERITY_ERROR).setTimestampMs(now)
        .addEntities(EntityRef.newBuilder().setType(EntityType.ENTITY_TYPE_APP).setId(uuid)).build();
  }

  /**
   * A VIF's tap. A tap the previous run left (a restart, a crash: its QEMU was ended by the
   * supervisor before the agents started) is adopted and reset rather than deleted and made again,
   * which with twenty VIFs held the kernel's RTNL for ~400 ms while zedrouter set its NIs up.
   */
  private static final class TapConfigurator extends LinkConfigurator implements LeftoverAdopter {
    TapConfigurator(NetworkStack net) {
      super(net);
    }

    @Override
    public void create(OpContext ctx, Item item) {
      net.createLink(item.name(), new LinkSpec.Tap());
      apply((Tap) item);
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      net.setMtu(newItem.name(), ((Tap) newItem).mtu());
    }

    /**
     * What a new tap would be: no addresses, the intent's MTU, up. Its bridge is left as it is: the
     * port is zedrouter's item, which attaches a leftover tap as soon as it sees it (and detaches
     * the ports of the bridges it adopts), so clearing it here would undo zedrouter's work.
     */
    @Override
    public boolean adoptLeftover(OpContext ctx, Item item) {
      Optional<Link> found = net.link(item.name());
      if (found.isEmpty() || !found.get().kind().equals("tun")) {
        return false;
      }
      for (Address address : net.addresses(item.name())) {
        LeftoverAdopter.ignoringGone(() -> net.deleteAddress(item.name(), address.prefix()));
      }
      apply((Tap) item);
      return true;
    }

    private void apply(Tap tap) {
      net.setMtu(tap.name(), tap.mtu());
      net.setUp(tap.name(), true);
    }
  }

  /** Links domainmgr creates: deleted on Delete, MTU on Modify. */
  private abstract static class LinkConfigurator implements Configurator {
    final NetworkStack net;

    LinkConfigurator(NetworkStack net) {
      this.net = net;
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      throw new UnsupportedOperationException(newItem.type() + " is recreated, never modified");
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      net.deleteLink(item.name());
    }
  }
}
