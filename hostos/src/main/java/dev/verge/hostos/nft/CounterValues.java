package dev.verge.hostos.nft;

/** What a counter has counted. */
public record CounterValues(long packets, long bytes) {
  public static final CounterValues ZERO = new CounterValues(0, 0);

  public CounterValues plus(long morePackets, long moreBytes) {
    return new CounterValues(packets + morePackets, bytes + moreBytes);
  }
}
