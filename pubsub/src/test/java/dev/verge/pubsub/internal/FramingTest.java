package dev.verge.pubsub.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.StringValue;
import dev.verge.proto.bus.v1.Delete;
import dev.verge.proto.bus.v1.Envelope;
import dev.verge.proto.bus.v1.Update;
import dev.verge.pubsub.PublisherInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hand-written update path must put and take exactly the generated code's bytes. */
class FramingTest {
  private static final StringValue VALUE = StringValue.of("eth0 is up — ünïcode");

  @Test
  void encodedUpdateIsTheGeneratedEnvelopeWithItsLength() throws IOException {
    ByteBuf frame = Framing.encodeUpdate(PooledByteBufAllocator.DEFAULT, "port/eth0", VALUE);
    try {
      byte[] expected =
          Envelope.newBuilder()
              .setUpdate(Update.newBuilder().setKey("port/eth0").setValue(VALUE.toByteString()))
              .build()
              .toByteArray();
      assertEquals(expected.length, frame.readInt());
      byte[] actual = new byte[frame.readableBytes()];
      frame.readBytes(actual);
      assertArrayEquals(expected, actual);
    } finally {
      frame.release();
    }
  }

  @Test
  void generatedUpdateIsReadWithoutEnvelopeObjects() throws IOException {
    var sink = new Collecting();
    var frame =
        Unpooled.wrappedBuffer(
            Envelope.newBuilder()
                .setUpdate(Update.newBuilder().setKey("k").setValue(VALUE.toByteString()))
                .build()
                .toByteArray());
    assertTrue(Framing.readUpdate(frame, StringValue.parser(), sink));
    assertEquals(List.of(Map.entry("k", VALUE)), sink.updates);
  }

  @Test
  void roundTripThroughADirectBuffer() throws IOException {
    var sink = new Collecting();
    ByteBuf frame = Framing.encodeUpdate(PooledByteBufAllocator.DEFAULT, "k", VALUE);
    try {
      frame.skipBytes(4); // the length prefix, as the frame decoder strips it
      assertTrue(Framing.readUpdate(frame, StringValue.parser(), sink));
    } finally {
      frame.release();
    }
    assertEquals(List.of(Map.entry("k", VALUE)), sink.updates);
  }

  @Test
  void emptyValueIsTheDefaultMessage() throws IOException {
    var sink = new Collecting();
    var frame =
        Unpooled.wrappedBuffer(
            Envelope.newBuilder().setUpdate(Update.newBuilder().setKey("k")).build().toByteArray());
    assertTrue(Framing.readUpdate(frame, StringValue.parser(), sink));
    assertEquals(List.of(Map.entry("k", StringValue.getDefaultInstance())), sink.updates);
  }

  @Test
  void otherEnvelopesAreLeftForTheGeneratedParser() throws IOException {
    var sink = new Collecting();
    var frame =
        Unpooled.wrappedBuffer(
            Envelope.newBuilder().setDelete(Delete.newBuilder().setKey("k")).build().toByteArray());
    assertFalse(Framing.readUpdate(frame, StringValue.parser(), sink));
    assertEquals(0, frame.readerIndex());
    assertTrue(sink.updates.isEmpty());
  }

  @Test
  void damagedUpdateIsAnErrorNotADelivery() {
    var sink = new Collecting();
    byte[] good =
        Envelope.newBuilder()
            .setUpdate(Update.newBuilder().setKey("k").setValue(ByteString.copyFromUtf8("x")))
            .build()
            .toByteArray();
    byte[] cut = java.util.Arrays.copyOf(good, good.length - 1);
    assertThrows(
        IOException.class,
        () -> Framing.readUpdate(Unpooled.wrappedBuffer(cut), StringValue.parser(), sink));
    byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
    assertThrows(
        IOException.class,
        () -> Framing.readUpdate(Unpooled.wrappedBuffer(trailing), StringValue.parser(), sink));
    assertTrue(sink.updates.isEmpty());
  }

  private static final class Collecting implements PublicationSink<StringValue> {
    final List<Map.Entry<String, StringValue>> updates = new ArrayList<>();

    @Override
    public void update(String key, StringValue value) {
      updates.add(Map.entry(key, value));
    }

    @Override
    public void beginSnapshot(PublisherInfo info) {}

    @Override
    public void delete(String key) {}

    @Override
    public void endSnapshot() {}

    @Override
    public void restarted(long epoch, long restartCounter) {}
  }
}
