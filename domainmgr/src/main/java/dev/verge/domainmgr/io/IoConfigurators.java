package dev.verge.domainmgr.io;

import dev.verge.domainmgr.io.IoItems.VfCountItem;
import dev.verge.domainmgr.io.IoItems.VfSettingsItem;
import dev.verge.domainmgr.io.IoItems.VfioBinding;
import dev.verge.domainmgr.io.IoItems.VirtualFunction;
import dev.verge.hostos.Errno;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.VfSettings;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;

/** The configurators of {@link IoItems}, on a {@link Host}'s sysfs and netlink. */
public final class IoConfigurators {
  /** The driver a device is bound to while an app has it. */
  public static final String VFIO = "vfio-pci";
  /** EVE waits this long for the virtfn links; VF creation is quick on every NIC seen since. */
  public static final Duration VF_WAIT = Duration.ofSeconds(30);
  private static final MacAddress NO_MAC = MacAddress.of("00:00:00:00:00:00");

  private IoConfigurators() {}

  /** Registers the three configurators (for an agent: {@code context::configure}). */
  public static void register(BiConsumer<String, Configurator> registry, Host host, Duration vfWait) {
    registry.accept(VfCountItem.TYPE, new VfCountConfigurator(host, vfWait));
    registry.accept(VfSettingsItem.TYPE, new VfSettingsConfigurator(host));
    registry.accept(VfioBinding.TYPE, new VfioConfigurator(host));
  }

  /** sriov_numvfs, the wait for the VFs to show, and the PF up (as EVE does). */
  record VfCountConfigurator(Host host, Duration vfWait) implements Configurator {
    @Override
    public void create(OpContext ctx, Item item) {
      VfCountItem count = (VfCountItem) item;
      host.sysfs().setNumVfs(count.pf(), count.count());
      host.sysfs().awaitVirtualFunctions(count.pf(), count.count(), vfWait);
      host.network().setUp(count.pfInterface(), true); // a VF has no link while its PF is down
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      create(ctx, newItem);
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      host.sysfs().setNumVfs(((VfCountItem) item).pf(), 0);
    }
  }

  /** The VF's MAC and VLAN through the PF's link; deleting clears them so no next user inherits them. */
  record VfSettingsConfigurator(Host host) implements Configurator {
    @Override
    public void create(OpContext ctx, Item item) {
      VfSettingsItem vf = (VfSettingsItem) item;
      VfSettings settings = VfSettings.of(vf.index()).withVlan(vf.vlan()).withSpoofCheck(true).withTrust(false);
      host.network().setVf(vf.pfInterface(), vf.mac().map(settings::withMac).orElse(settings));
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      VfSettingsItem vf = (VfSettingsItem) newItem;
      if (vf.mac().isEmpty() && ((VfSettingsItem) oldItem).mac().isPresent()) {
        host.network().setVf(vf.pfInterface(), VfSettings.of(vf.index()).withMac(NO_MAC));
      }
      create(ctx, newItem);
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      VfSettingsItem vf = (VfSettingsItem) item;
      host.network().setVf(vf.pfInterface(), VfSettings.of(vf.index()).withMac(NO_MAC).withVlan(0));
    }
  }

  /**
   * vfio-pci binding through driver_override, unbind and drivers_probe; release gives the device
   * back to its own driver. A VF's IOMMU group is only known once it exists, so it is checked here:
   * a VF goes alone or not at all.
   */
  record VfioConfigurator(Host host) implements Configurator {
    @Override
    public void create(OpContext ctx, Item item) {
      VfioBinding binding = (VfioBinding) item;
      PciAddress address = binding.device().resolve(host.sysfs());
      if (binding.device() instanceof VirtualFunction) {
        requireAloneInIommuGroup(binding, address);
      }
      try {
        host.sysfs().bindDriver(address, VFIO);
      } catch (RuntimeException refused) {
        // a failed bind may leave the device without a driver (or a NIC without its interface)
        try {
          host.sysfs().releaseDriver(address);
        } catch (RuntimeException notReleased) {
          refused.addSuppressed(notReleased);
        }
        throw refused;
      }
    }

    private void requireAloneInIommuGroup(VfioBinding binding, PciAddress address) {
      PciDevice vf = host.sysfs().pciDevice(address)
          .orElseThrow(() -> new HostException("bind", binding.name(), Errno.ENODEV, "no PCI device " + address));
      int group = vf.iommuGroup().orElseThrow(() -> new HostException("bind", binding.name(), Errno.EINVAL,
          address + " has no IOMMU group: is the IOMMU on?"));
      List<PciAddress> others = host.sysfs().iommuGroupMembers(group).stream()
          .filter(member -> !member.equals(address)).toList();
      if (!others.isEmpty()) {
        throw new HostException("bind", binding.name(), Errno.EBUSY,
            "IOMMU group " + group + " of " + address + " also holds " + others + ": a VF is passed through alone");
      }
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      // another app taking the same device: it stays bound to vfio-pci
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      VfioBinding binding = (VfioBinding) item;
      host.sysfs().releaseDriver(binding.device().resolve(host.sysfs()));
    }
  }
}
