package dev.verge.netlab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The lab VM's image built by {@code images/lab/build.sh}: Debian's cloud kernel and a bookworm
 * root filesystem with a Java runtime and the kernel's modules.
 */
public record LabImage(Path kernel, Path rootfs, String kernelVersion) {

  /** Builds the image if the cached copy is missing or stale (minutes the first time), and returns it. */
  public static LabImage ensureBuilt() {
    Path out = RepoPaths.buildDir().resolve("lab");
    Exec.run(List.of(RepoPaths.root().resolve("images/lab/build.sh").toString(), out.toString()), Duration.ofMinutes(30))
        .requireOk();
    return at(out);
  }

  /** The image already built in {@code dir}. */
  public static LabImage at(Path dir) {
    try {
      LabImage image = new LabImage(dir.resolve("vmlinuz"), dir.resolve("rootfs.img"),
          Files.readString(dir.resolve("kernel-version")).trim());
      if (!Files.isRegularFile(image.kernel()) || !Files.isRegularFile(image.rootfs())) {
        throw new IllegalStateException("lab image in " + dir + " has no vmlinuz or rootfs.img");
      }
      return image;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("no lab image in " + dir + " (images/lab/build.sh builds it)", e);
    }
  }
}
