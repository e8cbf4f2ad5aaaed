package dev.verge.domainmgr;

import static dev.verge.domainmgr.Apps.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.agent.SimWorld;
import dev.verge.hostos.Link;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.AppVifs;
import dev.verge.topics.v1.CreatedVif;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** domainmgr on the runtime with a sim host: app configs and VIF plans in, kernel and daemons checked. */
class DomainmgrAgentTest {
  @TempDir Path dir;
  SimWorld world;
  Publication<AppInstanceConfig> apps;
  Publication<AppVifPlan> plans;
  Subscription<DomainStatus> status;
  Subscription<AppVifs> vifs;

  @BeforeEach
  void world() {
    world = new SimWorld(dir.resolve("sim"));
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    plans = world.bus.publish(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE);
    status = world.watch(DomainmgrTopics.DOMAIN_STATUS);
    vifs = world.watch(DomainmgrTopics.APP_VIFS);
    world.start(agent());
  }

  private DomainmgrAgent agent() {
    return new DomainmgrAgent(
        new DomainPlanner.Settings(dir.resolve("domains"), dir.resolve("images"), 2048, 256), () -> QemuCommand.Accel.TCG);
  }

  @AfterEach
  void close() {
    world.close();
  }

  private void runApp1() {
    apps.publish(APP1, app(APP1, 256, NI1, NI2));
    plans.publish(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01"), vif("nbu2x1", NI2, "02:00:00:00:01:02")));
    settle();
  }

  /**
   * Settles twice: QEMU's readiness arrives on the loop after the reconcile that started it, and the
   * reconcile it asks for is a timer that one settle does not wait for.
   */
  private void settle() {
    world.settle();
    world.settle();
  }

  private boolean qemuRunning(String app) {
    return world.host.simDaemons().status(VmConfigurator.daemonName(app)).map(s -> s.running()).orElse(false);
  }

  @Test
  void appGetsItsTapsAndARunningVm() {
    runApp1();

    assertThat(world.host.kernel().link("nbu1x1")).map(Link::kind).contains("tun");
    assertThat(world.host.kernel().link("nbu2x1")).map(Link::up).contains(true);
    assertThat(qemuRunning(APP1)).isTrue();
    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(domain.getAccel()).isEqualTo("tcg");
    assertThat(domain.getConsoleLog()).isEqualTo(dir.resolve("domains").resolve(APP1).resolve("console.log").toString());
    assertThat(domain.getVifsList()).extracting(v -> v.getVifName() + " " + v.getIpAddress() + " " + v.getReady())
        .containsExactly("nbu1x1 10.1.0.10 true", "nbu2x1 10.1.0.10 true");
    assertThat(vifs.snapshot().get(APP1).getVifsList()).extracting(CreatedVif::getVifName, CreatedVif::getReady)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("nbu1x1", true), org.assertj.core.groups.Tuple.tuple("nbu2x1", true));
  }

  @Test
  void tapsAnEarlierRunLeftWaitForZedroutersPlansAndAreAdoptedNotMadeAgain() {
    // a restart: what the killed run left (its QEMU ended by the supervisor), then a new domainmgr
    world.runtime.close();
    world.loop.runPending();
    var kernel = world.host.kernel();
    kernel.createLink("bn1", new dev.verge.hostos.LinkSpec.Bridge(false));
    kernel.createLink("nbu1x1", new dev.verge.hostos.LinkSpec.Tap());
    kernel.setMaster("nbu1x1", "bn1");
    kernel.addAddress("nbu1x1", dev.verge.hostos.IpPrefix.parse("192.0.2.9/24"));
    kernel.setMtu("nbu1x1", 1400);
    kernel.setUp("nbu1x1", false);
    kernel.createLink("nbu9x9", new dev.verge.hostos.LinkSpec.Tap()); // of an app since removed
    int leftIndex = kernel.link("nbu1x1").orElseThrow().index();
    apps.publish(APP1, app(APP1, 256, NI1, NI2));

    world.start(agent());

    assertThat(kernel.link("nbu1x1")).as("zedrouter's plans have not come yet").isPresent();
    assertThat(kernel.link("nbu9x9")).isPresent();

    plans.publish(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01"), vif("nbu2x1", NI2, "02:00:00:00:01:02")));
    settle();

    Link adopted = kernel.link("nbu1x1").orElseThrow();
    assertThat(adopted.index()).as("the same tap, adopted").isEqualTo(leftIndex);
    assertThat(adopted.masterIndex()).as("its bridge port is zedrouter's")
        .isEqualTo(kernel.link("bn1").orElseThrow().index());
    assertThat(adopted.up()).isTrue();
    assertThat(adopted.mtu()).isEqualTo(1500);
    assertThat(kernel.addresses("nbu1x1")).isEmpty();
    assertThat(kernel.link("nbu2x1")).isPresent();
    assertThat(kernel.link("nbu9x9")).as("no plan names it").isEmpty();
    assertThat(qemuRunning(APP1)).isTrue();
    assertThat(vifs.snapshot().get(APP1).getVifsList()).extracting(CreatedVif::getVifName, CreatedVif::getIfIndex)
        .contains(org.assertj.core.groups.Tuple.tuple("nbu1x1", leftIndex));
  }

  @Test
  void deletingTheAppStopsQemuAndRemovesItsTaps() {
    runApp1();

    apps.unpublish(APP1);
    settle();

    assertThat(qemuRunning(APP1)).isFalse();
    assertThat(world.host.kernel().link("nbu1x1")).isEmpty();
    assertThat(world.host.kernel().link("nbu2x1")).isEmpty();
    assertThat(status.snapshot()).doesNotContainKey(APP1);
    assertThat(vifs.snapshot()).doesNotContainKey(APP1);
  }

  @Test
  void aDeadVmIsReportedAndRestartedByTheSupervisor() {
    runApp1();

    world.host.simDaemons().crash(VmConfigurator.daemonName(APP1), 137);
    settle();

    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(domain.getRestarts()).isEqualTo(1);
    assertThat(qemuRunning(APP1)).isTrue();
  }

  @Test
  void aChangeTheVmDoesNotSeeDoesNotRestartIt() {
    runApp1();
    long pid = world.host.simDaemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid();

    apps.publish(APP1, app(APP1, 256, NI1, NI2).toBuilder().setDisplayName("renamed").build());
    settle();
    assertThat(world.host.simDaemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid()).isEqualTo(pid);

    apps.publish(APP1, app(APP1, 256, NI1, NI2).toBuilder().setRestartCounter(1).build());
    settle();
    assertThat(world.host.simDaemons().status(VmConfigurator.daemonName(APP1)).orElseThrow().pid()).isNotEqualTo(pid);
  }

  @Test
  void badAppGetsAPreciseErrorOthersUnaffected() {
    runApp1();

    apps.publish(APP2, app(APP2, 256, NI1));
    plans.publish(APP2, plan(APP2, vif("nbu1x2", NI1, "02:00:00:00:01:01")));
    settle();

    DomainStatus bad = status.snapshot().get(APP2);
    assertThat(bad.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(bad.getErrorsList()).extracting(ErrorInfo::getReason, ErrorInfo::getDescription).containsExactly(
        org.assertj.core.groups.Tuple.tuple("DUPLICATE_MAC", "adapter eth0: MAC 02:00:00:00:01:01 is already used by app " + APP1));
    assertThat(world.host.kernel().link("nbu1x2")).isEmpty();
    assertThat(qemuRunning(APP2)).isFalse();
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
  }

  @Test
  void aQemuThatCannotStartIsAnErrorInStatus() {
    world.host.simDaemons().failNextLaunches(VmConfigurator.daemonName(APP1), 1, "qemu-system-x86_64: not found");

    runApp1();

    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(domain.getErrorsList()).extracting(ErrorInfo::getReason).contains("DOMAIN_START_FAILED");
    assertThat(domain.getErrorsList().toString()).contains("qemu-system-x86_64: not found");

    world.advance(Duration.ofSeconds(5)); // the runtime retries the failed item
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
  }

  @Test
  void aStateDirectoryTooLongForTheQmpSocketIsAPreciseError() {
    world.close();
    world = new SimWorld(dir.resolve("d".repeat(120)));
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    plans = world.bus.publish(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE);
    status = world.watch(DomainmgrTopics.DOMAIN_STATUS);
    world.start(new DomainmgrAgent(
        new DomainPlanner.Settings(dir.resolve("domains"), dir.resolve("images"), 2048, 256), () -> QemuCommand.Accel.TCG));

    runApp1();

    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_ERROR);
    assertThat(domain.getErrorsList().toString()).contains("more than a Unix socket allows (107): use a shorter state directory");
    assertThat(qemuRunning(APP1)).isFalse();
  }

  @Test
  void aQemuThatDiesOfAKvmErrorIsRelaunchedUnderTcgAndTheStatusSaysSo() throws Exception {
    world.close();
    world = new SimWorld(dir.resolve("sim2"));
    apps = world.bus.publish(ZedagentTopics.APPS, Durability.VOLATILE);
    plans = world.bus.publish(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE);
    status = world.watch(DomainmgrTopics.DOMAIN_STATUS);
    AccelChoice choice = new AccelChoice(java.nio.file.Files.createFile(dir.resolve("kvm")), dir); // opens: KVM at first
    world.start(new DomainmgrAgent(
        new DomainPlanner.Settings(dir.resolve("domains"), dir.resolve("images"), 2048, 256), choice));
    runApp1();
    assertThat(status.snapshot().get(APP1).getAccel()).isEqualTo("kvm");

    String qemu = VmConfigurator.daemonName(APP1);
    world.host.simDaemons().output(qemu, "qemu-system-x86_64: failed to initialize kvm: Permission denied");
    world.host.simDaemons().crash(qemu, 1);
    settle(); // the exit, then the relaunch it queues on the loop
    settle();

    DomainStatus domain = status.snapshot().get(APP1);
    assertThat(domain.getAccel()).isEqualTo("tcg");
    assertThat(domain.getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(domain.getErrorsList()).isEmpty();
    assertThat(qemuRunning(APP1)).isTrue();
    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.TCG);
  }

  /**
   * Disk boot through a per-app qcow2 overlay, with the real qemu-img (the VM itself is the sim's):
   * writes through the overlay (qemu-io, standing in for the guest's writes) leave the base image's
   * bytes unchanged, and the overlay goes when the app is deleted.
   */
  @Test
  void aDiskBootWritesOnlyToItsOverlayWhichGoesWithTheApp() throws Exception {
    Path base = dir.resolve("images").resolve("base.qcow2");
    java.nio.file.Files.createDirectories(base.getParent());
    run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "16M");
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", base.toString());
    String baseHash = sha256(base);
    apps.publish(APP1, app(APP1, 256, NI1, NI2).toBuilder().setBoot(dev.verge.proto.config.v1.BootSource.newBuilder()
        .setDisk(dev.verge.proto.config.v1.DiskBoot.newBuilder().setPath("base.qcow2"))).build());
    plans.publish(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01"), vif("nbu2x1", NI2, "02:00:00:00:01:02")));
    settle();

    Path overlay = dir.resolve("domains").resolve(APP1).resolve("overlay.qcow2");
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(run("qemu-img", "info", "--output=json", overlay.toString()))
        .contains("\"backing-filename\": \"" + base + "\"").contains("\"format\": \"qcow2\"");
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0x22 0 64k", overlay.toString());
    assertThat(run("qemu-io", "-f", "qcow2", "-c", "read -P 0x22 0 64k", overlay.toString())).doesNotContain("Pattern verification failed");
    assertThat(run("qemu-io", "-f", "qcow2", "-c", "read -P 0x11 0 64k", base.toString())).doesNotContain("Pattern verification failed");
    assertThat(sha256(base)).isEqualTo(baseHash);

    apps.unpublish(APP1);
    settle();

    assertThat(overlay).doesNotExist();
    assertThat(base).exists();
    assertThat(sha256(base)).isEqualTo(baseHash);
  }

  /**
   * User data becomes the app's NoCloud seed (real mkfs.vfat and mtools; the VM is the sim's): the
   * seed holds it and the meta-data; a change elsewhere keeps QEMU and the seed, a changed user
   * data restarts QEMU with a rebuilt seed, and the seed goes with the app.
   */
  @Test
  void userDataIsASeedDiskRebuiltWithARestartOnlyWhenItChangesAndRemovedWithTheApp() throws Exception {
    AppInstanceConfig withUserData = app(APP1, 256, NI1, NI2).toBuilder().setDisplayName("web")
        .setUserData("#cloud-config\nruncmd: [echo one]\n").build();
    apps.publish(APP1, withUserData);
    plans.publish(APP1, plan(APP1, vif("nbu1x1", NI1, "02:00:00:00:01:01"), vif("nbu2x1", NI2, "02:00:00:00:01:02")));
    settle();

    Path seed = dir.resolve("domains").resolve(APP1).resolve("seed.img");
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(run("mtype", "-i", seed.toString(), "::user-data")).isEqualTo("#cloud-config\nruncmd: [echo one]\n");
    assertThat(run("mtype", "-i", seed.toString(), "::meta-data"))
        .isEqualTo("instance-id: " + APP1 + "\nlocal-hostname: web\n");
    long pid = qemuPid(APP1);
    java.nio.file.attribute.FileTime built = java.nio.file.Files.getLastModifiedTime(seed);

    apps.publish(APP1, withUserData.toBuilder().setPurgeCounter(7).build()); // nothing the VM sees
    settle();
    assertThat(qemuPid(APP1)).isEqualTo(pid);
    assertThat(java.nio.file.Files.getLastModifiedTime(seed)).isEqualTo(built);

    apps.publish(APP1, withUserData.toBuilder().setUserData("#cloud-config\nruncmd: [echo two]\n").build());
    settle();
    settle();
    assertThat(status.snapshot().get(APP1).getState()).isEqualTo(DomainStatus.State.STATE_RUNNING);
    assertThat(qemuPid(APP1)).isNotEqualTo(pid);
    assertThat(run("mtype", "-i", seed.toString(), "::user-data")).isEqualTo("#cloud-config\nruncmd: [echo two]\n");

    apps.unpublish(APP1);
    settle();
    assertThat(qemuRunning(APP1)).isFalse();
    assertThat(seed).doesNotExist();
  }

  private long qemuPid(String app) {
    return world.host.simDaemons().status(VmConfigurator.daemonName(app)).orElseThrow().pid();
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }

  private static String sha256(Path file) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
        .digest(java.nio.file.Files.readAllBytes(file)));
  }
}
