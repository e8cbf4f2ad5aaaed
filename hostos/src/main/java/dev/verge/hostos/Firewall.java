package dev.verge.hostos;

/** nftables in one namespace, spoken in libnftables JSON ({@code {"nftables": [...]}}). */
public interface Firewall extends AutoCloseable {
  /** Applies a JSON batch as one transaction: all of it or nothing. */
  void apply(String jsonBatch);

  /** The table as libnftables JSON. */
  String listTable(String family, String table);

  @Override
  void close();
}
