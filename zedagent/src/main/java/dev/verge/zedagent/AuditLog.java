package dev.verge.zedagent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only log of JSON lines that rotates at a size ({@code log}, {@code log.1} ...
 * {@code log.N}), so a flood of refused requests cannot fill the disk. Only entries that record a
 * change are forced to disk; a refusal costs no fsync.
 */
final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

  private final Path file;
  private final long maxBytes;
  private final int keep;
  private FileChannel channel;

  AuditLog(Path file, long maxBytes, int keep) throws IOException {
    this.file = file;
    this.maxBytes = maxBytes;
    this.keep = keep;
    open();
  }

  private void open() throws IOException {
    channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }

  /**
   * Appends one line.
   *
   * @param durable force it to disk before returning (for entries that record a change)
   */
  synchronized void append(String line, boolean durable) {
    try {
      byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
      if (channel.size() + bytes.length > maxBytes && channel.size() > 0) {
        rotate();
      }
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      if (durable) {
        channel.force(false);
      }
    } catch (IOException e) {
      log.error("cannot write audit log {}: {}", file, e.toString());
    }
  }

  private void rotate() throws IOException {
    channel.close();
    for (int i = keep; i >= 1; i--) {
      Path from = i == 1 ? file : sibling(i - 1);
      if (Files.exists(from)) {
        Files.move(from, sibling(i), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    open();
  }

  private Path sibling(int n) {
    return file.resolveSibling(file.getFileName() + "." + n);
  }

  @Override
  public synchronized void close() {
    try {
      channel.close();
    } catch (IOException e) {
      log.warn("cannot close audit log {}: {}", file, e.toString());
    }
  }
}
