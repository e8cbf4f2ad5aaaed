package dev.verge.pubsub.internal;

import com.google.protobuf.CodedOutputStream;
import dev.verge.proto.bus.v1.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import java.io.IOException;

/**
 * Bus frames on a stream socket: a 4-byte big-endian length, then one serialized {@link
 * Envelope}.
 */
final class Framing {
  /** Room for the envelope around a value of the maximum size (key ≤ 255 bytes, tags). */
  private static final int ENVELOPE_OVERHEAD = 1024;

  private Framing() {}

  static void install(ChannelPipeline pipeline, int maxMessageBytes) {
    pipeline.addLast(
        "frames", new LengthFieldBasedFrameDecoder(maxMessageBytes + ENVELOPE_OVERHEAD, 0, 4, 0, 4));
    pipeline.addLast("decode", new ProtobufDecoder(Envelope.getDefaultInstance()));
    pipeline.addLast("encode", new EnvelopeEncoder());
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
