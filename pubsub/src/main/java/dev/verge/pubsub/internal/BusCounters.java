package dev.verge.pubsub.internal;

import dev.verge.pubsub.PubSubMetrics;
import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link PubSubMetrics}; cheap to bump from hot paths. */
public final class BusCounters {
  final LongAdder published = new LongAdder();
  final LongAdder unpublished = new LongAdder();
  final LongAdder delivered = new LongAdder();
  final LongAdder coalesced = new LongAdder();
  final LongAdder slowHandlers = new LongAdder();
  final LongAdder stalledHandlers = new LongAdder();
  final LongAdder handlerErrors = new LongAdder();
  final LongAdder corruptFiles = new LongAdder();
  final LongAdder refusedOversized = new LongAdder();
  final LongAdder reconnects = new LongAdder();
  final LongAdder protocolErrors = new LongAdder();
  final LongAdder durabilityMismatches = new LongAdder();

  public PubSubMetrics snapshot() {
    return new PubSubMetrics(
        published.sum(),
        unpublished.sum(),
        delivered.sum(),
        coalesced.sum(),
        slowHandlers.sum(),
        stalledHandlers.sum(),
        handlerErrors.sum(),
        corruptFiles.sum(),
        refusedOversized.sum(),
        reconnects.sum(),
        protocolErrors.sum(),
        durabilityMismatches.sum());
  }
}
