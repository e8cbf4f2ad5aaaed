package dev.verge.domainmgr;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One app's virtual machine, as domainmgr runs it: what QEMU is started with and what the libvirt
 * XML export describes. Immutable and checked on construction, so every consumer can trust it.
 *
 * @param name the domain's name: also the name of its QEMU daemon and run directory
 * @param uuid the app instance's UUID (the guest's SMBIOS UUID)
 * @param memoryMb guest RAM in MiB
 * @param vcpus virtual CPUs
 * @param boot what it boots from
 * @param nics its network interfaces in guest order (eth0 first); PCI slots follow this order
 * @param serialLog the file the guest's serial console is written to
 * @param passthrough host PCI devices handed to the guest (VFs, passthrough adapters), in order
 * @param seed the cloud-init NoCloud seed disk the guest sees read-only, when the app has user data
 */
public record VmDefinition(
    String name,
    String uuid,
    int memoryMb,
    int vcpus,
    BootSource boot,
    List<Nic> nics,
    Path serialLog,
    List<HostPciDevice> passthrough,
    Optional<CloudInitSeed> seed) {

  /** A VM without user data. */
  public VmDefinition(String name, String uuid, int memoryMb, int vcpus, BootSource boot, List<Nic> nics,
      Path serialLog, List<HostPciDevice> passthrough) {
    this(name, uuid, memoryMb, vcpus, boot, nics, serialLog, passthrough, Optional.empty());
  }

  public VmDefinition {
    DaemonSpec.requireValidName(name);
    Objects.requireNonNull(uuid, "uuid");
    Objects.requireNonNull(boot, "boot source");
    Objects.requireNonNull(serialLog, "serial log");
    Objects.requireNonNull(seed, "seed");
    nics = List.copyOf(nics);
    passthrough = List.copyOf(passthrough);
    if (memoryMb < 16) {
      throw new IllegalArgumentException("domain " + name + ": memory " + memoryMb + " MiB is below 16 MiB");
    }
    if (vcpus < 1 || vcpus > 64) {
      throw new IllegalArgumentException("domain " + name + ": vCPUs " + vcpus + " out of 1..64");
    }
    Set<MacAddress> macs = new HashSet<>();
    Set<String> ifNames = new HashSet<>();
    for (Nic nic : nics) {
      if (!macs.add(nic.mac())) {
        throw new IllegalArgumentException("domain " + name + ": duplicate MAC " + nic.mac());
      }
      if (!ifNames.add(nic.ifName())) {
        throw new IllegalArgumentException("domain " + name + ": interface " + nic.ifName() + " used twice");
      }
    }
  }

  /** The same VM with other host devices. */
  public VmDefinition withPassthrough(List<HostPciDevice> devices) {
    return new VmDefinition(name, uuid, memoryMb, vcpus, boot, nics, serialLog, devices, seed);
  }

  /** The same VM with other NICs. */
  public VmDefinition withNics(List<Nic> newNics) {
    return new VmDefinition(name, uuid, memoryMb, vcpus, boot, newNics, serialLog, passthrough, seed);
  }

  /**
   * A cloud-init NoCloud seed: written to {@code image} (a FAT disk labelled cidata, see
   * {@link NoCloudSeed}) before QEMU starts. Part of the definition, so a change of the user data
   * (or of the host name) restarts the VM with a rebuilt seed, and nothing else does.
   *
   * @param instanceId cloud-init's instance-id: the app's UUID
   * @param hostname cloud-init's local-hostname: the app's name, made a valid host name
   */
  public record CloudInitSeed(Path image, String userData, String instanceId, String hostname) {
    public CloudInitSeed {
      Objects.requireNonNull(image, "seed image");
      Objects.requireNonNull(userData, "user data");
      Objects.requireNonNull(instanceId, "instance id");
      if (hostname == null || !hostname.matches("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")) {
        throw new IllegalArgumentException("seed host name must be a host name label, not " + hostname);
      }
    }

    /** A host name label from an app's display name: other characters become '-', at most 63; the UUID if nothing is left. */
    public static String hostnameOf(String displayName, String uuid) {
      String label = displayName.replaceAll("[^A-Za-z0-9-]", "-").replaceAll("^-+", "");
      label = label.substring(0, Math.min(63, label.length())).replaceAll("-+$", "");
      return label.isEmpty() ? uuid : label;
    }
  }

  /** What the VM boots from. */
  public sealed interface BootSource permits KernelBoot, DiskBoot {}

  /** A direct kernel boot (no disk): kernel, optional initrd, kernel command line. */
  public record KernelBoot(Path kernel, Optional<Path> initrd, String cmdline) implements BootSource {
    public KernelBoot {
      Objects.requireNonNull(kernel, "kernel");
      Objects.requireNonNull(initrd, "initrd");
      Objects.requireNonNull(cmdline, "cmdline");
    }
  }

  public enum DiskFormat {
    QCOW2("qcow2"),
    RAW("raw");

    private final String qemuName;

    DiskFormat(String qemuName) {
      this.qemuName = qemuName;
    }

    /** The format's name for qemu-img and QEMU's {@code format=}. */
    public String qemuName() {
      return qemuName;
    }
  }

  /**
   * A disk boot: the guest writes to {@code overlay}, a qcow2 copy-on-write layer over the
   * read-only {@code baseImage}, so the base stays pristine and is shared between apps.
   *
   * @param contentSha256 the image's content hash when it was named by hash in the image store
   */
  public record DiskBoot(Path baseImage, DiskFormat format, Optional<String> contentSha256, Path overlay)
      implements BootSource {
    public DiskBoot {
      Objects.requireNonNull(baseImage, "base image");
      Objects.requireNonNull(format, "format");
      Objects.requireNonNull(contentSha256, "content hash");
      Objects.requireNonNull(overlay, "overlay");
      if (baseImage.equals(overlay)) {
        throw new IllegalArgumentException("the overlay must not be the base image " + baseImage);
      }
    }
  }

  /** How a NIC reaches the host's network. */
  public enum Attach {
    /** A tap device that zedrouter attaches to the network instance's bridge. */
    TAP,
    /** A macvtap on a parent link (mode on the link), opened by QEMU through /dev/tapN. */
    MACVTAP
  }

  /** The NIC model the guest sees. */
  public enum NicModel {
    VIRTIO_NET_PCI("virtio-net-pci"),
    E1000("e1000");

    private final String qemuName;

    NicModel(String qemuName) {
      this.qemuName = qemuName;
    }

    /** QEMU's (and libvirt's, without "-pci") device name. */
    public String qemuName() {
      return qemuName;
    }
  }

  /**
   * A network interface of the guest.
   *
   * @param ifName the host-side device (tap or macvtap), as zedrouter named it
   * @param mtu the MTU of the host side, also given to virtio guests as host_mtu
   */
  public record Nic(String ifName, Attach attach, MacAddress mac, NicModel model, int mtu) {
    public Nic {
      Objects.requireNonNull(attach, "attach");
      Objects.requireNonNull(mac, "mac");
      Objects.requireNonNull(model, "model");
      if (ifName == null || ifName.isEmpty() || ifName.length() > 15) {
        throw new IllegalArgumentException("interface name must be 1..15 characters: " + ifName);
      }
      if (mtu < 68 || mtu > 65535) {
        throw new IllegalArgumentException("MTU " + mtu + " of " + ifName + " out of 68..65535");
      }
    }
  }

  /**
   * A host PCI device handed to the guest whole (an SR-IOV VF or a passthrough adapter), already
   * bound to vfio-pci by the time the VM starts.
   *
   * @param label what the config called it (adapter name, or PF label and VF index)
   */
  public record HostPciDevice(PciAddress address, String label) {
    public HostPciDevice {
      Objects.requireNonNull(address, "PCI address");
      Objects.requireNonNull(label, "label");
    }
  }
}
