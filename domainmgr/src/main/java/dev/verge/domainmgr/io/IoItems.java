package dev.verge.domainmgr.io;

import dev.verge.domainmgr.io.AdapterAssignments.AppDevices;
import dev.verge.domainmgr.io.AdapterAssignments.AssignedVf;
import dev.verge.domainmgr.io.AdapterAssignments.VfCount;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.Sysfs;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ValueItem;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The items of the I/O half of domainmgr's graph: VF counts on PFs, VF settings through the PF, and
 * devices bound to vfio-pci for an app. They come from an {@link AdapterAssignments} plan.
 */
public final class IoItems {
  private IoItems() {}

  /** The number of VFs of a PF (sriov_numvfs). */
  public record VfCountItem(PciAddress pf, String pfInterface, int count) implements ValueItem {
    public static final String TYPE = "SriovVfCount";

    @Override
    public String name() {
      return pf.value();
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** The MAC and VLAN one app's VF gets, set through the PF; spoof check on, not trusted. */
  public record VfSettingsItem(PciAddress pf, String pfInterface, int index, Optional<MacAddress> mac, int vlan,
      String app) implements ValueItem {
    public static final String TYPE = "SriovVf";

    @Override
    public String name() {
      return vfName(pf, index);
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      // a new VF count recreates every VF (the kernel goes through 0), so their settings go too
      return List.of(Dependency.on(VfCountItem.TYPE, pf.value())
          .satisfying(count -> ((VfCountItem) count).count() > index)
          .recreatedWhenModified()
          .describedAs("the PF must have VF " + index));
    }
  }

  /** A device to bind: a PCI function by address, or VF {@code index} of a PF (known once the VFs exist). */
  public sealed interface DeviceRef {
    String name();

    /** The device's address now. */
    PciAddress resolve(Sysfs sysfs);
  }

  public record PciFunction(PciAddress address) implements DeviceRef {
    @Override
    public String name() {
      return address.value();
    }

    @Override
    public PciAddress resolve(Sysfs sysfs) {
      return address;
    }
  }

  public record VirtualFunction(PciAddress pf, int index) implements DeviceRef {
    @Override
    public String name() {
      return vfName(pf, index);
    }

    @Override
    public PciAddress resolve(Sysfs sysfs) {
      List<PciAddress> vfs = sysfs.pciDevice(pf).map(PciDevice::virtualFunctions).orElse(List.of());
      if (index >= vfs.size()) {
        throw new HostException("find", name(), Errno.ENODEV, pf + " has " + vfs.size() + " VFs");
      }
      return vfs.get(index);
    }
  }

  /** A device bound to vfio-pci for an app; deleting it gives the device back to its own driver. */
  public record VfioBinding(DeviceRef device, String app) implements ValueItem {
    public static final String TYPE = "VfioBinding";

    @Override
    public String name() {
      return device.name();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      if (device instanceof VirtualFunction vf) {
        return List.of(Dependency.on(VfSettingsItem.TYPE, vf.name()).recreatedWhenModified()
            .describedAs("the VF gets its MAC and VLAN before it leaves the host"));
      }
      return List.of();
    }
  }

  /**
   * The items of a plan: every PF's VF count, and for each app in {@code running} that got its
   * adapters, its VF settings and vfio bindings. An app that stops drops out, so its devices go back.
   */
  public static List<Item> of(AdapterAssignments plan, Collection<String> running) {
    List<Item> items = new ArrayList<>();
    for (VfCount count : plan.vfCounts()) {
      items.add(new VfCountItem(count.pf(), count.pfInterface(), count.count()));
    }
    for (AppDevices app : plan.apps().values()) {
      if (app.refused() || !running.contains(app.app())) {
        continue;
      }
      for (AssignedVf vf : app.vfs()) {
        items.add(new VfSettingsItem(vf.pf(), vf.pfInterface(), vf.index(), vf.mac(), vf.vlan(), app.app()));
        items.add(new VfioBinding(new VirtualFunction(vf.pf(), vf.index()), app.app()));
      }
      for (PciAddress device : app.passthrough()) {
        items.add(new VfioBinding(new PciFunction(device), app.app()));
      }
    }
    return items;
  }

  static String vfName(PciAddress pf, int index) {
    return pf.value() + "/vf" + index;
  }
}
