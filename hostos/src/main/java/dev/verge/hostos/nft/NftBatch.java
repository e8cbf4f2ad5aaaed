package dev.verge.hostos.nft;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Commands applied as one transaction: all of them or none. */
public record NftBatch(List<NftCommand> commands) {
  public NftBatch {
    commands = List.copyOf(commands);
  }

  public static NftBatch of(NftCommand... commands) {
    return new NftBatch(List.of(commands));
  }

  /**
   * Replaces a table whole, atomically, whether it exists or not: add (so the delete finds it),
   * delete, then the new content. Named counters start again from zero.
   */
  public static NftBatch replaceTable(Table table) {
    List<NftCommand> commands = new ArrayList<>();
    commands.add(new NftCommand.AddTable(table.ref()));
    commands.add(new NftCommand.DeleteTable(table.ref()));
    commands.addAll(create(table));
    return new NftBatch(commands);
  }

  /**
   * Replaces the table, its named counters starting again from {@code keep}'s values (those the
   * new table still has), so counters read over time do not fall back to zero when the ruleset is
   * rewritten; and the named sets keep {@code keepSets}' elements (sets a daemon fills, such as
   * resolved host names, which the new table declares empty). Packets counted between reading
   * {@code keep} and this batch are not carried over.
   */
  public static NftBatch replaceTable(Table table, Map<String, CounterValues> keep, Map<String, List<Value>> keepSets) {
    List<NftCommand> commands = new ArrayList<>();
    commands.add(new NftCommand.AddTable(table.ref()));
    commands.add(new NftCommand.DeleteTable(table.ref()));
    for (NftCommand command : create(table)) {
      if (command instanceof NftCommand.AddCounter c && keep.containsKey(c.name())) {
        commands.add(new NftCommand.AddCounter(c.table(), c.name(), keep.get(c.name())));
      } else if (command instanceof NftCommand.AddSet s && s.set().elements().isEmpty()
          && !keepSets.getOrDefault(s.set().name(), List.of()).isEmpty()) {
        NftSet set = s.set();
        commands.add(new NftCommand.AddSet(s.table(), new NftSet(set.name(), set.keyType(), set.flags(),
            keepSets.get(set.name()))));
      } else {
        commands.add(command);
      }
    }
    return new NftBatch(commands);
  }

  /**
   * The commands that create a table's content: chains first (verdict maps and jumps refer to
   * them), then counters, sets and maps, then the rules.
   */
  public static List<NftCommand> create(Table table) {
    TableRef ref = table.ref();
    List<NftCommand> commands = new ArrayList<>();
    commands.add(new NftCommand.AddTable(ref));
    table.chains().forEach(c -> commands.add(new NftCommand.AddChain(ref, c.name(), c.base())));
    table.counters().forEach(c -> commands.add(new NftCommand.AddCounter(ref, c)));
    table.sets().forEach(s -> commands.add(new NftCommand.AddSet(ref, s)));
    table.maps().forEach(m -> commands.add(new NftCommand.AddMap(ref, m)));
    for (Chain chain : table.chains()) {
      chain.rules().forEach(r -> commands.add(new NftCommand.AddRule(ref, chain.name(), r)));
    }
    return commands;
  }

  /** This batch followed by more commands. */
  public NftBatch then(NftCommand... more) {
    List<NftCommand> all = new ArrayList<>(commands);
    all.addAll(List.of(more));
    return new NftBatch(all);
  }
}
