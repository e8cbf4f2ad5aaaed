package dev.verge.hostos.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The rtattrs of one message or nested attribute, by type; later duplicates win. */
final class NetlinkAttributes {
  private static final int TYPE_MASK = 0x3fff;
  private final Map<Integer, ByteBuffer> values = new HashMap<>();

  private NetlinkAttributes() {}

  /** Parses the attributes between two absolute offsets of a native-order buffer. */
  static NetlinkAttributes parse(ByteBuffer buffer, int from, int to) {
    NetlinkAttributes attributes = new NetlinkAttributes();
    int offset = from;
    while (offset + 4 <= to) {
      int length = Short.toUnsignedInt(buffer.getShort(offset));
      int type = Short.toUnsignedInt(buffer.getShort(offset + 2)) & TYPE_MASK;
      if (length < 4 || offset + length > to) {
        break;
      }
      ByteBuffer value =
          buffer.duplicate().position(offset + 4).limit(offset + length).slice()
              .order(ByteOrder.nativeOrder());
      attributes.values.put(type, value);
      offset += NetlinkMessage.align(length);
    }
    return attributes;
  }

  /** The value of an attribute as a native-order buffer, or null. */
  ByteBuffer raw(int type) {
    return values.get(type);
  }

  /** Every attribute in a buffer in order, duplicates of a type included. */
  static List<ByteBuffer> each(ByteBuffer buffer) {
    List<ByteBuffer> all = new ArrayList<>();
    int offset = 0;
    while (offset + 4 <= buffer.limit()) {
      int length = Short.toUnsignedInt(buffer.getShort(offset));
      if (length < 4 || offset + length > buffer.limit()) {
        break;
      }
      all.add(buffer.duplicate().position(offset + 4).limit(offset + length).slice()
          .order(ByteOrder.nativeOrder()));
      offset += NetlinkMessage.align(length);
    }
    return all;
  }

  /** Every attribute of one type in a buffer, in order (IFLA_BRIDGE_VLAN_INFO repeats). */
  static List<ByteBuffer> eachOfType(ByteBuffer buffer, int wanted) {
    List<ByteBuffer> all = new ArrayList<>();
    int offset = 0;
    while (offset + 4 <= buffer.limit()) {
      int length = Short.toUnsignedInt(buffer.getShort(offset));
      int type = Short.toUnsignedInt(buffer.getShort(offset + 2)) & TYPE_MASK;
      if (length < 4 || offset + length > buffer.limit()) {
        break;
      }
      if (type == wanted) {
        all.add(buffer.duplicate().position(offset + 4).limit(offset + length).slice()
            .order(ByteOrder.nativeOrder()));
      }
      offset += NetlinkMessage.align(length);
    }
    return all;
  }

  boolean has(int type) {
    return values.containsKey(type);
  }

  Optional<byte[]> bytes(int type) {
    ByteBuffer value = values.get(type);
    if (value == null) {
      return Optional.empty();
    }
    byte[] bytes = new byte[value.remaining()];
    value.duplicate().get(bytes);
    return Optional.of(bytes);
  }

  int u32(int type, int absent) {
    ByteBuffer value = values.get(type);
    return value == null || value.remaining() < 4 ? absent : value.getInt(0);
  }

  /** A big-endian number of 1, 2, 4 or 8 bytes (netfilter attributes are in network order). */
  long bigEndian(int type, long absent) {
    ByteBuffer value = values.get(type);
    if (value == null || value.remaining() == 0) {
      return absent;
    }
    long result = 0;
    for (int i = 0; i < value.remaining(); i++) {
      result = (result << 8) | (value.get(i) & 0xff);
    }
    return result;
  }

  Optional<String> string(int type) {
    return bytes(type).map(NetlinkAttributes::cString);
  }

  NetlinkAttributes nested(int type) {
    ByteBuffer value = values.get(type);
    return value == null ? new NetlinkAttributes() : parse(value, 0, value.limit());
  }

  static String cString(byte[] bytes) {
    int end = 0;
    while (end < bytes.length && bytes[end] != 0) {
      end++;
    }
    return new String(bytes, 0, end, StandardCharsets.UTF_8);
  }
}
