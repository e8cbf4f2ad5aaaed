package dev.verge.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicStoreTest {
  @TempDir Path dir;
  BusCounters counters;
  TopicStore store;

  @BeforeEach
  void open() {
    counters = new BusCounters();
    store = new TopicStore(dir.resolve("nim/Status"), "nim/Status", counters);
  }

  @Test
  void writtenValuesAreLoadedBackAndARewriteReplacesTheOldValue() {
    store.write("eth0", StringValue.of("up").toByteArray());
    store.write("eth1", StringValue.of("down").toByteArray());
    store.write("eth1", StringValue.of("up").toByteArray());
    store.delete("eth0");

    var reopened = new TopicStore(store.dir(), "nim/Status", counters);
    assertThat(reopened.load(StringValue.parser())).isEqualTo(Map.of("eth1", StringValue.of("up")));
    assertThat(counters.snapshot().corruptFiles()).isZero();
  }

  @Test
  void keysThatAreNoPlainFileNamesStillRoundTrip() {
    var keys = new String[] {"..", ".hidden", "with space", "ünïcödé", "x".repeat(255)};
    for (var key : keys) {
      store.write(key, StringValue.of(key).toByteArray());
    }
    var loaded = store.load(StringValue.parser());
    assertThat(loaded).hasSize(keys.length);
    for (var key : keys) {
      assertThat(loaded.get(key)).isEqualTo(StringValue.of(key));
    }
  }

  @Test
  void aFileWithAFlippedByteIsReportedAndSkipped() throws IOException {
    store.write("good", StringValue.of("fine").toByteArray());
    store.write("bad", StringValue.of("will be damaged").toByteArray());
    var bad = store.dir().resolve("bad.rec");
    byte[] bytes = Files.readAllBytes(bad);
    bytes[bytes.length - 3] ^= 0x20;
    Files.write(bad, bytes);

    assertThat(store.load(StringValue.parser())).containsOnlyKeys("good");
    assertThat(counters.snapshot().corruptFiles()).isEqualTo(1);
  }

  @Test
  void aTruncatedFileIsReportedAndSkipped() throws IOException {
    store.write("cut", StringValue.of("a value long enough to cut").toByteArray());
    var file = store.dir().resolve("cut.rec");
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
    Files.write(store.dir().resolve("empty.rec"), new byte[0]);

    assertThat(store.load(StringValue.parser())).isEmpty();
    assertThat(counters.snapshot().corruptFiles()).isEqualTo(2);
  }

  @Test
  void aFileCopiedUnderAnotherKeysNameIsReportedAndSkipped() throws IOException {
    store.write("eth0", StringValue.of("up").toByteArray());
    Files.copy(store.dir().resolve("eth0.rec"), store.dir().resolve("eth9.rec"));

    assertThat(store.load(StringValue.parser())).containsOnlyKeys("eth0");
    assertThat(counters.snapshot().corruptFiles()).isEqualTo(1);
  }

  @Test
  void leftoverTempFilesOfAnInterruptedWriteAreRemovedAndTheOldValueKept() throws IOException {
    store.write("eth0", StringValue.of("old").toByteArray());
    Files.write(store.dir().resolve(".tmp-1234.rec"), new byte[] {1, 2, 3});

    assertThat(store.load(StringValue.parser())).isEqualTo(Map.of("eth0", StringValue.of("old")));
    try (Stream<Path> files = Files.list(store.dir())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("eth0.rec");
    }
    assertThat(counters.snapshot().corruptFiles()).isZero();
  }
}
