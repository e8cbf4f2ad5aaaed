package dev.verge.proto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Crash-safe file replacement: after a crash (even kill -9 or power loss) a file holds either its
 * old or its new content, never a mix. Write a temp file in the same directory, fsync it, rename
 * it over the target atomically, then fsync the directory so the rename itself is durable.
 */
public final class AtomicFiles {
  static final String TEMP_PREFIX = ".tmp-";

  private AtomicFiles() {}

  public static void write(Path target, byte[] content) throws IOException {
    write(target, content, false);
  }

  /**
   * Like {@link #write(Path, byte[])} for secrets (private keys): the file is readable by its owner
   * only from the moment it exists, never briefly with the umask's permissions.
   */
  public static void writeSecret(Path target, byte[] content) throws IOException {
    write(target, content, true);
  }

  private static void write(Path target, byte[] content, boolean ownerOnly) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path temp = dir.resolve(TEMP_PREFIX + target.getFileName() + "-" + UUID.randomUUID());
    try {
      createTemp(temp, ownerOnly);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(content);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
    syncDirectory(dir);
  }

  /**
   * Creates the temp file; a secret's is created owner-only in the same call, so no one can open
   * it in between and read the secret through that descriptor once it is written.
   */
  private static void createTemp(Path temp, boolean ownerOnly) throws IOException {
    if (ownerOnly) {
      try {
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return;
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system: nothing more can be done
      }
    }
    Files.createFile(temp);
  }

  /** Removes temp files a crash left behind; they are never the only copy of anything. */
  public static void removeLeftovers(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        if (file.getFileName().toString().startsWith(TEMP_PREFIX)) {
          Files.deleteIfExists(file);
        }
      }
    }
  }


  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
