package dev.verge.pubsub.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.WireFormat;
import dev.verge.proto.bus.v1.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import java.io.IOException;

/**
 * Bus frames on a stream socket: a 4-byte big-endian length, then one serialized {@link
 * Envelope}.
 *
 * <p>Updates, the bulk of the traffic, are written and read field by field rather than through
 * {@code Envelope}/{@code Update} objects: the value is serialized straight into the socket buffer
 * and parsed straight out of it. The bytes on the wire are the same as the generated code's, so
 * either end may use either path. On two cores, every copy and every short-lived object per
 * message shows up as garbage-collection pauses in the bus's latency tail.
 */
final class Framing {
  /** Room for the envelope around a value of the maximum size (key ≤ 255 bytes, tags). */
  private static final int ENVELOPE_OVERHEAD = 1024;

  private static final int UPDATE_TAG = lengthDelimitedTag(Envelope.UPDATE_FIELD_NUMBER);
  private static final int KEY_FIELD = 1;
  private static final int VALUE_FIELD = 2;
  private static final int KEY_TAG = lengthDelimitedTag(KEY_FIELD);
  private static final int VALUE_TAG = lengthDelimitedTag(VALUE_FIELD);

  private Framing() {}

  private static int lengthDelimitedTag(int field) {
    return (field << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  }

  /** Frames in, {@link Envelope}s out; the publisher's side (it reads only requests). */
  static void install(ChannelPipeline pipeline, int maxMessageBytes) {
    installFrames(pipeline, maxMessageBytes);
    pipeline.addLast("decode", new ProtobufDecoder(Envelope.getDefaultInstance()));
  }

  /** Frames in as {@link ByteBuf}s, for {@link #readUpdate}; the subscriber's side. */
  static void installRaw(ChannelPipeline pipeline, int maxMessageBytes) {
    installFrames(pipeline, maxMessageBytes);
  }

  private static void installFrames(ChannelPipeline pipeline, int maxMessageBytes) {
    pipeline.addLast(
        "frames", new LengthFieldBasedFrameDecoder(maxMessageBytes + ENVELOPE_OVERHEAD, 0, 4, 0, 4));
    pipeline.addLast("encode", new EnvelopeEncoder());
  }

  /** One update frame (length prefix included), serialized from the value without copies. */
  static ByteBuf encodeUpdate(ByteBufAllocator alloc, String key, Message value) throws IOException {
    int valueSize = value.getSerializedSize(); // memoized by the message
    int updateSize =
        CodedOutputStream.computeStringSize(KEY_FIELD, key)
            + CodedOutputStream.computeTagSize(VALUE_FIELD)
            + CodedOutputStream.computeUInt32SizeNoTag(valueSize)
            + valueSize;
    int envelopeSize =
        CodedOutputStream.computeUInt32SizeNoTag(UPDATE_TAG)
            + CodedOutputStream.computeUInt32SizeNoTag(updateSize)
            + updateSize;
    ByteBuf out = alloc.ioBuffer(4 + envelopeSize);
    boolean done = false;
    try {
      out.writeInt(envelopeSize);
      var cos = CodedOutputStream.newInstance(out.nioBuffer(4, envelopeSize));
      cos.writeUInt32NoTag(UPDATE_TAG);
      cos.writeUInt32NoTag(updateSize);
      cos.writeString(KEY_FIELD, key);
      cos.writeUInt32NoTag(VALUE_TAG);
      cos.writeUInt32NoTag(valueSize);
      value.writeTo(cos);
      cos.flush();
      out.writerIndex(4 + envelopeSize);
      done = true;
      return out;
    } finally {
      if (!done) {
        out.release();
      }
    }
  }

  /**
   * Parses {@code frame} as an update straight from the socket buffer and hands it to {@code
   * sink}; returns false, reading nothing, when the frame is another kind of envelope.
   *
   * @throws IOException when the frame is an update that does not parse
   */
  static <T extends Message> boolean readUpdate(ByteBuf frame, Parser<T> parser, PublicationSink<T> sink)
      throws IOException {
    if (!frame.isReadable() || frame.getByte(frame.readerIndex()) != UPDATE_TAG) {
      return false;
    }
    var in = CodedInputStream.newInstance(frame.nioBuffer());
    in.readTag(); // UPDATE_TAG, checked above
    int outer = in.pushLimit(in.readRawVarint32());
    String key = "";
    T value = null;
    for (int tag; (tag = in.readTag()) != 0; ) {
      if (tag == KEY_TAG) {
        key = in.readStringRequireUtf8();
      } else if (tag == VALUE_TAG) {
        int limit = in.pushLimit(in.readRawVarint32());
        value = parser.parseFrom(in);
        in.popLimit(limit);
      } else if (!in.skipField(tag)) {
        break;
      }
    }
    in.popLimit(outer);
    if (!in.isAtEnd()) {
      throw new IOException("update frame has bytes after the envelope");
    }
    // proto3: an absent value field is the default (empty) message.
    sink.update(key, value != null ? value : parser.parseFrom(new byte[0]));
    return true;
  }

  /** Length prefix and message in one buffer, serialized straight into it. */
  private static final class EnvelopeEncoder extends MessageToByteEncoder<Envelope> {
    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Envelope msg, boolean preferDirect) {
      return ctx.alloc().ioBuffer(4 + msg.getSerializedSize());
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Envelope msg, ByteBuf out) throws IOException {
      int size = msg.getSerializedSize();
      out.writeInt(size);
      int index = out.writerIndex();
      out.ensureWritable(size);
      var cos = CodedOutputStream.newInstance(out.nioBuffer(index, size));
      msg.writeTo(cos);
      cos.flush();
      out.writerIndex(index + size);
    }
  }
}
