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
}
