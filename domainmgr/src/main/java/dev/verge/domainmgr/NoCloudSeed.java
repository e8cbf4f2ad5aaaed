package dev.verge.domainmgr;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cloud-init NoCloud seed disk: a small FAT image labelled {@code cidata} holding
 * {@code user-data} and {@code meta-data}, built without mounting anything (mkfs.vfat, then
 * mtools' mcopy writes the files into the image), so it needs no root.
 */
public final class NoCloudSeed {
  /** The volume label cloud-init's NoCloud datasource looks for. */
  public static final String LABEL = "cidata";
  private static final int SIZE_KIB = 1024;

  private NoCloudSeed() {}

  /** The meta-data cloud-init needs: an instance id (the app's UUID) and a host name. */
  static String metaData(String instanceId, String hostname) {
    return "instance-id: " + instanceId + "\nlocal-hostname: " + hostname + "\n";
  }

  /**
   * Writes the seed image to {@code image} (replacing it), with the user data as given.
   *
   * @throws IOException with the tool's own output when mkfs.vfat or mcopy fails
   */
  public static void build(Path image, String userData, String instanceId, String hostname) throws IOException {
    if (userData.getBytes(StandardCharsets.UTF_8).length > (SIZE_KIB - 64) * 1024) {
      throw new IOException("user data of " + userData.length() + " bytes does not fit a " + SIZE_KIB + " KiB seed disk");
    }
    Path dir = Files.createDirectories(image.toAbsolutePath().getParent());
    Path staging = Files.createTempDirectory(dir, "seed");
    try {
      Path user = Files.writeString(staging.resolve("user-data"), userData);
      Path meta = Files.writeString(staging.resolve("meta-data"), metaData(instanceId, hostname));
      Files.deleteIfExists(image);
      run(List.of("mkfs.vfat", "-n", LABEL.toUpperCase(java.util.Locale.ROOT), "-C", image.toString(),
          Integer.toString(SIZE_KIB)));
      run(List.of("mcopy", "-o", "-i", image.toString(), user.toString(), meta.toString(), "::"));
    } finally {
      try (var files = Files.list(staging)) {
        for (Path f : files.toList()) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(staging);
    }
  }

  private static void run(List<String> command) throws IOException {
    List<String> args = new ArrayList<>(command);
    Process p;
    try {
      p = new ProcessBuilder(args).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException(args.get(0) + " is needed for cloud-init seed disks (scripts/setup installs it): "
          + e.getMessage(), e);
    }
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", args) + " took over 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + args.get(0), e);
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", args) + " failed (exit " + p.exitValue() + "): " + output);
    }
  }
}
