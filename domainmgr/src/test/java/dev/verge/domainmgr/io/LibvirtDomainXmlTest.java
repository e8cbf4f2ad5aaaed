package dev.verge.domainmgr.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.domainmgr.QemuCommand;
import dev.verge.domainmgr.VmDefinition;
import dev.verge.domainmgr.io.LibvirtDomainXml.Direct;
import dev.verge.domainmgr.io.LibvirtDomainXml.NicAttachment;
import dev.verge.domainmgr.io.LibvirtDomainXml.OnBridge;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The export checked against libvirt's own schema with virt-xml-validate (scripts/setup installs it). */
class LibvirtDomainXmlTest {
  private static final Path VALIDATOR = Path.of("/usr/bin/virt-xml-validate");
  private static final String UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

  @TempDir Path dir;

  private static VmDefinition vm(VmDefinition.BootSource boot) {
    return new VmDefinition("app-6ba7b810", UUID, 256, 2, boot,
        List.of(
            new VmDefinition.Nic("nbu1x1", VmDefinition.Attach.TAP, MacAddress.of("02:16:3e:00:00:01"),
                VmDefinition.NicModel.VIRTIO_NET_PCI, 1500),
            new VmDefinition.Nic("nbu2x1", VmDefinition.Attach.MACVTAP, MacAddress.of("02:16:3e:00:00:02"),
                VmDefinition.NicModel.E1000, 1400)),
        Path.of("/run/verge/domains/app-6ba7b810/console.log"),
        List.of(new VmDefinition.HostPciDevice(PciAddress.of("0000:03:02.1"), "eth1 VF 1"),
            new VmDefinition.HostPciDevice(PciAddress.of("0000:04:00.0"), "gpu")));
  }

  private static final Map<String, NicAttachment> ATTACHMENTS = Map.of(
      "nbu1x1", new OnBridge("bn1"), "nbu2x1", new Direct("eth2", LinkSpec.MacvlanMode.BRIDGE));

  private static final VmDefinition.KernelBoot KERNEL = new VmDefinition.KernelBoot(
      Path.of("/images/vmlinuz"), Optional.of(Path.of("/images/initrd.cpio.gz")), "console=ttyS0 quiet");

  /** virt-xml-validate's verdict: its exit code 0, or the test fails with what it printed. */
  private record Verdict(int exitCode, String output) {}

  private Verdict validate(String xml) throws Exception {
    assertThat(VALIDATOR).as("virt-xml-validate (package libvirt-clients; scripts/setup installs it)").isExecutable();
    assertThat(Path.of("/usr/bin/xmllint")).as("xmllint, which virt-xml-validate runs (package libxml2-utils;"
        + " scripts/setup installs it)").isExecutable();
    Path file = Files.writeString(dir.resolve("domain.xml"), xml);
    Process process = new ProcessBuilder(VALIDATOR.toString(), file.toString(), "domain")
        .redirectErrorStream(true).start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("virt-xml-validate finished").isTrue();
    return new Verdict(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void aKernelBootWithABridgeAMacvtapAVfAndAPassthroughDeviceIsAValidDomain() throws Exception {
    String xml = LibvirtDomainXml.export(vm(KERNEL), QemuCommand.Accel.TCG, ATTACHMENTS);
    Verdict verdict = validate(xml);
    assertThat(verdict.exitCode()).as(verdict.output() + "\n" + xml).isZero();
    assertThat(xml)
        .contains("<domain type=\"qemu\">", "<memory unit=\"MiB\">256</memory>", "<vcpu>2</vcpu>")
        .contains("<kernel>/images/vmlinuz</kernel>", "<initrd>/images/initrd.cpio.gz</initrd>",
            "<cmdline>console=ttyS0 quiet</cmdline>")
        .contains("<source bridge=\"bn1\"/>", "<target dev=\"nbu1x1\"/>", "<model type=\"virtio\"/>")
        .contains("<interface type=\"direct\">", "<source dev=\"eth2\" mode=\"bridge\"/>", "<model type=\"e1000\"/>")
        .contains("<hostdev managed=\"no\" mode=\"subsystem\" type=\"pci\">")
        .contains("<address bus=\"0x03\" domain=\"0x0000\" function=\"0x1\" slot=\"0x02\"/>")
        .contains("<source path=\"/run/verge/domains/app-6ba7b810/console.log\"/>");
    // guest slots as QemuCommand gives them: NICs in order from slot 3, then the host devices
    assertThat(xml.indexOf("slot=\"0x03\"")).isLessThan(xml.indexOf("slot=\"0x04\""));
    assertThat(xml.indexOf("0x0000\" function=\"0x1\" slot=\"0x02\"")).isLessThan(xml.indexOf("slot=\"0x05\""));
    assertThat(xml).contains("slot=\"0x06\"").doesNotContain("slot=\"0x07\"");
  }

  @Test
  void aDiskBootUnderKvmIsAValidDomainWithTheOverlayOverTheBase() throws Exception {
    VmDefinition.DiskBoot disk = new VmDefinition.DiskBoot(Path.of("/persist/img/base.raw"),
        VmDefinition.DiskFormat.RAW, Optional.empty(), Path.of("/persist/domains/a/overlay.qcow2"));
    String xml = LibvirtDomainXml.export(vm(disk), QemuCommand.Accel.KVM, ATTACHMENTS);
    Verdict verdict = validate(xml);
    assertThat(verdict.exitCode()).as(verdict.output() + "\n" + xml).isZero();
    assertThat(xml).contains("<domain type=\"kvm\">", "<boot dev=\"hd\"/>", "<cpu mode=\"host-passthrough\"/>",
        "<source file=\"/persist/domains/a/overlay.qcow2\"/>", "<format type=\"raw\"/>",
        "<source file=\"/persist/img/base.raw\"/>");
  }

  @Test
  void everyMacvtapModeIsOneTheSchemaKnows() throws Exception {
    for (LinkSpec.MacvlanMode mode : LinkSpec.MacvlanMode.values()) {
      String xml = LibvirtDomainXml.export(vm(KERNEL), QemuCommand.Accel.TCG,
          Map.of("nbu1x1", new OnBridge("bn1"), "nbu2x1", new Direct("eth2", mode)));
      Verdict verdict = validate(xml);
      assertThat(verdict.exitCode()).as(mode + ": " + verdict.output()).isZero();
    }
  }

  /** The validator is not a rubber stamp: a hostdev without its source fails it. */
  @Test
  void theValidatorRefusesABrokenDomain() throws Exception {
    String xml = LibvirtDomainXml.export(vm(KERNEL), QemuCommand.Accel.TCG, ATTACHMENTS)
        .replaceFirst("(?s)<hostdev([^>]*)>.*?</hostdev>", "<hostdev$1/>");
    Verdict verdict = validate(xml);
    assertThat(verdict.exitCode()).isNotZero();
    assertThat(verdict.output()).contains("fails to validate");
  }

  @Test
  void aNicWithoutAttachmentOrWithTheWrongOneIsRefusedByName() {
    assertThatThrownBy(() -> LibvirtDomainXml.export(vm(KERNEL), QemuCommand.Accel.TCG,
            Map.of("nbu1x1", new OnBridge("bn1"))))
        .hasMessage("NIC nbu2x1: no bridge or parent link to export it with");
    assertThatThrownBy(() -> LibvirtDomainXml.export(vm(KERNEL), QemuCommand.Accel.TCG,
            Map.of("nbu1x1", new OnBridge("bn1"), "nbu2x1", new OnBridge("bn2"))))
        .hasMessage("NIC nbu2x1 is a macvtap: it cannot be exported on a bridge");
  }

  @Test
  void theCloudInitSeedIsAReadOnlyVirtioDiskAfterTheHostDevicesAndTheDomainStaysValid() throws Exception {
    VmDefinition plain = vm(KERNEL);
    VmDefinition.CloudInitSeed seed = new VmDefinition.CloudInitSeed(
        Path.of("/run/verge/domains/app-6ba7b810/seed.img"), "#cloud-config\n", UUID, "web");
    VmDefinition withSeed = new VmDefinition(plain.name(), plain.uuid(), plain.memoryMb(), plain.vcpus(),
        plain.boot(), plain.nics(), plain.serialLog(), plain.passthrough(), Optional.of(seed));

    String xml = LibvirtDomainXml.export(withSeed, QemuCommand.Accel.TCG, ATTACHMENTS);
    Verdict verdict = validate(xml);

    assertThat(verdict.exitCode()).as(verdict.output() + "\n" + xml).isZero();
    String disk = xml.substring(xml.indexOf("<disk"), xml.indexOf("</disk>"));
    assertThat(disk).contains("device=\"disk\"", "<driver name=\"qemu\" type=\"raw\"/>",
        "<source file=\"/run/verge/domains/app-6ba7b810/seed.img\"/>", "<target bus=\"virtio\" dev=\"vda\"/>",
        "<readonly/>", "slot=\"0x07\"");

    VmDefinition.DiskBoot boot = new VmDefinition.DiskBoot(Path.of("/persist/img/base.raw"),
        VmDefinition.DiskFormat.RAW, Optional.empty(), Path.of("/persist/domains/a/overlay.qcow2"));
    String diskBoot = LibvirtDomainXml.export(new VmDefinition(plain.name(), plain.uuid(), plain.memoryMb(),
        plain.vcpus(), boot, plain.nics(), plain.serialLog(), plain.passthrough(), Optional.of(seed)),
        QemuCommand.Accel.TCG, ATTACHMENTS);
    assertThat(validate(diskBoot).exitCode()).isZero();
    assertThat(diskBoot).contains("<target bus=\"virtio\" dev=\"vda\"/>", "<target bus=\"virtio\" dev=\"vdb\"/>");
  }
}
