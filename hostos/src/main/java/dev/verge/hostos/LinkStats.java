package dev.verge.hostos;

/**
 * A link's counters since it was created, as the kernel keeps them (rtnl_link_stats64, the first
 * ten fields). Kept out of {@link Link}, whose records are compared to tell changes apart: counters
 * change all the time.
 */
public record LinkStats(
    long rxPackets,
    long txPackets,
    long rxBytes,
    long txBytes,
    long rxErrors,
    long txErrors,
    long rxDropped,
    long txDropped,
    long multicast,
    long collisions) {
  public static final LinkStats ZERO = new LinkStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

  /** Counts of frames sent. */
  public static LinkStats sent(long packets, long bytes) {
    return new LinkStats(0, packets, 0, bytes, 0, 0, 0, 0, 0, 0);
  }

  /** Counts of frames received. */
  public static LinkStats received(long packets, long bytes) {
    return new LinkStats(packets, 0, bytes, 0, 0, 0, 0, 0, 0, 0);
  }

  public LinkStats plus(LinkStats other) {
    return new LinkStats(
        rxPackets + other.rxPackets, txPackets + other.txPackets, rxBytes + other.rxBytes,
        txBytes + other.txBytes, rxErrors + other.rxErrors, txErrors + other.txErrors,
        rxDropped + other.rxDropped, txDropped + other.txDropped, multicast + other.multicast,
        collisions + other.collisions);
  }
}
