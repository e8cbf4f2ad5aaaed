package dev.verge.hostos.nft;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One command of a batch, as libnftables' JSON has them: add, flush or delete of a table, chain,
 * set, map, elements, rule or named counter. Each names its object, so a refusal can say which one
 * failed.
 */
public sealed interface NftCommand {
  /** {@code add}, {@code flush} or {@code delete}. */
  String operation();

  /** The object in words, for errors: {@code chain inet fw forward}. */
  String object();

  TableRef table();

  record AddTable(TableRef table) implements NftCommand {
    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "table " + table;
    }
  }

  /** Removes a table with everything in it. */
  record DeleteTable(TableRef table) implements NftCommand {
    @Override
    public String operation() {
      return "delete";
    }

    @Override
    public String object() {
      return "table " + table;
    }
  }

  /** Removes every rule of every chain of the table; chains, sets and maps stay. */
  record FlushTable(TableRef table) implements NftCommand {
    @Override
    public String operation() {
      return "flush";
    }

    @Override
    public String object() {
      return "table " + table;
    }
  }

  record AddChain(TableRef table, String name, Optional<BaseChain> base) implements NftCommand {
    public AddChain {
      Objects.requireNonNull(name);
      Objects.requireNonNull(base);
    }

    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "chain " + table + " " + name;
    }
  }

  record FlushChain(TableRef table, String name) implements NftCommand {
    @Override
    public String operation() {
      return "flush";
    }

    @Override
    public String object() {
      return "chain " + table + " " + name;
    }
  }

  record DeleteChain(TableRef table, String name) implements NftCommand {
    @Override
    public String operation() {
      return "delete";
    }

    @Override
    public String object() {
      return "chain " + table + " " + name;
    }
  }

  record AddSet(TableRef table, NftSet set) implements NftCommand {
    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "set " + table + " " + set.name();
    }
  }

  record AddMap(TableRef table, NftMap map) implements NftCommand {
    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "map " + table + " " + map.name();
    }
  }

  /** Empties a set or map ({@code isMap}) of its elements. */
  record FlushSet(TableRef table, String name, boolean isMap) implements NftCommand {
    @Override
    public String operation() {
      return "flush";
    }

    @Override
    public String object() {
      return (isMap ? "map " : "set ") + table + " " + name;
    }
  }

  record DeleteSet(TableRef table, String name, boolean isMap) implements NftCommand {
    @Override
    public String operation() {
      return "delete";
    }

    @Override
    public String object() {
      return (isMap ? "map " : "set ") + table + " " + name;
    }
  }

  /** Adds ({@code add}) or removes ({@code !add}) elements of a set. */
  record SetElements(TableRef table, String set, List<Value> elements, boolean add) implements NftCommand {
    public SetElements {
      elements = List.copyOf(elements);
    }

    @Override
    public String operation() {
      return add ? "add" : "delete";
    }

    @Override
    public String object() {
      return "elements of set " + table + " " + set;
    }
  }

  /** Adds ({@code add}) or removes ({@code !add}) entries of a map (removal looks at keys only). */
  record MapElements(TableRef table, String map, List<MapElement> elements, boolean add)
      implements NftCommand {
    public MapElements {
      elements = List.copyOf(elements);
    }

    @Override
    public String operation() {
      return add ? "add" : "delete";
    }

    @Override
    public String object() {
      return "elements of map " + table + " " + map;
    }
  }

  /** Appends a rule to a chain. */
  record AddRule(TableRef table, String chain, Rule rule) implements NftCommand {
    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "rule " + rule.comment().map(c -> "\"" + c + "\" ").orElse("") + "in chain " + table + " " + chain;
    }
  }

  /** Creates a named counter that starts from {@code initial} (a counter carried over a rewrite). */
  record AddCounter(TableRef table, String name, CounterValues initial) implements NftCommand {
    public AddCounter {
      java.util.Objects.requireNonNull(initial);
    }

    public AddCounter(TableRef table, String name) {
      this(table, name, CounterValues.ZERO);
    }

    @Override
    public String operation() {
      return "add";
    }

    @Override
    public String object() {
      return "counter " + table + " " + name;
    }
  }

  record DeleteCounter(TableRef table, String name) implements NftCommand {
    @Override
    public String operation() {
      return "delete";
    }

    @Override
    public String object() {
      return "counter " + table + " " + name;
    }
  }
}
