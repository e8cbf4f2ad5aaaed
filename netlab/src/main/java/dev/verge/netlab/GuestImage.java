package dev.verge.netlab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The small guest (cloud kernel + busybox initramfs) built by {@code images/guest/build.sh}. */
public record GuestImage(Path kernel, Path initrd) {

  /** Builds the image if the cached copy is missing or stale, and returns it. */
  public static GuestImage ensureBuilt() {
    Path root = RepoPaths.root();
    Path out = RepoPaths.buildDir().resolve("guest");
    ExecResult result =
        Exec.run(
            List.of(root.resolve("images/guest/build.sh").toString(), out.toString()), Duration.ofMinutes(5));
    result.requireOk();
    GuestImage image = new GuestImage(out.resolve("vmlinuz"), out.resolve("initrd.img"));
    if (!Files.isRegularFile(image.kernel()) || !Files.isRegularFile(image.initrd())) {
      throw new IllegalStateException("guest image build produced no kernel/initrd in " + out);
    }
    return image;
  }

  /**
   * This image with NIC hot-plug in the guest: after its boot-time work, its init keeps watching
   * for new ethN and asks each for a lease (printing {@code VERGE-LEASE} as at boot). Made by
   * appending a second initramfs archive with the changed /init (the kernel unpacks concatenated
   * archives in order), so the image recipe of images/guest and its cache stay as they are.
   */
  public GuestImage withNicHotplug(Path dir) {
    try {
      Files.createDirectories(dir);
      Path root = Files.createDirectories(dir.resolve("overlay-root"));
      String init = Files.readString(RepoPaths.root().resolve("images/guest/init"));
      String idle = "while true; do sleep 3600; done";
      if (!init.contains(idle)) {
        throw new IllegalStateException("images/guest/init no longer ends in its idle loop: update withNicHotplug");
      }
      init = init.replace(idle, String.join("\n",
          "for dev in $(ls /sys/class/net | grep '^eth'); do touch /tmp/seen-$dev; done",
          "while true; do",
          "  for dev in $(ls /sys/class/net | grep '^eth'); do",
          "    [ -e /tmp/seen-$dev ] && continue",
          "    touch /tmp/seen-$dev; echo \"VERGE-HOTPLUG $dev\"",
          "    ip link set \"$dev\" up",
          "    udhcpc -i \"$dev\" -f -q -n -t 20 -T 1 -s /bin/lease.sh >/dev/null 2>&1 &",
          "  done",
          "  sleep 0.1",
          "done"));
      Path initFile = root.resolve("init");
      Files.writeString(initFile, init);
      Files.setPosixFilePermissions(initFile, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      Path overlay = dir.resolve("hotplug.cpio.gz");
      Exec.run(List.of("sh", "-c", "cd '" + root + "' && echo init | cpio -o -H newc --quiet | gzip -9 > '" + overlay + "'"),
          Duration.ofSeconds(30)).requireOk();
      Path initrd = dir.resolve("initrd-hotplug.img");
      Files.write(initrd, Files.readAllBytes(initrd()));
      Files.write(initrd, Files.readAllBytes(overlay), java.nio.file.StandardOpenOption.APPEND);
      return new GuestImage(kernel, initrd);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
