package dev.verge.domainmgr;

import dev.verge.domainmgr.DomainItems.HotNic;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.linux.QmpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.RecreatedConfigurator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/** Plugs NICs into running VMs and unplugs them, through each VM's QMP socket. */
final class HotNicConfigurator extends RecreatedConfigurator {
  private static final Logger LOG = LoggerFactory.getLogger(HotNicConfigurator.class);
  static final Duration QMP_TIMEOUT = Duration.ofSeconds(2);
  /** How long a guest gets to release an unplugged NIC (ACPI eject). */
  static final Duration UNPLUG_TIMEOUT = Duration.ofSeconds(3);

  private final Function<String, Path> qmpSocket;
  private final java.util.function.ToIntFunction<String> qemuStart;

  /** @param qemuStart which start of a domain's QEMU runs now ({@link DomainItems.HotNic#qemuStart()}) */
  HotNicConfigurator(Function<String, Path> qmpSocket, java.util.function.ToIntFunction<String> qemuStart) {
    this.qmpSocket = qmpSocket;
    this.qemuStart = qemuStart;
  }

  @Override
  public void create(OpContext ctx, Item item) {
    HotNic hot = (HotNic) item;
    VmDefinition.Nic nic = hot.nic();
    try (QmpClient qmp = QmpClient.connect(qmpSocket.apply(hot.domain()), QMP_TIMEOUT)) {
      qmp.hotplugNic(hot.qmpId(), nic.ifName(), nic.model().qemuName(), nic.mac().toString(),
          QemuCommand.hex(QemuCommand.FIRST_HOTPLUG_SLOT + hot.index()),
          nic.model() == VmDefinition.NicModel.VIRTIO_NET_PCI ? Optional.of(nic.mtu()) : Optional.empty());
    }
  }


  @Override
  public void delete(OpContext ctx, Item item) {
    HotNic hot = (HotNic) item;
    Path socket = qmpSocket.apply(hot.domain());
    if (!java.nio.file.Files.exists(socket) || qemuStart.applyAsInt(hot.domain()) != hot.qemuStart()) {
      return; // the VM is gone, or the QEMU it was plugged into died: the NIC went with it
    }
    try (QmpClient qmp = QmpClient.connect(socket, QMP_TIMEOUT)) {
      qmp.unplugNic(hot.qmpId(), UNPLUG_TIMEOUT);
    } catch (HostException e) {
      if (e.errno() != Errno.ETIMEDOUT) {
        throw e;
      }
      // a guest that ignores the eject keeps the NIC until its next start; its tap goes anyway
      LOG.warn("domain {}: the guest did not release NIC {} within {} ms", hot.domain(), hot.name(),
          UNPLUG_TIMEOUT.toMillis());
    }
  }
}
