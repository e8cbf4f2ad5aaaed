package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.HostException;
import dev.verge.hostos.nft.CounterValues;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.NftJson;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * nftables in memory: holds the rulesets typed (or JSON) batches build, with the checks nft and
 * the kernel make (a bad batch changes nothing and fails naming its object), and evaluates packets
 * against them, so a ruleset compiler can be tested without a kernel.
 */
public final class SimFirewall implements Firewall {
  private final Clock clock;
  private SimRuleset ruleset = new SimRuleset();

  /** A firewall whose rate limits run on the given clock (a manual one in tests). */
  public SimFirewall(Clock clock) {
    this.clock = clock;
  }

  public SimFirewall() {
    this(Clock.systemUTC());
  }

  @Override
  public synchronized void apply(NftBatch batch) {
    SimRuleset working = ruleset.copy();
    for (NftCommand command : batch.commands()) {
      working.execute(command);
    }
    ruleset = working;
  }

  /** Parses the JSON this project renders (the subset of libnftables JSON the typed model covers). */
  @Override
  public synchronized void apply(String jsonBatch) {
    NftBatch batch;
    try {
      batch = NftJson.parseBatch(jsonBatch, (ref, name) -> shape(ref, name));
    } catch (IllegalArgumentException e) {
      throw new HostException("apply", "nftables batch", Errno.EINVAL, e.getMessage());
    }
    apply(batch);
  }

  private Optional<NftJson.SetShape> shape(TableRef ref, String name) {
    SimRuleset.SimTable table = ruleset.tables.get(ref);
    if (table == null) {
      return Optional.empty();
    }
    if (table.sets.containsKey(name)) {
      return Optional.of(new NftJson.SetShape(table.sets.get(name).keyType(), Optional.empty()));
    }
    return Optional.ofNullable(table.maps.get(name))
        .map(m -> new NftJson.SetShape(m.keyType(), Optional.of(m.dataType())));
  }

  @Override
  public synchronized String listTable(String family, String table) {
    SimRuleset.SimTable found = ruleset.tables.get(TableRef.of(NftFamily.of(family), table));
    if (found == null) {
      throw new HostException("list", "nftables table " + family + " " + table, Errno.ENOENT,
          "Error: No such file or directory");
    }
    return NftJson.renderListing(found.toModel(), found.counters);
  }

  @Override
  public synchronized Optional<Table> table(TableRef ref) {
    return Optional.ofNullable(ruleset.tables.get(ref)).map(SimRuleset.SimTable::toModel);
  }

  @Override
  public synchronized Map<String, CounterValues> counters(TableRef ref) {
    SimRuleset.SimTable table = ruleset.tables.get(ref);
    if (table == null) {
      throw new HostException("list", "counters of table " + ref, Errno.ENOENT, "No such file or directory");
    }
    return new LinkedHashMap<>(table.counters);
  }

  /**
   * Sends a packet through the base chains of a hook; counts it in the named counters it hits and
   * returns the verdict with the trace.
   */
  public synchronized Evaluation evaluate(Hook hook, Packet packet) {
    Instant now = clock.instant();
    long nanos = Duration.between(Instant.EPOCH, now).toNanos();
    return PacketEvaluator.evaluate(ruleset, hook, packet, nanos);
  }

  @Override
  public void close() {}
}
