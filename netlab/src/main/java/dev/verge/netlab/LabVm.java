package dev.verge.netlab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lab VM: the full Debian cloud kernel of {@link LabImage} under QEMU, for the kernel features
 * the build machines lack (8021q, bonding, VRF, bridge VLAN filtering, xfrm/ESP, vfio with a real
 * IOMMU). Commands run inside over a virtio-serial channel and return their exit code and output.
 *
 * <p>Devices: a q35 machine with an emulated Intel IOMMU; virtio NICs in pairs, each pair joined
 * by a QEMU hub as by a cable (so no NIC has a path out of the VM); vmxnet3 NICs (a driver the
 * cloud kernel has) for vfio, some alone on the root bus (a group of their own) and some behind a
 * conventional PCI bridge (one group shared by all of them). The root disk is opened with
 * snapshot=on, so the image never changes; a second disk carries the per-run payload (jars, test
 * classes), mounted read-only at {@code /payload}.
 *
 * <p>Acceleration as {@link GuestVm} chooses it: KVM when usable, TCG otherwise. Closing the VM
 * kills QEMU and deletes the run directory; {@link #sweepStale()} does the same for runs whose
 * JVM died.
 */
public final class LabVm implements AutoCloseable {
  /** The shape of the VM. */
  public record Options(int virtioNicPairs, int rootBusPciNics, int bridgedPciNics, int memoryMb, int cpus) {
    public static Options defaults() {
      return new Options(2, 1, 2, 2048, 2);
    }
  }

  /** Where the payload's contents appear inside the VM. */
  public static final Path GUEST_PAYLOAD = Path.of("/payload");

  static final String CHANNEL = "verge.lab";
  private static final Duration KVM_LIFE_SIGN_TIMEOUT = Duration.ofSeconds(15);
  private static final Pattern EXIT = Pattern.compile("\nVERGE-LAB-EXIT (\\d+) (\\d+)\n");

  private final BackgroundProcess qemu;
  private final Path runDir;
  private final GuestVm.Accel accel;
  private final ServerSocketChannel listener;
  private final StringBuilder received = new StringBuilder();
  private final AtomicInteger commands = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  private final Thread shutdownHook;
  private volatile Consumer<String> lineSink = line -> {};
  private volatile SocketChannel channel;
  private Thread reader;
  private int consumed;
  private long startNanos;
  private Duration bootToReady;

  private LabVm(BackgroundProcess qemu, Path runDir, GuestVm.Accel accel, ServerSocketChannel listener) {
    this.qemu = qemu;
    this.runDir = runDir;
    this.accel = accel;
    this.listener = listener;
    this.shutdownHook = new Thread(this::cleanUp, "lab-vm-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Boots the VM with a payload (guest path under {@code /payload} → host file or directory) and
   * waits until it is ready for commands: KVM if it works here, else TCG.
   */
  public static LabVm boot(LabImage image, Map<String, Path> payload, Options options, Duration readyTimeout) {
    sweepStale();
    if (GuestVm.kvmUsable()) {
      LabVm vm = start(image, payload, options, GuestVm.Accel.KVM);
      try {
        vm.qemu.awaitOutput(out -> out.contains("VERGE-LAB-BOOT"), KVM_LIFE_SIGN_TIMEOUT);
        vm.awaitReady(readyTimeout);
        return vm;
      } catch (IllegalStateException noLifeSign) {
        GuestVm.giveUpKvm(GuestVm.firstLine(noLifeSign.getMessage()) + " " + GuestVm.lastLine(vm.console()));
        vm.close();
      }
    }
    LabVm vm = start(image, payload, options, GuestVm.Accel.TCG);
    try {
      vm.awaitReady(readyTimeout);
      return vm;
    } catch (RuntimeException e) {
      vm.close();
      throw e;
    }
  }

  private static LabVm start(LabImage image, Map<String, Path> payload, Options options, GuestVm.Accel accel) {
    Path runDir = null;
    try {
      Path runs = Files.createDirectories(runsDir());
      runDir = Files.createTempDirectory(runs, "run-");
      Path payloadImage = buildPayload(runDir, payload);
      Path socket = runDir.resolve("ctl.sock");
      ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      listener.bind(UnixDomainSocketAddress.of(socket));
      List<String> command = qemuCommand(image, payloadImage, socket, runDir, options, accel);
      long start = System.nanoTime();
      BackgroundProcess qemu =
          BackgroundProcess.start("lab-qemu-" + accel.name().toLowerCase(), command, runDir);
      LabVm vm = new LabVm(qemu, runDir, accel, listener);
      vm.startNanos = start;
      return vm;
    } catch (IOException e) {
      deleteTree(runDir);
      throw new UncheckedIOException("cannot start the lab VM", e);
    } catch (RuntimeException e) {
      deleteTree(runDir);
      throw e;
    }
  }

  static List<String> qemuCommand(
      LabImage image, Path payloadImage, Path socket, Path runDir, Options options, GuestVm.Accel accel) {
    List<String> command = new ArrayList<>(List.of("qemu-system-x86_64"));
    command.addAll(GuestVm.accelerationArguments(accel));
    command.addAll(List.of(
        "-machine", "q35", "-m", Integer.toString(options.memoryMb()), "-smp", Integer.toString(options.cpus()),
        "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
        "-pidfile", runDir.resolve("qemu.pid").toString(),
        // the IOMMU before every other PCI device, so that each is placed behind it
        "-device", "intel-iommu",
        "-kernel", image.kernel().toString(),
        "-append", "console=ttyS0 root=/dev/nvme0n1 rw rootfstype=ext4 init=/sbin/verge-lab-init"
            + " intel_iommu=on panic=-1 quiet",
        "-drive", "if=none,id=root,format=raw,snapshot=on,file=" + image.rootfs(),
        "-device", "nvme,drive=root,serial=lab-root",
        "-drive", "if=none,id=payload,format=raw,snapshot=on,file=" + payloadImage,
        "-device", "nvme,drive=payload,serial=lab-payload",
        "-chardev", "socket,id=ctl,path=" + socket,
        "-device", "virtio-serial-pci",
        "-device", "virtserialport,chardev=ctl,name=" + CHANNEL));
    int hub = 0;
    int nic = 0;
    for (int pair = 0; pair < options.virtioNicPairs(); pair++, hub++) {
      for (int end = 0; end < 2; end++, nic++) {
        command.addAll(List.of("-netdev", "hubport,id=n" + nic + ",hubid=" + hub,
            "-device", "virtio-net-pci,netdev=n" + nic + ",mac=" + mac(nic)));
      }
    }
    for (int i = 0; i < options.rootBusPciNics(); i++, hub++, nic++) {
      command.addAll(List.of("-netdev", "hubport,id=n" + nic + ",hubid=" + hub,
          "-device", "vmxnet3,netdev=n" + nic + ",mac=" + mac(nic)));
    }
    if (options.bridgedPciNics() > 0) {
      // a conventional PCI bridge has no ACS: everything behind it shares one IOMMU group
      command.addAll(List.of("-device", "pci-bridge,id=shared,chassis_nr=1"));
      for (int i = 0; i < options.bridgedPciNics(); i++, hub++, nic++) {
        command.addAll(List.of("-netdev", "hubport,id=n" + nic + ",hubid=" + hub,
            "-device", "vmxnet3,netdev=n" + nic + ",mac=" + mac(nic) + ",bus=shared,addr=" + (i + 1)));
      }
    }
    return command;
  }

  /** The MAC of the NIC with this index (in QEMU command-line order). */
  public static String mac(int nic) {
    return String.format("52:54:00:1a:b0:%02x", nic);
  }

  private static Path buildPayload(Path runDir, Map<String, Path> payload) throws IOException {
    Path stage = Files.createDirectory(runDir.resolve("payload"));
    for (Map.Entry<String, Path> entry : payload.entrySet()) {
      copyTree(entry.getValue(), stage.resolve(entry.getKey()));
    }
    Path agent = stage.resolve("verge-lab-agent");
    try (InputStream in = LabVm.class.getResourceAsStream("lab-agent.sh")) {
      if (in == null) {
        throw new IllegalStateException("lab-agent.sh is missing from netlab's resources");
      }
      Files.copy(in, agent);
    }
    Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("rwxr-xr-x"));
    long bytes;
    try (Stream<Path> files = Files.walk(stage)) {
      bytes = files.filter(Files::isRegularFile).mapToLong(LabVm::size).sum();
    }
    long kib = bytes / 1024 + bytes / 1024 / 4 + 32 * 1024; // a quarter extra plus metadata room
    Path image = runDir.resolve("payload.img");
    Exec.run(List.of("mke2fs", "-q", "-t", "ext4", "-O", "^has_journal", "-L", "lab-payload", "-d",
        stage.toString(), image.toString(), kib + "k"), Duration.ofMinutes(2)).requireOk();
    deleteTree(stage); // the image holds it now
    return image;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    if (!Files.exists(from)) {
      throw new IllegalArgumentException("lab payload: " + from + " does not exist");
    }
    Files.createDirectories(to.getParent());
    if (!Files.isDirectory(from)) {
      Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
      return;
    }
    try (Stream<Path> tree = Files.walk(from)) {
      for (Path source : (Iterable<Path>) tree::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      listener.configureBlocking(false);
      while ((channel = listener.accept()) == null) {
        requireAlive("before QEMU opened the command channel");
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("lab VM: QEMU did not open the command channel within " + timeout);
        }
        BackgroundProcess.sleep(20);
      }
      channel.configureBlocking(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    reader = new Thread(this::readChannel, "lab-channel-reader");
    reader.setDaemon(true);
    reader.start();
    synchronized (received) {
      while (received.indexOf("VERGE-LAB-READY\n") < 0) {
        waitForInput(deadline, timeout, "ready");
      }
      consumed = received.indexOf("VERGE-LAB-READY\n") + "VERGE-LAB-READY\n".length();
    }
    bootToReady = Duration.ofNanos(System.nanoTime() - startNanos);
  }

  private void readChannel() {
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    StringBuilder line = new StringBuilder();
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE);
    java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(64 * 1024);
    try {
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        decoder.decode(buffer, chars, false);
        buffer.compact();
        chars.flip();
        String text = chars.toString();
        chars.clear();
        synchronized (received) {
          received.append(text);
          received.notifyAll();
        }
        for (char c : text.toCharArray()) {
          if (c == '\n') {
            String done = line.toString();
            line.setLength(0);
            if (!done.startsWith("VERGE-LAB-")) {
              lineSink.accept(done);
            }
          } else {
            line.append(c);
          }
        }
      }
    } catch (IOException closed) {
      // the VM went away or we closed the channel: waiters see QEMU gone
    } finally {
      synchronized (received) {
        received.notifyAll();
      }
    }
  }

  /** Must hold {@code received}'s lock. */
  private void waitForInput(long deadline, Duration timeout, String what) {
    requireAlive("while waiting for " + what);
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new IllegalStateException("lab VM: no " + what + " within " + timeout + "; console:\n"
          + BackgroundProcess.tail(console()));
    }
    try {
      received.wait(Math.min(200, Math.max(1, left / 1_000_000)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void requireAlive(String when) {
    if (!qemu.isAlive()) {
      throw new IllegalStateException("lab VM: QEMU exited " + when + "; console:\n" + BackgroundProcess.tail(console()));
    }
  }

  /** Runs a shell command inside the VM (as root, in /tmp) and returns its exit code and output. */
  public ExecResult run(String command, Duration timeout) {
    return run(command, timeout, line -> {});
  }

  /** The same, handing each line of output to {@code progress} as it arrives (on another thread). */
  public synchronized ExecResult run(String command, Duration timeout, Consumer<String> progress) {
    int id = commands.incrementAndGet();
    String request = "RUN " + id + " "
        + Base64.getEncoder().encodeToString(command.getBytes(StandardCharsets.UTF_8)) + "\n";
    long deadline = System.nanoTime() + timeout.toNanos();
    lineSink = progress;
    try {
      channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
      synchronized (received) {
        while (true) {
          Matcher exit = EXIT.matcher(received);
          if (exit.find(consumed) && Integer.parseInt(exit.group(1)) == id) {
            String output = received.substring(consumed, exit.start());
            consumed = exit.end();
            return new ExecResult(List.of("lab", command), Integer.parseInt(exit.group(2)), output, "");
          }
          waitForInput(deadline, timeout, "end of '" + command + "'");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("lab VM: cannot send a command", e);
    } finally {
      lineSink = line -> {};
    }
  }

  public GuestVm.Accel accel() {
    return accel;
  }

  /** From QEMU's start to the agent's ready line on the command channel. */
  public Duration bootToReady() {
    return bootToReady;
  }

  /** The serial console so far (kernel messages, init's lines). */
  public String console() {
    return qemu.output();
  }

  @Override
  public void close() {
    cleanUp();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // already running the hooks
    }
  }

  /** Not synchronized: the shutdown hook must not wait for a command that is still running. */
  private void cleanUp() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(channel);
    closeQuietly(listener);
    qemu.close();
    deleteTree(runDir);
  }

  /** Kills the QEMU of runs whose JVM died without closing them, and deletes their directories. */
  public static void sweepStale() {
    Path runs = runsDir();
    if (!Files.isDirectory(runs)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(runs)) {
      for (Path dir : dirs.toList()) {
        Path pidFile = dir.resolve("qemu.pid");
        if (Files.isRegularFile(pidFile) && isOrphan(dir)) {
          long pid = Long.parseLong(Files.readString(pidFile).trim());
          ProcessHandle.of(pid).filter(p -> p.info().command().orElse("").contains("qemu"))
              .ifPresent(ProcessHandle::destroyForcibly);
          deleteTree(dir);
        }
      }
    } catch (IOException | NumberFormatException e) {
      System.err.println("lab VM: could not sweep stale runs in " + runs + ": " + e);
    }
  }

  /** A run is an orphan when the JVM that started it (QEMU's parent) is gone. */
  private static boolean isOrphan(Path dir) throws IOException {
    long pid = Long.parseLong(Files.readString(dir.resolve("qemu.pid")).trim());
    return ProcessHandle.of(pid).flatMap(ProcessHandle::parent)
        .map(parent -> !parent.info().command().orElse("").contains("java"))
        .orElse(true);
  }

  static Path runsDir() {
    return RepoPaths.buildDir().resolve("lab").resolve("runs");
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    if (closeable != null) {
      try {
        closeable.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(dir)) {
      tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("lab VM: could not delete " + dir + ": " + e);
    }
  }
}
