package dev.verge.domainmgr.io;

import dev.verge.domainmgr.QemuCommand;
import dev.verge.domainmgr.VmDefinition;
import dev.verge.domainmgr.VmDefinition.DiskBoot;
import dev.verge.domainmgr.VmDefinition.KernelBoot;
import dev.verge.domainmgr.VmDefinition.Nic;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.PciAddress;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * A VM definition as a libvirt domain XML, for operators who run or inspect the same VM under
 * libvirt: the same memory, CPUs, boot source, serial log, NICs and host devices, at the same
 * guest PCI slots as {@link QemuCommand} gives them (NICs first in adapter order, then the host
 * devices, then the cloud-init seed disk). Host devices are {@code managed='no'}: domainmgr binds them to vfio-pci itself.
 */
public final class LibvirtDomainXml {
  private LibvirtDomainXml() {}

  /** Where a NIC's host side is plugged; the VM definition knows only the device's name. */
  public sealed interface NicAttachment permits OnBridge, Direct {}

  /** A tap on a network instance's bridge: {@code <interface type='bridge'>}. */
  public record OnBridge(String bridge) implements NicAttachment {
    public OnBridge {
      Objects.requireNonNull(bridge, "bridge");
    }
  }

  /** A macvtap on a parent link: {@code <interface type='direct'>}. */
  public record Direct(String parent, LinkSpec.MacvlanMode mode) implements NicAttachment {
    public Direct {
      Objects.requireNonNull(parent, "parent link");
      Objects.requireNonNull(mode, "mode");
    }
  }

  /** The file the export of a VM is written to: next to its serial console log. */
  public static Path fileOf(VmDefinition vm) {
    return vm.serialLog().resolveSibling("domain.xml");
  }

  /**
   * Writes the VM's export to {@link #fileOf} when it differs from what is there, for operators
   * who inspect or run the VM under libvirt.
   *
   * @return why it could not be written, if it could not
   */
  public static Optional<String> writeNextTo(VmDefinition vm, QemuCommand.Accel accel,
      Map<String, NicAttachment> attachments) {
    Path file = fileOf(vm);
    try {
      String xml = export(vm, accel, attachments);
      if (!Files.exists(file) || !Files.readString(file).equals(xml)) {
        Files.createDirectories(file.getParent());
        Path temporary = file.resolveSibling("domain.xml.tmp");
        Files.writeString(temporary, xml);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
      return Optional.empty();
    } catch (IllegalArgumentException | IOException e) {
      return Optional.of("libvirt export of " + vm.name() + " to " + file + ": " + e.getMessage());
    }
  }

  /**
   * The domain XML.
   *
   * @param attachments where each NIC's host side is, by its interface name
   * @throws IllegalArgumentException for a NIC without an attachment, or one whose kind does not
   *     match its attach (a tap needs a bridge, a macvtap a parent)
   */
  public static String export(VmDefinition vm, QemuCommand.Accel accel, Map<String, NicAttachment> attachments) {
    Document doc = newDocument();
    Element domain = doc.createElement("domain");
    doc.appendChild(domain);
    domain.setAttribute("type", accel == QemuCommand.Accel.KVM ? "kvm" : "qemu");
    text(domain, "name", vm.name());
    text(domain, "uuid", vm.uuid());
    text(domain, "memory", Integer.toString(vm.memoryMb())).setAttribute("unit", "MiB");
    text(domain, "vcpu", Integer.toString(vm.vcpus()));
    Element os = child(domain, "os");
    Element type = text(os, "type", "hvm");
    type.setAttribute("arch", "x86_64");
    type.setAttribute("machine", "pc"); // QEMU's default machine, as QemuCommand runs it
    if (vm.boot() instanceof KernelBoot k) {
      text(os, "kernel", k.kernel().toString());
      k.initrd().ifPresent(initrd -> text(os, "initrd", initrd.toString()));
      if (!k.cmdline().isEmpty()) {
        text(os, "cmdline", k.cmdline());
      }
    } else {
      child(os, "boot").setAttribute("dev", "hd");
    }
    if (accel == QemuCommand.Accel.KVM) {
      child(domain, "cpu").setAttribute("mode", "host-passthrough");
    }
    Element devices = child(domain, "devices");
    text(devices, "emulator", "/usr/bin/qemu-system-x86_64");
    if (vm.boot() instanceof DiskBoot d) {
      disk(devices, d);
    }
    int slot = QemuCommand.FIRST_SLOT;
    for (Nic nic : vm.nics()) {
      nic(devices, nic, attachments.get(nic.ifName()), slot++);
    }
    for (VmDefinition.HostPciDevice device : vm.passthrough()) {
      Element hostdev = child(devices, "hostdev");
      hostdev.setAttribute("mode", "subsystem");
      hostdev.setAttribute("type", "pci");
      hostdev.setAttribute("managed", "no");
      address(child(child(hostdev, "source"), "address"), device.address());
      guestSlot(hostdev, slot++);
    }
    if (vm.seed().isPresent()) {
      seed(devices, vm.seed().get(), vm.boot() instanceof DiskBoot ? "vdb" : "vda", slot);
    }
    Element serial = child(devices, "serial");
    serial.setAttribute("type", "file");
    child(serial, "source").setAttribute("path", vm.serialLog().toString());
    child(serial, "target").setAttribute("port", "0");
    return serialize(doc);
  }

  /** The guest writes to its overlay; the base image is its read-only backing store. */
  private static void disk(Element devices, DiskBoot boot) {
    Element disk = child(devices, "disk");
    disk.setAttribute("type", "file");
    disk.setAttribute("device", "disk");
    Element driver = child(disk, "driver");
    driver.setAttribute("name", "qemu");
    driver.setAttribute("type", "qcow2");
    driver.setAttribute("cache", "writeback");
    child(disk, "source").setAttribute("file", boot.overlay().toString());
    Element backing = child(disk, "backingStore");
    backing.setAttribute("type", "file");
    child(backing, "format").setAttribute("type", boot.format().qemuName());
    child(backing, "source").setAttribute("file", boot.baseImage().toString());
    child(backing, "backingStore");
    Element target = child(disk, "target");
    target.setAttribute("dev", "vda");
    target.setAttribute("bus", "virtio");
  }

  /** The cloud-init seed: a raw virtio disk the guest may only read, at the slot QemuCommand gives it. */
  private static void seed(Element devices, VmDefinition.CloudInitSeed seed, String targetDev, int slot) {
    Element disk = child(devices, "disk");
    disk.setAttribute("type", "file");
    disk.setAttribute("device", "disk");
    Element driver = child(disk, "driver");
    driver.setAttribute("name", "qemu");
    driver.setAttribute("type", "raw");
    child(disk, "source").setAttribute("file", seed.image().toString());
    Element target = child(disk, "target");
    target.setAttribute("dev", targetDev);
    target.setAttribute("bus", "virtio");
    child(disk, "readonly");
    guestSlot(disk, slot);
  }

  private static void nic(Element devices, Nic nic, NicAttachment attachment, int slot) {
    if (attachment == null) {
      throw new IllegalArgumentException("NIC " + nic.ifName() + ": no bridge or parent link to export it with");
    }
    Element element = child(devices, "interface");
    child(element, "mac").setAttribute("address", nic.mac().toString());
    if (attachment instanceof OnBridge bridge) {
      requireAttach(nic, VmDefinition.Attach.TAP, "a bridge");
      element.setAttribute("type", "bridge");
      child(element, "source").setAttribute("bridge", bridge.bridge());
    } else if (attachment instanceof Direct direct) {
      requireAttach(nic, VmDefinition.Attach.MACVTAP, "a parent link");
      element.setAttribute("type", "direct");
      Element source = child(element, "source");
      source.setAttribute("dev", direct.parent());
      source.setAttribute("mode", libvirtMode(direct.mode()));
    }
    child(element, "target").setAttribute("dev", nic.ifName());
    child(element, "model").setAttribute("type",
        nic.model() == VmDefinition.NicModel.VIRTIO_NET_PCI ? "virtio" : "e1000");
    child(element, "mtu").setAttribute("size", Integer.toString(nic.mtu()));
    guestSlot(element, slot);
  }

  private static void requireAttach(Nic nic, VmDefinition.Attach expected, String what) {
    if (nic.attach() != expected) {
      throw new IllegalArgumentException("NIC " + nic.ifName() + " is a " + nic.attach().name().toLowerCase()
          + ": it cannot be exported on " + what);
    }
  }

  private static String libvirtMode(LinkSpec.MacvlanMode mode) {
    return switch (mode) {
      case PRIVATE -> "private";
      case VEPA -> "vepa";
      case BRIDGE -> "bridge";
      case PASSTHRU -> "passthrough";
    };
  }

  private static void guestSlot(Element device, int slot) {
    Element address = child(device, "address");
    address.setAttribute("type", "pci");
    address.setAttribute("domain", "0x0000");
    address.setAttribute("bus", "0x00");
    address.setAttribute("slot", String.format("0x%02x", slot));
    address.setAttribute("function", "0x0");
  }

  /** A host PCI address {@code dddd:bb:ss.f} as libvirt's address attributes. */
  private static void address(Element address, PciAddress pci) {
    String value = pci.value();
    address.setAttribute("domain", "0x" + value.substring(0, 4));
    address.setAttribute("bus", "0x" + value.substring(5, 7));
    address.setAttribute("slot", "0x" + value.substring(8, 10));
    address.setAttribute("function", "0x" + value.substring(11));
  }

  // ---- DOM helpers

  private static Document newDocument() {
    try {
      return DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("no XML document builder", e);
    }
  }

  private static Element child(Element parent, String name) {
    Element element = parent.getOwnerDocument().createElement(name);
    parent.appendChild(element);
    return element;
  }

  private static Element text(Element parent, String name, String value) {
    Element element = child(parent, name);
    element.setTextContent(value);
    return element;
  }

  private static String serialize(Document doc) {
    try {
      var transformer = TransformerFactory.newInstance().newTransformer();
      transformer.setOutputProperty(OutputKeys.INDENT, "yes");
      transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
      transformer.setOutputProperty("{http://xml.apache.org/xslt}indent-amount", "2");
      StringWriter out = new StringWriter();
      transformer.transform(new DOMSource(doc), new StreamResult(out));
      return out.toString();
    } catch (TransformerException e) {
      throw new IllegalStateException("cannot write the domain XML", e);
    }
  }
}
