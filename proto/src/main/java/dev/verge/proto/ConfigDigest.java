package dev.verge.proto;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Canonical bytes and content hashes. Canonical = deterministic protobuf serialization (map
 * entries sorted by key), so the same config always hashes the same on controller and device.
 */
public final class ConfigDigest {
  private ConfigDigest() {}

  public static byte[] canonicalBytes(MessageLite message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.getSerializedSize());
    try {
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.useDeterministicSerialization();
      message.writeTo(coded);
      coded.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Lower-case hex SHA-256 of the bytes. */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }

  /** Content hash of a message: sha256 over its canonical bytes. */
  public static String contentHash(MessageLite message) {
    return sha256Hex(canonicalBytes(message));
  }
}
