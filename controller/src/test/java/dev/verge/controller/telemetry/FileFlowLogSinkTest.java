package dev.verge.controller.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.testkit.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flow logs leave the controller as JSON lines, batched, one file per UTC day. */
class FileFlowLogSinkTest {
  @TempDir Path dir;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T23:59:00Z"));

  private static FlowBatch batch(long at) {
    return FlowBatch.newBuilder().setScope(dev.verge.proto.flowlog.v1.FlowScope.newBuilder().setVifName("vif" + at)).build();
  }

  @Test
  void batchesAreBufferedThenWrittenAsOneJsonLineEachWithTheirDevice() throws Exception {
    try (FileFlowLogSink sink = new FileFlowLogSink(dir, clock)) {
      sink.accept("dev-1", List.of(batch(1), batch(2)));
      sink.accept("dev-2", List.of(batch(3)));
      assertThat(Files.exists(sink.currentFile())).as("buffered, not written per upload").isFalse();
      sink.flush();
      List<String> lines = Files.readAllLines(dir.resolve("flowlogs-2026-12-07.jsonl"), StandardCharsets.UTF_8);
      assertThat(lines).hasSize(3);
      assertThat(lines.get(2)).startsWith("{\"device\":\"dev-2\",\"batch\":");
      FlowBatch.Builder parsed = FlowBatch.newBuilder();
      String json = lines.get(1);
      JsonFormat.parser().merge(json.substring(json.indexOf("\"batch\":") + 8, json.length() - 1), parsed);
      assertThat(parsed.build()).isEqualTo(batch(2));
    }
  }

  @Test
  void aNewUtcDayStartsANewFileAndCloseWritesWhatIsLeft() throws Exception {
    FileFlowLogSink sink = new FileFlowLogSink(dir, clock);
    sink.accept("dev-1", List.of(batch(1)));
    sink.flush();
    clock.advance(Duration.ofMinutes(2));
    sink.accept("dev-1", List.of(batch(2)));
    sink.close();
    assertThat(Files.readAllLines(dir.resolve("flowlogs-2026-12-07.jsonl"))).hasSize(1);
    assertThat(Files.readAllLines(dir.resolve("flowlogs-2026-12-08.jsonl"))).hasSize(1);
  }
}
