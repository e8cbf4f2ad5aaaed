package dev.verge.hostos.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Writes one netlink message (nlmsghdr, fixed family header, rtattrs) into a buffer at its
 * position, in native byte order with the 4-byte alignment netlink wants. Messages written one
 * after another form a batch the kernel takes in one sendmsg.
 */
final class NetlinkMessage {
  static final int HEADER_LENGTH = 16;
  static final int NLM_F_REQUEST = 0x1;
  static final int NLM_F_MULTI = 0x2;
  static final int NLM_F_ACK = 0x4;
  static final int NLM_F_DUMP = 0x300;
  static final int NLM_F_REPLACE = 0x100;
  static final int NLM_F_EXCL = 0x200;
  static final int NLM_F_CREATE = 0x400;
  static final int NLM_F_ACK_TLVS = 0x200;
  static final int NLMSG_ERROR = 2;
  static final int NLMSG_DONE = 3;
  static final int NLMSG_OVERRUN = 4;
  static final int NLA_F_NESTED = 0x8000;

  private final ByteBuffer buffer;
  private final int start;

  NetlinkMessage(ByteBuffer buffer, int type, int flags, int sequence) {
    this.buffer = buffer;
    this.start = buffer.position();
    buffer.order(ByteOrder.nativeOrder());
    buffer.putInt(0).putShort((short) type).putShort((short) flags).putInt(sequence).putInt(0);
  }

  static int align(int length) {
    return (length + 3) & ~3;
  }

  NetlinkMessage u8(int value) {
    buffer.put((byte) value);
    return this;
  }

  NetlinkMessage u16(int value) {
    buffer.putShort((short) value);
    return this;
  }

  NetlinkMessage u32(int value) {
    buffer.putInt(value);
    return this;
  }

  NetlinkMessage zeros(int count) {
    for (int i = 0; i < count; i++) {
      buffer.put((byte) 0);
    }
    return this;
  }

  NetlinkMessage attr(int type, byte[] value) {
    buffer.putShort((short) (4 + value.length)).putShort((short) type).put(value);
    return pad();
  }

  NetlinkMessage attrU8(int type, int value) {
    return attr(type, new byte[] {(byte) value});
  }

  NetlinkMessage attrU16(int type, int value) {
    buffer.putShort((short) 6).putShort((short) type).putShort((short) value);
    return pad();
  }

  /** A 16-bit value in network byte order (ports). */
  NetlinkMessage attrBe16(int type, int value) {
    return attr(type, new byte[] {(byte) (value >>> 8), (byte) value});
  }

  NetlinkMessage attrU32(int type, int value) {
    buffer.putShort((short) 8).putShort((short) type).putInt(value);
    return this;
  }

  /** A NUL-terminated string, as the kernel's NLA_STRING/NLA_NUL_STRING policies accept. */
  NetlinkMessage attrString(int type, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
    byte[] terminated = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, terminated, 0, bytes.length);
    return attr(type, terminated);
  }

  /** Starts a nested attribute; returns the mark to give to {@link #endNested}. */
  int beginNested(int type) {
    int mark = buffer.position();
    buffer.putShort((short) 0).putShort((short) (type | NLA_F_NESTED));
    return mark;
  }

  NetlinkMessage endNested(int mark) {
    buffer.putShort(mark, (short) (buffer.position() - mark));
    return this;
  }

  /** Sets this message's length; the buffer stays open for the next message of a batch. */
  NetlinkMessage end() {
    pad();
    buffer.putInt(start, buffer.position() - start);
    return this;
  }

  /** Ends the message and returns the buffer (from 0: the message or batch) ready to send. */
  ByteBuffer finish() {
    end();
    buffer.flip();
    return buffer;
  }

  private NetlinkMessage pad() {
    while ((buffer.position() & 3) != 0) {
      buffer.put((byte) 0);
    }
    return this;
  }
}
