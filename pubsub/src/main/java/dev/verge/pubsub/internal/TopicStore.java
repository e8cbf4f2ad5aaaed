package dev.verge.pubsub.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of one persistent topic: one file per key, each written crash-atomically (temp file,
 * fsync, atomic rename, fsync of the directory) and checksummed.
 *
 * <p>Record layout (big-endian): magic {@code "VRB1"}, CRC32C of the body, then the body: key
 * length (u16), key (UTF-8), value length (u32), value (serialized protobuf). A file whose length,
 * checksum, key or value does not check out is reported, counted and skipped.
 *
 * <p>A file is named after its key ({@code <key>.rec}) when the key is a plain file name, so
 * operators can find it; other keys use a hash of the key. Names starting with '.' are temp
 * files, removed at load.
 */
final class TopicStore {
  private static final Logger log = LoggerFactory.getLogger(TopicStore.class);
  private static final int MAGIC = 0x56524231; // "VRB1"
  private static final int HEADER_BYTES = 8;
  private static final String SUFFIX = ".rec";
  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

  private final Path dir;
  private final String topic;
  private final BusCounters counters;

  TopicStore(Path dir, String topic, BusCounters counters) {
    this.dir = dir;
    this.topic = topic;
    this.counters = counters;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create state directory " + dir, e);
    }
  }

  Path dir() {
    return dir;
  }

  /** Reads every valid record; corrupt ones are logged, counted and skipped. */
  <T extends Message> Map<String, T> load(Parser<T> parser) {
    var state = new HashMap<String, T>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.startsWith(".")) {
          Files.deleteIfExists(file); // an interrupted write: the previous record is intact
          continue;
        }
        if (!name.endsWith(SUFFIX)) {
          continue;
        }
        try {
          var rec = decode(Files.readAllBytes(file));
          if (!fileName(rec.key()).equals(name)) {
            throw new CorruptRecordException("file name does not match key '" + rec.key() + "'");
          }
          state.put(rec.key(), parser.parseFrom(rec.value()));
        } catch (CorruptRecordException | InvalidProtocolBufferException e) {
          counters.corruptFiles.increment();
          log.error("topic {}: skipping corrupt persisted file {}: {}", topic, file, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read state directory " + dir, e);
    }
    return state;
  }

  void write(String key, byte[] value) {
    Path target = dir.resolve(fileName(key));
    Path temp =
        dir.resolve(".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + SUFFIX);
    try {
      try (var ch =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        var buf = ByteBuffer.wrap(encode(key, value));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      syncDirectory();
    } catch (IOException e) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // best effort: load() removes leftovers
      }
      throw new UncheckedIOException("topic " + topic + " key " + key + ": cannot persist", e);
    }
  }

  void delete(String key) {
    try {
      if (Files.deleteIfExists(dir.resolve(fileName(key)))) {
        syncDirectory();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("topic " + topic + " key " + key + ": cannot delete", e);
    }
  }

  static String fileName(String key) {
    if (PLAIN_KEY.matcher(key).matches()) {
      return key + SUFFIX;
    }
    try {
      var digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return "~" + HexFormat.of().formatHex(digest) + SUFFIX;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  static byte[] encode(String key, byte[] value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    var buf = ByteBuffer.allocate(HEADER_BYTES + 2 + k.length + 4 + value.length);
    buf.putInt(MAGIC).putInt(0);
    buf.putShort((short) k.length).put(k).putInt(value.length).put(value);
    var crc = new CRC32C();
    crc.update(buf.array(), HEADER_BYTES, buf.capacity() - HEADER_BYTES);
    buf.putInt(4, (int) crc.getValue());
    return buf.array();
  }

  record Record(String key, byte[] value) {}

  static Record decode(byte[] bytes) throws CorruptRecordException {
    if (bytes.length < HEADER_BYTES + 2 + 4) {
      throw new CorruptRecordException("truncated: " + bytes.length + " bytes");
    }
    var buf = ByteBuffer.wrap(bytes);
    if (buf.getInt() != MAGIC) {
      throw new CorruptRecordException("bad magic");
    }
    int expectedCrc = buf.getInt();
    var crc = new CRC32C();
    crc.update(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES);
    if ((int) crc.getValue() != expectedCrc) {
      throw new CorruptRecordException("checksum mismatch (truncated or damaged)");
    }
    int keyLen = Short.toUnsignedInt(buf.getShort());
    if (keyLen == 0 || buf.remaining() < keyLen + 4) {
      throw new CorruptRecordException("bad key length " + keyLen);
    }
    byte[] k = new byte[keyLen];
    buf.get(k);
    int valueLen = buf.getInt();
    if (valueLen != buf.remaining()) {
      throw new CorruptRecordException("value length " + valueLen + " != " + buf.remaining());
    }
    byte[] value = new byte[valueLen];
    buf.get(value);
    return new Record(new String(k, StandardCharsets.UTF_8), value);
  }

  /** Makes the rename durable: without it a crash can forget the new directory entry. */
  private void syncDirectory() throws IOException {
    try (var ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  static final class CorruptRecordException extends Exception {
    CorruptRecordException(String message) {
      super(message);
    }
  }
}
