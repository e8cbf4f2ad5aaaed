package dev.verge.hostos.vici;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The VICI wire format: a packet is a 4-byte big-endian length, a type byte, a name (1-byte
 * length) for named types, then the message as a sequence of elements: section start (1, name),
 * section end (2), key/value (3, name, 2-byte length value), list start (4, name), list item (5,
 * 2-byte length value), list end (6). Malformed input is refused with an
 * {@link IllegalArgumentException} saying where.
 */
public final class ViciCodec {
  /** charon's limit (VICI_MESSAGE_SIZE_MAX is 512 KiB). */
  public static final int MAX_PACKET = 512 * 1024;

  private static final int SECTION_START = 1;
  private static final int SECTION_END = 2;
  private static final int KEY_VALUE = 3;
  private static final int LIST_START = 4;
  private static final int LIST_ITEM = 5;
  private static final int LIST_END = 6;

  private ViciCodec() {}

  /** The packet with its length prefix, ready to write. */
  public static byte[] encode(ViciPacket packet) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(packet.type().code());
    packet.name().ifPresent(name -> writeName(body, name));
    if (packet.type().hasMessage()) {
      writeMessage(body, packet.message());
    }
    byte[] payload = body.toByteArray();
    if (payload.length > MAX_PACKET) {
      throw new IllegalArgumentException("VICI packet of " + payload.length + " bytes exceeds " + MAX_PACKET);
    }
    return ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
  }

  /** Decodes one packet's payload (without the length prefix). */
  public static ViciPacket decode(byte[] payload) {
    ByteBuffer in = ByteBuffer.wrap(payload);
    if (!in.hasRemaining()) {
      throw new IllegalArgumentException("empty VICI packet");
    }
    ViciPacket.Type type = ViciPacket.Type.ofCode(in.get() & 0xff);
    Optional<String> name = type.named() ? Optional.of(readName(in, "packet name")) : Optional.empty();
    ViciMessage message = type.hasMessage() ? readMessage(in) : ViciMessage.EMPTY;
    if (in.hasRemaining()) {
      throw new IllegalArgumentException("VICI " + type + " packet has " + in.remaining() + " trailing bytes");
    }
    return new ViciPacket(type, name, message);
  }

  public static byte[] encodeMessage(ViciMessage message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeMessage(out, message);
    return out.toByteArray();
  }

  public static ViciMessage decodeMessage(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    ViciMessage m = readMessage(in);
    if (in.hasRemaining()) {
      throw new IllegalArgumentException("VICI message has " + in.remaining() + " trailing bytes");
    }
    return m;
  }

  private static void writeMessage(ByteArrayOutputStream out, ViciMessage message) {
    message.entries().forEach((key, value) -> {
      if (value instanceof ViciMessage section) {
        out.write(SECTION_START);
        writeName(out, key);
        writeMessage(out, section);
        out.write(SECTION_END);
      } else if (value instanceof List<?> list) {
        out.write(LIST_START);
        writeName(out, key);
        for (Object item : list) {
          out.write(LIST_ITEM);
          writeValue(out, item);
        }
        out.write(LIST_END);
      } else {
        out.write(KEY_VALUE);
        writeName(out, key);
        writeValue(out, value);
      }
    });
  }

  private static void writeName(ByteArrayOutputStream out, String name) {
    byte[] b = name.getBytes(StandardCharsets.UTF_8);
    if (b.length == 0 || b.length > 255) {
      throw new IllegalArgumentException("VICI name must be 1..255 bytes: '" + name + "'");
    }
    out.write(b.length);
    out.writeBytes(b);
  }

  /** A text value as UTF-8, a binary one ({@link Der}) as it is. */
  private static void writeValue(ByteArrayOutputStream out, Object value) {
    byte[] b = value instanceof Der der ? der.bytes() : ((String) value).getBytes(StandardCharsets.UTF_8);
    out.write(b.length >> 8);
    out.write(b.length & 0xff);
    out.writeBytes(b);
  }

  /** Reads elements until the end of the buffer; sections nest through an explicit stack. */
  private static ViciMessage readMessage(ByteBuffer in) {
    Deque<ViciMessage.Builder> open = new ArrayDeque<>();
    Deque<String> openNames = new ArrayDeque<>();
    ViciMessage.Builder current = ViciMessage.builder();
    String list = null;
    List<String> items = null;
    while (in.hasRemaining()) {
      int at = in.position();
      int element = in.get() & 0xff;
      if (list != null && element != LIST_ITEM && element != LIST_END) {
        throw new IllegalArgumentException("VICI element " + element + " at byte " + at + " inside list '" + list + "'");
      }
      switch (element) {
        case SECTION_START -> {
          openNames.push(readName(in, "section name"));
          open.push(current);
          current = ViciMessage.builder();
        }
        case SECTION_END -> {
          if (open.isEmpty()) {
            throw new IllegalArgumentException("VICI section end at byte " + at + " without a section");
          }
          ViciMessage section = current.build();
          current = open.pop();
          current.putSection(openNames.pop(), section);
        }
        case KEY_VALUE -> {
          String key = readName(in, "key");
          current.put(key, readValue(in, key));
        }
        case LIST_START -> {
          list = readName(in, "list name");
          items = new ArrayList<>();
        }
        case LIST_ITEM -> {
          if (list == null) {
            throw new IllegalArgumentException("VICI list item at byte " + at + " outside a list");
          }
          items.add(readValue(in, list));
        }
        case LIST_END -> {
          if (list == null) {
            throw new IllegalArgumentException("VICI list end at byte " + at + " outside a list");
          }
          current.putList(list, items);
          list = null;
          items = null;
        }
        default -> throw new IllegalArgumentException("unknown VICI element type " + element + " at byte " + at);
      }
    }
    if (list != null) {
      throw new IllegalArgumentException("VICI list '" + list + "' not ended");
    }
    if (!open.isEmpty()) {
      throw new IllegalArgumentException("VICI section '" + openNames.peek() + "' not ended");
    }
    return current.build();
  }

  private static String readName(ByteBuffer in, String what) {
    if (!in.hasRemaining()) {
      throw new IllegalArgumentException("VICI " + what + " truncated at byte " + in.position());
    }
    int length = in.get() & 0xff;
    return readText(in, length, what);
  }

  private static String readValue(ByteBuffer in, String key) {
    if (in.remaining() < 2) {
      throw new IllegalArgumentException("VICI value of '" + key + "' truncated at byte " + in.position());
    }
    int length = in.getShort() & 0xffff;
    return readText(in, length, "value of '" + key + "'");
  }

  private static String readText(ByteBuffer in, int length, String what) {
    if (in.remaining() < length) {
      throw new IllegalArgumentException("VICI " + what + " truncated: " + length + " bytes announced, "
          + in.remaining() + " left");
    }
    byte[] b = new byte[length];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
