package dev.verge.domainmgr;

import dev.verge.domainmgr.VmDefinition.Attach;
import dev.verge.domainmgr.VmDefinition.DiskFormat;
import dev.verge.domainmgr.VmDefinition.NicModel;
import dev.verge.hostos.MacAddress;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BootSource;
import dev.verge.proto.config.v1.DiskBoot;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.PlannedVif;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * The pure part of domainmgr: from the app configs and zedrouter's VIF plans, each app's VM
 * definition, or the precise reasons it cannot run. Apps are planned in UUID order, so when two
 * apps compete (a MAC, the host's memory) the earlier keeps what it has and the later is refused.
 */
public final class DomainPlanner {

  /**
   * Where domainmgr keeps its files and how much the host can give.
   *
   * @param domainsDir per-app directories (serial console, disk overlay)
   * @param imageStore images named by content hash ({@code <sha256>})
   * @param hostMemoryMb the host's RAM; apps get what is left after {@code reservedMemoryMb}
   */
  public record Settings(Path domainsDir, Path imageStore, long hostMemoryMb, long reservedMemoryMb) {}

  /** Why an app cannot run: a machine-readable reason and a sentence naming the values involved. */
  public record DomainError(String reason, String description) {
    @Override
    public String toString() {
      return reason + ": " + description;
    }
  }

  /** One VIF of an app as planned: the adapter, zedrouter's plan for it. */
  public record PlannedNic(NetworkAdapter adapter, PlannedVif vif, VmDefinition.Nic nic) {}

  /** An app's plan: its VM when it can run, else why not. */
  public record DomainPlan(
      String uuid, AppInstanceConfig app, Optional<VmDefinition> vm, List<PlannedNic> nics, List<DomainError> errors) {
    public DomainPlan {
      nics = List.copyOf(nics);
      errors = List.copyOf(errors);
    }

    public boolean activated() {
      return app.getActivate();
    }
  }

  private DomainPlanner() {}

  /** The domain name of an app: its UUID (unique, stable, a valid file and daemon name). */
  public static String domainName(String appUuid) {
    return appUuid;
  }

  public static Map<String, DomainPlan> plan(
      SortedMap<String, AppInstanceConfig> apps, Map<String, AppVifPlan> vifPlans, Settings settings) {
    Map<String, DomainPlan> plans = new LinkedHashMap<>();
    Map<MacAddress, String> macOwners = new HashMap<>();
    long memoryLeft = settings.hostMemoryMb() - settings.reservedMemoryMb();
    for (var entry : apps.entrySet()) {
      String uuid = entry.getKey();
      AppInstanceConfig app = entry.getValue();
      List<DomainError> errors = new ArrayList<>();
      List<PlannedNic> nics = planNics(app, vifPlans.get(uuid), errors);
      for (PlannedNic nic : nics) {
        String owner = macOwners.putIfAbsent(nic.nic().mac(), uuid);
        if (owner != null && !owner.equals(uuid)) {
          errors.add(new DomainError("DUPLICATE_MAC", "adapter " + nic.adapter().getName() + ": MAC " + nic.nic().mac() + " is already used by app " + owner));
        } else if (owner != null) {
          errors.add(new DomainError("DUPLICATE_MAC", "adapter " + nic.adapter().getName() + ": MAC " + nic.nic().mac() + " is used twice in this app"));
        }
      }
      long memory = app.getMemoryMb() == 0 ? 256 : app.getMemoryMb();
      if (app.getActivate() && errors.isEmpty() && memory > memoryLeft) {
        errors.add(new DomainError("INSUFFICIENT_MEMORY", "memory " + memory + " MiB is more than the host can give: " + Math.max(memoryLeft, 0)
            + " MiB left of " + settings.hostMemoryMb() + " MiB (" + settings.reservedMemoryMb() + " MiB kept for the host)"));
      }
      Optional<VmDefinition.BootSource> boot = bootSource(uuid, app, settings, errors);
      Optional<VmDefinition> vm = Optional.empty();
      if (errors.isEmpty() && boot.isPresent()) {
        try {
          vm = Optional.of(new VmDefinition(domainName(uuid), uuid, (int) memory, app.getVcpus() == 0 ? 1 : (int) app.getVcpus(),
              boot.get(), nics.stream().map(PlannedNic::nic).toList(),
              settings.domainsDir().resolve(uuid).resolve("console.log"), List.of(), seed(uuid, app, settings)));
        } catch (IllegalArgumentException e) {
          errors.add(new DomainError("INVALID_DOMAIN", e.getMessage()));
        }
      }
      if (vm.isPresent() && app.getActivate()) {
        memoryLeft -= memory;
      }
      plans.put(uuid, new DomainPlan(uuid, app, vm, nics, errors));
    }
    return plans;
  }

  /** The app's NICs in its adapter order, matched to zedrouter's plan by position. */
  private static List<PlannedNic> planNics(AppInstanceConfig app, AppVifPlan plan, List<DomainError> errors) {
    List<PlannedNic> nics = new ArrayList<>();
    if (app.getInterfacesCount() == 0) {
      return nics;
    }
    if (plan == null) {
      errors.add(new DomainError("NO_VIF_PLAN", "no VIF plan from zedrouter yet for " + app.getInterfacesCount()
          + " adapter(s): their network instances are unknown or not ready"));
      return nics;
    }
    for (int i = 0; i < app.getInterfacesCount(); i++) {
      NetworkAdapter adapter = app.getInterfaces(i);
      Optional<PlannedVif> vif = i < plan.getVifsCount() && plan.getVifs(i).getNetworkInstance().equals(adapter.getNetworkId())
          ? Optional.of(plan.getVifs(i))
          : plan.getVifsList().stream().filter(v -> v.getNetworkInstance().equals(adapter.getNetworkId())
              && nics.stream().noneMatch(n -> n.vif().getVifName().equals(v.getVifName()))).findFirst();
      if (vif.isEmpty()) {
        errors.add(new DomainError("UNKNOWN_NETWORK_INSTANCE", "adapter " + adapter.getName() + ": zedrouter planned no VIF on network instance "
            + adapter.getNetworkId() + " (unknown or not ready)"));
        continue;
      }
      try {
        PlannedVif v = vif.get();
        Attach attach = v.getKind() == PlannedVif.Kind.KIND_MACVTAP ? Attach.MACVTAP : Attach.TAP;
        NicModel model = adapter.getModel() == NetworkAdapter.Model.MODEL_E1000 ? NicModel.E1000 : NicModel.VIRTIO_NET_PCI;
        nics.add(new PlannedNic(adapter, v,
            new VmDefinition.Nic(v.getVifName(), attach, MacAddress.of(v.getMac()), model, v.getMtu() == 0 ? 1500 : v.getMtu())));
      } catch (IllegalArgumentException e) {
        errors.add(new DomainError("INVALID_VIF", "adapter " + adapter.getName() + ": " + e.getMessage()));
      }
    }
    return nics;
  }

  /** The app's NoCloud seed disk, when it has user data. */
  private static Optional<VmDefinition.CloudInitSeed> seed(String uuid, AppInstanceConfig app, Settings settings) {
    if (app.getUserData().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new VmDefinition.CloudInitSeed(seedPath(settings, uuid), app.getUserData(), uuid,
        VmDefinition.CloudInitSeed.hostnameOf(app.getDisplayName(), uuid)));
  }

  /** The app's cloud-init seed disk image, next to its console log. */
  static Path seedPath(Settings settings, String uuid) {
    return settings.domainsDir().resolve(uuid).resolve("seed.img");
  }

  /** The app's copy-on-write layer over its disk image. */
  static Path overlayPath(Settings settings, String uuid) {
    return settings.domainsDir().resolve(uuid).resolve("overlay.qcow2");
  }

  /** A path of the config: absolute as given, relative under the image store (the validator refused ".."). */
  static Path imagePath(String configured, Settings settings) {
    return settings.imageStore().resolve(configured);
  }

  private static Optional<VmDefinition.BootSource> bootSource(
      String uuid, AppInstanceConfig app, Settings settings, List<DomainError> errors) {
    BootSource boot = app.getBoot();
    switch (boot.getSourceCase()) {
      case KERNEL -> {
        var k = boot.getKernel();
        if (k.getKernel().isEmpty()) {
          errors.add(new DomainError("NO_BOOT_SOURCE", "boot.kernel: no kernel path"));
          return Optional.empty();
        }
        return Optional.of(new VmDefinition.KernelBoot(imagePath(k.getKernel(), settings),
            k.getInitrd().isEmpty() ? Optional.empty() : Optional.of(imagePath(k.getInitrd(), settings)), k.getCmdline()));
      }
      case DISK -> {
        DiskBoot d = boot.getDisk();
        Path base = d.getPath().isEmpty() ? settings.imageStore().resolve(d.getSha256()) : imagePath(d.getPath(), settings);
        DiskFormat format = d.getFormat() == DiskBoot.Format.FORMAT_RAW ? DiskFormat.RAW : DiskFormat.QCOW2;
        return Optional.of(new VmDefinition.DiskBoot(base, format,
            d.getSha256().isEmpty() ? Optional.empty() : Optional.of(d.getSha256()),
            overlayPath(settings, uuid)));
      }
      default -> {
        errors.add(new DomainError("NO_BOOT_SOURCE", "no boot source: the app config names neither a disk image nor a kernel"));
        return Optional.empty();
      }
    }
  }
}
