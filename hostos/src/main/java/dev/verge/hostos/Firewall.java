package dev.verge.hostos;

import dev.verge.hostos.nft.CounterValues;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftJson;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import java.util.Map;
import java.util.Optional;

/**
 * nftables in one namespace: typed batches ({@link NftBatch}) or raw libnftables JSON
 * ({@code {"nftables": [...]}}), each applied as one transaction, and tables read back.
 */
public interface Firewall extends AutoCloseable {
  /**
   * Applies a typed batch as one transaction: all of it or nothing. A refusal is a {@link
   * HostException} whose operation and object are those of the command refused ({@code add} {@code
   * rule in chain inet fw forward}) and whose reason is nft's (or the kernel's).
   */
  void apply(NftBatch batch);

  /** Applies a JSON batch as one transaction: all of it or nothing. */
  void apply(String jsonBatch);

  /** The table as libnftables JSON. */
  String listTable(String family, String table);

  /**
   * The table read back into the model (chains, rules, sets, maps, counter names); empty if absent.
   *
   * @throws IllegalArgumentException if the table holds constructs the model does not cover (a
   *     table some other tool wrote), naming the first one
   */
  default Optional<Table> table(TableRef ref) {
    try {
      return Optional.of(NftJson.parseListing(listTable(ref.family().nftName(), ref.name())).table());
    } catch (HostException e) {
      if (e.errno().equals(Errno.ENOENT)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The values of the table's named counters, by name. */
  default Map<String, CounterValues> counters(TableRef ref) {
    return NftJson.parseListing(listTable(ref.family().nftName(), ref.name())).counters();
  }

  @Override
  void close();
}
