package dev.verge.pubsub;

/**
 * Counters of one bus instance since it started, for the metrics endpoint.
 *
 * @param published values published (equal values excluded)
 * @param unpublished keys unpublished
 * @param delivered handler calls (create, modify, delete, synchronized, restarted)
 * @param coalesced changes replaced by a newer one before delivery (subscriber or socket side)
 * @param slowHandlers handler calls slower than the configured threshold, counted when they end
 * @param stalledHandlers handler calls seen still running past the threshold by the watchdog
 * @param handlerErrors handler calls that threw
 * @param corruptFiles persisted files skipped at restore (bad checksum, truncated, unparsable)
 * @param refusedOversized values refused because they exceed the size limit
 * @param reconnects subscriber reconnections to a publisher (socket driver)
 * @param protocolErrors frames or values that could not be decoded, and refused handshakes
 * @param durabilityMismatches handshakes where the publisher's durability differed from the
 *     subscriber's expectation
 */
public record PubSubMetrics(
    long published,
    long unpublished,
    long delivered,
    long coalesced,
    long slowHandlers,
    long stalledHandlers,
    long handlerErrors,
    long corruptFiles,
    long refusedOversized,
    long reconnects,
    long protocolErrors,
    long durabilityMismatches) {}
