package dev.verge.controller.telemetry;

import dev.verge.proto.flowlog.v1.FlowBatch;
import java.io.IOException;
import java.util.List;

/**
 * Where the flow logs devices upload go, so they leave the controller instead of growing in its
 * memory. The default is {@link FileFlowLogSink} (JSON lines under the data directory, for a log
 * shipper to pick up); another sink (OTLP logs, a message queue) implements the same two calls.
 */
public interface FlowLogSink extends AutoCloseable {
  /** Takes a device's batches; may buffer them (a sink batches its writes) but must not drop them silently. */
  void accept(String device, List<FlowBatch> batches) throws IOException;

  /** Writes out what is buffered. */
  void flush() throws IOException;

  @Override
  void close() throws IOException;
}
