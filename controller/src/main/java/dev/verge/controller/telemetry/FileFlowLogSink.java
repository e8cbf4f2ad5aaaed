package dev.verge.controller.telemetry;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.verge.proto.flowlog.v1.FlowBatch;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flow logs as JSON lines, one file per UTC day ({@code <dir>/flowlogs-2026-12-07.jsonl}), each line
 * {@code {"device":"<uuid>","batch":{...}}} in the protobuf JSON mapping. Writes are batched: lines
 * collect in a buffer that is written out every second, when it passes 1 MiB, and at close, so
 * thousands of devices cost one write per second, not one per upload.
 */
public final class FileFlowLogSink implements FlowLogSink {
  private static final Logger LOG = LoggerFactory.getLogger(FileFlowLogSink.class);
  private static final int FLUSH_BYTES = 1 << 20;
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();

  private final Path dir;
  private final Clock clock;
  private final ScheduledExecutorService flusher;
  private final StringBuilder buffer = new StringBuilder();
  private LocalDate day;
  private BufferedWriter writer;

  public FileFlowLogSink(Path dir, Clock clock) throws IOException {
    this.dir = dir;
    this.clock = clock;
    Files.createDirectories(dir);
    this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "flowlog-flush");
      thread.setDaemon(true);
      return thread;
    });
    flusher.scheduleWithFixedDelay(this::flushQuietly, 1, 1, TimeUnit.SECONDS);
  }

  /** The file today's lines go to. */
  public Path currentFile() {
    return dir.resolve("flowlogs-" + LocalDate.now(clock.withZone(ZoneOffset.UTC)) + ".jsonl");
  }

  @Override
  public void accept(String device, List<FlowBatch> batches) throws IOException {
    StringBuilder lines = new StringBuilder();
    for (FlowBatch batch : batches) {
      try {
        lines.append("{\"device\":\"").append(device).append("\",\"batch\":").append(JSON.print(batch)).append("}\n");
      } catch (InvalidProtocolBufferException e) {
        throw new IOException("flow batch of " + device + " cannot be printed: " + e.getMessage(), e);
      }
    }
    boolean full;
    synchronized (this) {
      buffer.append(lines);
      full = buffer.length() >= FLUSH_BYTES;
    }
    if (full) {
      flush();
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    if (buffer.length() == 0) {
      return;
    }
    LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
    if (writer == null || !today.equals(day)) {
      if (writer != null) {
        writer.close();
      }
      day = today;
      writer = Files.newBufferedWriter(currentFile(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
    writer.append(buffer);
    writer.flush();
    buffer.setLength(0);
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (IOException e) {
      LOG.error("flow logs could not be written to {}: {} (kept in memory, retried in a second)", dir, e.getMessage());
    }
  }

  @Override
  public void close() throws IOException {
    flusher.shutdownNow();
    synchronized (this) {
      flush();
      if (writer != null) {
        writer.close();
        writer = null;
      }
    }
  }
}
