package dev.verge.hostos.nft;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** A whole table: what {@link NftBatch#replaceTable} installs and what reading a table gives back. */
public record Table(
    TableRef ref, List<Chain> chains, List<NftSet> sets, List<NftMap> maps, List<String> counters) {
  public Table {
    Objects.requireNonNull(ref);
    chains = List.copyOf(chains);
    sets = List.copyOf(sets);
    maps = List.copyOf(maps);
    counters = List.copyOf(counters);
  }

  public static Table of(NftFamily family, String name) {
    return new Table(TableRef.of(family, name), List.of(), List.of(), List.of(), List.of());
  }

  public Table withChain(Chain chain) {
    return new Table(ref, append(chains, chain), sets, maps, counters);
  }

  public Table withSet(NftSet set) {
    return new Table(ref, chains, append(sets, set), maps, counters);
  }

  public Table withMap(NftMap map) {
    return new Table(ref, chains, sets, append(maps, map), counters);
  }

  public Table withCounter(String name) {
    return new Table(ref, chains, sets, maps, append(counters, name));
  }

  public Optional<Chain> chain(String name) {
    return chains.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  private static <T> List<T> append(List<T> list, T item) {
    return java.util.stream.Stream.concat(list.stream(), java.util.stream.Stream.of(item)).toList();
  }
}
