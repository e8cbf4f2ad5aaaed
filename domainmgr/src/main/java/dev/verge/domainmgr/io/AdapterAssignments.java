package dev.verge.domainmgr.io;

import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.EthVf;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.info.v1.AdapterBundle;
import dev.verge.proto.info.v1.AssignableAdapters;
import dev.verge.topics.v1.Port;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which app gets which device: a pure function of the I/O inventory and the apps' requested
 * adapters. An app gets all it asked for or nothing (with its errors); a refusal of one app never
 * changes what another gets.
 *
 * @param apps every app that asked for adapters, by UUID
 * @param vfCounts the PFs whose VFs the device makes, by PF address
 * @param status the AssignableAdapters report: each adapter, free or used by which app, errors
 */
public record AdapterAssignments(Map<String, AppDevices> apps, List<VfCount> vfCounts, AssignableAdapters status) {
  public AdapterAssignments {
    apps = Map.copyOf(apps);
    vfCounts = List.copyOf(vfCounts);
  }

  /** The devices one app gets, or why it gets none. */
  public record AppDevices(String app, List<PciAddress> passthrough, List<AssignedVf> vfs, List<String> errors) {
    public AppDevices {
      passthrough = List.copyOf(passthrough);
      vfs = List.copyOf(vfs);
      errors = List.copyOf(errors);
    }

    public boolean refused() {
      return !errors.isEmpty();
    }
  }

  /** A VF an app gets, with the MAC and VLAN set on it through its PF. */
  public record AssignedVf(PciAddress pf, String pfInterface, int index, Optional<MacAddress> mac, int vlan) {}

  /** How many VFs a PF has. */
  public record VfCount(PciAddress pf, String pfInterface, int count) {}

  /**
   * Plans the assignments.
   *
   * @param previousOwners who held each adapter before (assignment group or {@code <pf>vf<i>} → app
   *     UUID): a holder keeps its adapters when a newcomer asks for them too
   */
  public static AdapterAssignments plan(IoInventory inventory, List<AppInstanceConfig> apps,
      Map<String, String> previousOwners) {
    return new Planner(inventory, previousOwners).plan(apps);
  }

  private static final class Planner {
    private final IoInventory inventory;
    private final Map<String, String> previousOwners;
    private final Map<String, String> pfErrors = new HashMap<>();
    private final Map<String, VfCount> vfCounts = new TreeMap<>();
    /** Adapter key (assignment group, or PF label + "vf" + index) → app. */
    private final Map<String, String> owners = new HashMap<>();
    private final Map<PciAddress, String> deviceOwners = new HashMap<>();
    private final Map<MacAddress, String> vfMacs = new HashMap<>();

    Planner(IoInventory inventory, Map<String, String> previousOwners) {
      this.inventory = inventory;
      this.previousOwners = previousOwners;
    }

    AdapterAssignments plan(List<AppInstanceConfig> apps) {
      for (PhysicalIo io : inventory.physicalIo()) {
        if (io.getType() == PhysicalIo.Type.TYPE_ETH_PF && io.getVfList().getVfCount() > 0) {
          planVfCount(io);
        }
      }
      Set<String> holders = Set.copyOf(previousOwners.values());
      List<AppInstanceConfig> ordered = apps.stream()
          .filter(app -> app.getAdaptersCount() > 0)
          .sorted(Comparator.comparing((AppInstanceConfig app) -> !holders.contains(uuid(app)))
              .thenComparing(AdapterAssignments::uuid))
          .toList();
      Map<String, AppDevices> planned = new LinkedHashMap<>();
      for (AppInstanceConfig app : ordered) {
        planned.put(uuid(app), planApp(app));
      }
      return new AdapterAssignments(planned, List.copyOf(vfCounts.values()), status());
    }

    private void planVfCount(PhysicalIo pf) {
      int count = pf.getVfList().getVfCount();
      Optional<PciDevice> device = inventory.pciDeviceOf(pf);
      Optional<String> netInterface = inventory.interfaceOf(pf);
      if (device.isEmpty()) {
        pfErrors.put(pf.getPhyLabel(), "no PCI device for " + where(pf));
      } else if (device.get().totalVfs() == 0) {
        pfErrors.put(pf.getPhyLabel(), pf.getPhyLabel() + " (" + device.get().address() + ") has no SR-IOV");
      } else if (count > device.get().totalVfs()) {
        pfErrors.put(pf.getPhyLabel(), pf.getPhyLabel() + " asks for " + count + " VFs but "
            + device.get().address() + " supports at most " + device.get().totalVfs() + " (sriov_totalvfs)");
      } else if (netInterface.isEmpty()) {
        pfErrors.put(pf.getPhyLabel(), pf.getPhyLabel() + " has no network interface to set its VFs through");
      } else {
        vfCounts.put(pf.getPhyLabel(), new VfCount(device.get().address(), netInterface.get(), count));
      }
    }

    /** One app's adapters, claimed only when all of them can be given. */
    private AppDevices planApp(AppInstanceConfig app) {
      String uuid = uuid(app);
      List<String> errors = new ArrayList<>();
      Set<PciAddress> devices = new TreeSet<>(Comparator.comparing(PciAddress::value));
      List<AssignedVf> vfs = new ArrayList<>();
      Map<String, String> keys = new LinkedHashMap<>();
      Map<MacAddress, String> macs = new HashMap<>();
      for (Adapter adapter : app.getAdaptersList()) {
        if (adapter.getIsVf()) {
          planVf(uuid, adapter, errors, vfs, keys, macs);
        } else {
          planPassthrough(uuid, adapter, errors, devices, keys);
        }
      }
      for (PciAddress device : devices) {
        String owner = deviceOwners.get(device);
        if (owner != null) {
          errors.add(device + " is already assigned to app " + owner);
        }
      }
      if (!errors.isEmpty()) {
        return new AppDevices(uuid, List.of(), List.of(), errors);
      }
      keys.keySet().forEach(key -> owners.put(key, uuid));
      devices.forEach(device -> deviceOwners.put(device, uuid));
      vfMacs.putAll(macs);
      return new AppDevices(uuid, List.copyOf(devices), vfs, List.of());
    }

    private void planVf(String app, Adapter adapter, List<String> errors, List<AssignedVf> vfs,
        Map<String, String> keys, Map<MacAddress, String> macs) {
      String name = adapter.getName();
      Optional<PhysicalIo> pf = inventory.physicalIo().stream()
          .filter(io -> io.getType() == PhysicalIo.Type.TYPE_ETH_PF)
          .filter(io -> io.getPhyLabel().equals(name) || io.getLogicalLabel().equals(name))
          .findFirst();
      if (pf.isEmpty()) {
        errors.add("adapter " + name + ": no SR-IOV physical function " + name);
        return;
      }
      String label = pf.get().getPhyLabel();
      int index = adapter.getEthVfIndex();
      String vfName = "VF " + index + " of " + label;
      if (pfErrors.containsKey(label)) {
        errors.add(vfName + ": " + pfErrors.get(label));
        return;
      }
      int count = pf.get().getVfList().getVfCount();
      if (index >= count) {
        errors.add(vfName + " is out of range: " + label + " has " + count + " VFs"
            + (count == 0 ? "" : " (0.." + (count - 1) + ")"));
        return;
      }
      String key = vfKey(label, index);
      if (owners.containsKey(key) || keys.containsKey(key)) {
        errors.add(vfName + " is already assigned to app " + owners.getOrDefault(key, app));
        return;
      }
      Optional<EthVf> defaults = pf.get().getVfList().getVfsList().stream()
          .filter(vf -> vf.getIndex() == index).findFirst();
      String macText = !adapter.getVfMac().isEmpty() ? adapter.getVfMac() : defaults.map(EthVf::getMac).orElse("");
      int vlan = adapter.getVfVlanId() != 0 ? adapter.getVfVlanId() : defaults.map(EthVf::getVlanId).orElse(0);
      if (vlan > 4094) {
        errors.add(vfName + ": VLAN " + vlan + " is out of 1..4094");
        return;
      }
      Optional<MacAddress> mac = Optional.empty();
      if (!macText.isEmpty()) {
        try {
          mac = Optional.of(MacAddress.of(macText));
        } catch (IllegalArgumentException e) {
          errors.add(vfName + ": " + e.getMessage());
          return;
        }
        String user = vfMacs.getOrDefault(mac.get(), macs.get(mac.get()));
        if (user != null) {
          errors.add("MAC " + mac.get() + " of " + vfName + " is already used by " + user);
          return;
        }
        macs.put(mac.get(), vfName + " (app " + app + ")");
      }
      keys.put(key, app);
      VfCount pfCount = vfCounts.get(label);
      vfs.add(new AssignedVf(pfCount.pf(), pfCount.pfInterface(), index, mac, vlan));
    }

    private void planPassthrough(String app, Adapter adapter, List<String> errors, Set<PciAddress> devices,
        Map<String, String> keys) {
      String name = adapter.getName();
      Optional<String> group = groupNamed(name);
      if (group.isEmpty()) {
        boolean known = inventory.physicalIo().stream()
            .anyMatch(io -> io.getPhyLabel().equals(name) || io.getLogicalLabel().equals(name));
        errors.add(known ? "adapter " + name + " has no assignment group: it cannot be passed through"
            : "unknown adapter " + name);
        return;
      }
      String owner = owners.get(group.get());
      if (owner != null) {
        errors.add("adapter " + name + " (assignment group " + group.get() + ") is already assigned to app " + owner);
        return;
      }
      for (PhysicalIo member : members(group.get())) {
        Optional<String> hostUse = hostUse(member);
        if (hostUse.isPresent()) {
          errors.add(hostUse.get());
          continue;
        }
        PciDevice device = inventory.pciDeviceOf(member).orElseThrow();
        String holder = deviceOwners.get(device.address());
        if (holder != null) {
          errors.add(member.getPhyLabel() + " (" + device.address() + ") is already passed through to app " + holder
              + " with IOMMU group " + device.iommuGroup().orElseThrow());
          continue;
        }
        for (PciDevice sibling : inventory.iommuGroupOf(device)) {
          if (sibling.bridge()) {
            continue; // the group's bridge stays with its driver: vfio-pci refuses bridges, vfio allows them
          }
          siblingConflict(app, member, device, sibling).ifPresentOrElse(errors::add,
              () -> devices.add(sibling.address()));
        }
      }
      keys.put(group.get(), app);
    }

    /** Why an IOMMU-group sibling cannot go with the device, if it cannot. */
    private Optional<String> siblingConflict(String app, PhysicalIo member, PciDevice device, PciDevice sibling) {
      if (sibling.address().equals(device.address())) {
        return Optional.empty();
      }
      String prefix = "IOMMU group " + device.iommuGroup().orElseThrow() + " of " + member.getPhyLabel()
          + " (" + device.address() + ") also holds " + sibling.address();
      Optional<Port> port = inventory.hostPortOn(sibling);
      if (port.isPresent()) {
        return Optional.of(prefix + " (" + port.get().getIfName() + "), a port the host uses");
      }
      String owner = deviceOwners.get(sibling.address());
      if (owner != null && !owner.equals(app)) {
        return Optional.of(prefix + ", assigned to app " + owner);
      }
      return Optional.empty();
    }

    /** Why a device stays with the host whatever the apps ask, if it does. */
    private Optional<String> hostUse(PhysicalIo io) {
      String label = io.getPhyLabel();
      if (io.getUsage() == PhysicalIo.Usage.USAGE_MGMT_AND_APPS || io.getUsage() == PhysicalIo.Usage.USAGE_MGMT_ONLY) {
        return Optional.of(label + " is a management port: it stays with the host");
      }
      if (io.getType() == PhysicalIo.Type.TYPE_ETH_PF && io.getVfList().getVfCount() > 0) {
        return Optional.of(label + " is an SR-IOV physical function with VFs: it stays with the host");
      }
      Optional<PciDevice> device = inventory.pciDeviceOf(io);
      if (device.isEmpty()) {
        return Optional.of("no PCI device for " + where(io));
      }
      Optional<Port> port = inventory.hostPortOn(device.get());
      if (port.isPresent()) {
        return Optional.of(label + " (" + port.get().getIfName() + ") is "
            + (port.get().getUsage() == Port.Usage.USAGE_MANAGEMENT ? "a management port" : "an uplink the host uses")
            + ": it stays with the host");
      }
      if (device.get().iommuGroup().isEmpty()) {
        return Optional.of(label + " (" + device.get().address() + ") has no IOMMU group: is the IOMMU on?");
      }
      return Optional.empty();
    }

    private Optional<String> groupNamed(String name) {
      if (inventory.physicalIo().stream().anyMatch(io -> io.getAssignGroup().equals(name))) {
        return Optional.of(name);
      }
      return inventory.physicalIo().stream()
          .filter(io -> io.getPhyLabel().equals(name) || io.getLogicalLabel().equals(name))
          .map(PhysicalIo::getAssignGroup)
          .filter(group -> !group.isEmpty())
          .findFirst();
    }

    private List<PhysicalIo> members(String group) {
      return inventory.physicalIo().stream().filter(io -> io.getAssignGroup().equals(group)).toList();
    }

    private AssignableAdapters status() {
      AssignableAdapters.Builder status = AssignableAdapters.newBuilder();
      for (PhysicalIo io : inventory.physicalIo()) {
        Optional<PciDevice> device = inventory.pciDeviceOf(io);
        AdapterBundle.Builder bundle = AdapterBundle.newBuilder()
            .setType(io.getType().name())
            .setName(io.getPhyLabel())
            .setAssignGroup(io.getAssignGroup())
            .setUsage(io.getUsage().name())
            .setUsedByAppUuid(owners.getOrDefault(io.getAssignGroup(), ""));
        device.ifPresent(d -> {
          // passed through as another group's IOMMU sibling
          Optional.ofNullable(deviceOwners.get(d.address())).ifPresent(bundle::setUsedByAppUuid);
          bundle.setPciAddress(d.address().value());
          inventory.iommuGroupOf(d).forEach(m -> bundle.addMembers(m.address().value()));
        });
        Optional.ofNullable(pfErrors.get(io.getPhyLabel())).or(() -> hostUseError(io))
            .ifPresent(text -> bundle.setError(ErrorInfo.newBuilder().setDescription(text)));
        status.addAdapters(bundle);
        VfCount count = vfCounts.get(io.getPhyLabel());
        for (int index = 0; count != null && index < count.count(); index++) {
          String key = vfKey(io.getPhyLabel(), index);
          status.addAdapters(AdapterBundle.newBuilder()
              .setType(PhysicalIo.Type.TYPE_ETH_VF.name())
              .setName(key)
              .setAssignGroup(key)
              .setVfIndex(index)
              .setUsage(PhysicalIo.Usage.USAGE_DEDICATED.name())
              .setUsedByAppUuid(owners.getOrDefault(key, "")));
        }
      }
      return status.build();
    }

    /** Only what makes the adapter unusable by any app (not the usage a PF with VFs has by design). */
    private Optional<String> hostUseError(PhysicalIo io) {
      if (io.getAssignGroup().isEmpty() || io.getType() == PhysicalIo.Type.TYPE_ETH_PF) {
        return Optional.empty();
      }
      return hostUse(io).filter(text -> !text.endsWith("stays with the host"));
    }
  }

  static String vfKey(String pfLabel, int index) {
    return pfLabel + "vf" + index;
  }

  private static String where(PhysicalIo io) {
    Map<String, String> addresses = new TreeMap<>(io.getPhyAddrsMap());
    return io.getPhyLabel() + (addresses.isEmpty() ? "" : " " + addresses);
  }

  private static String uuid(AppInstanceConfig app) {
    return app.getId().getUuid();
  }

  /** Who holds what now, to pass as {@code previousOwners} to the next plan. */
  public Map<String, String> owners() {
    Map<String, String> held = new HashMap<>();
    for (AdapterBundle bundle : status.getAdaptersList()) {
      if (!bundle.getUsedByAppUuid().isEmpty()) {
        held.put(bundle.getAssignGroup(), bundle.getUsedByAppUuid());
      }
    }
    return held;
  }
}
