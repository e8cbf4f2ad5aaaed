package dev.verge.domainmgr;

import dev.verge.agent.KernelBacked;
import dev.verge.agent.KernelView;
import dev.verge.hostos.LinkSpec;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.ValueItem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The items of domainmgr's graph, named after what they stand for. */
public final class DomainItems {
  private DomainItems() {}

  /** A persistent tap for one VIF, under the name zedrouter chose; zedrouter puts it on the bridge. */
  public record Tap(String name, int mtu) implements ValueItem, KernelBacked {
    public static final String TYPE = "Tap";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<Tap> observe(KernelView kernel) {
      return kernel.link(name).filter(l -> l.kind().equals(new LinkSpec.Tap().kind())).map(l -> new Tap(name, l.mtu()));
    }
  }

  /** A macvtap for one VIF on a parent link it does not own; it goes when the parent goes. */
  public record Macvtap(String name, String parent, LinkSpec.MacvlanMode mode, String mac, int mtu)
      implements ValueItem, KernelBacked {
    public static final String TYPE = "Macvtap";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(ParentLink.TYPE, parent).autoDeletedWithExternal()
          .describedAs("a macvtap sits on its parent link"));
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<Macvtap> observe(KernelView kernel) {
      return kernel.link(name).filter(l -> l.kind().equals("macvtap"))
          .map(l -> new Macvtap(name, parent, mode, l.mac() == null ? mac : l.mac().toString(), l.mtu()));
    }
  }

  /** A link domainmgr does not own (a macvtap's parent): only satisfies dependencies. */
  public record ParentLink(String name) implements ValueItem {
    public static final String TYPE = "ParentLink";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public boolean external() {
      return true;
    }
  }

  /**
   * A running VM. Equal definitions (and restart counters) mean no restart: only a change of what
   * QEMU was started with, a bumped restart counter, or a changed planned address recreates it.
   *
   * @param guestAddresses the addresses zedrouter plans for the VIFs, in NIC order (empty for a
   *     switch NI's): a guest learns its address by DHCP when it boots and its client does not ask
   *     again before its lease's renewal time, so a renumbered network instance restarts the VM
   */
  public record Vm(VmDefinition definition, int restartCounter, List<String> guestAddresses) implements ValueItem {
    public static final String TYPE = "Vm";

    public Vm {
      guestAddresses = List.copyOf(guestAddresses);
    }

    @Override
    public String name() {
      return definition.name();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      List<Dependency> deps = new ArrayList<>();
      for (VmDefinition.Nic nic : definition.nics()) {
        String type = nic.attach() == VmDefinition.Attach.TAP ? Tap.TYPE : Macvtap.TYPE;
        deps.add(Dependency.on(type, nic.ifName()).describedAs("QEMU opens the VIF's device at start"));
      }
      for (VmDefinition.HostPciDevice device : definition.passthrough()) {
        // labelled with its vfio binding item's name (dev.verge.domainmgr.io.IoItems.VfioBinding)
        deps.add(Dependency.on(dev.verge.domainmgr.io.IoItems.VfioBinding.TYPE, device.label()).describedAs("QEMU takes the device from vfio-pci"));
      }
      return deps;
    }
  }

  /**
   * A NIC hot-plugged into a running VM through QMP, after its boot NICs: adding an adapter at the
   * end of an app's list does not restart the VM.
   *
   * @param index the NIC's position in the guest's adapter list (its QMP ids and PCI slot follow it)
   * @param qemuStart which start of the VM's QEMU (its supervisor's restart count) it is plugged
   *     into: a QEMU that crashed and was restarted lost its hot-plugged NICs, and the changed
   *     value makes the reconciler plug them again
   */
  public record HotNic(String domain, int index, VmDefinition.Nic nic, int qemuStart) implements ValueItem {
    public static final String TYPE = "HotNic";

    public HotNic(String domain, int index, VmDefinition.Nic nic) {
      this(domain, index, nic, 0);
    }

    @Override
    public String name() {
      return nic.ifName();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      String vif = nic.attach() == VmDefinition.Attach.TAP ? Tap.TYPE : Macvtap.TYPE;
      return List.of(Dependency.on(Vm.TYPE, domain).recreatedWhenModified().describedAs("plugged into the running VM"),
          Dependency.on(vif, nic.ifName()).describedAs("QEMU opens the VIF's device"));
    }

    /** The QMP id of the NIC's backend; its device is {@code <id>-nic}. */
    public String qmpId() {
      return "hnet" + index;
    }
  }

  /**
   * True when {@code next} is {@code running} with NICs appended and nothing else changed: those
   * NICs are hot-plugged instead of restarting the VM.
   */
  public static boolean onlyNicsAppended(Vm running, Vm next) {
    VmDefinition a = running.definition();
    VmDefinition b = next.definition();
    return running.restartCounter() == next.restartCounter()
        && next.guestAddresses().size() >= running.guestAddresses().size()
        && next.guestAddresses().subList(0, running.guestAddresses().size()).equals(running.guestAddresses())
        && b.nics().size() > a.nics().size()
        && b.nics().subList(0, a.nics().size()).equals(a.nics())
        && b.nics().subList(a.nics().size(), b.nics().size()).stream().allMatch(n -> n.attach() == VmDefinition.Attach.TAP)
        && b.withNics(a.nics()).equals(a);
  }
}
