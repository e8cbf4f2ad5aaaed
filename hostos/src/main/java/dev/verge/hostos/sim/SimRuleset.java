package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.nft.BaseChain;
import dev.verge.hostos.nft.Chain;
import dev.verge.hostos.nft.CounterValues;
import dev.verge.hostos.nft.DataType;
import dev.verge.hostos.nft.Field;
import dev.verge.hostos.nft.Hook;
import dev.verge.hostos.nft.MapElement;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.hostos.nft.NftFamily;
import dev.verge.hostos.nft.NftMap;
import dev.verge.hostos.nft.NftSet;
import dev.verge.hostos.nft.Rule;
import dev.verge.hostos.nft.SetFlag;
import dev.verge.hostos.nft.Stmt;
import dev.verge.hostos.nft.Symbols;
import dev.verge.hostos.nft.Table;
import dev.verge.hostos.nft.TableRef;
import dev.verge.hostos.nft.Value;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The sim's nftables state, and the checks nft and the kernel make when a command changes it. A
 * batch runs against a copy, which replaces the state only when every command passed.
 */
final class SimRuleset {
  private static final String ENOENT_TEXT = "No such file or directory";

  /** A rule as installed: the same rule added twice has two token buckets, as in the kernel. */
  static final class SimRule {
    final Rule rule;
    final Map<Integer, long[]> buckets = new HashMap<>();

    SimRule(Rule rule) {
      this.rule = rule;
    }
  }

  static final class SimChain {
    final String name;
    final Optional<BaseChain> base;
    final List<SimRule> rules;

    SimChain(String name, Optional<BaseChain> base, List<SimRule> rules) {
      this.name = name;
      this.base = base;
      this.rules = rules;
    }

    SimChain copy() {
      return new SimChain(name, base, new ArrayList<>(rules));
    }
  }

  static final class SimTable {
    final TableRef ref;
    final LinkedHashMap<String, SimChain> chains = new LinkedHashMap<>();
    final LinkedHashMap<String, NftSet> sets = new LinkedHashMap<>();
    final LinkedHashMap<String, NftMap> maps = new LinkedHashMap<>();
    final LinkedHashMap<String, CounterValues> counters = new LinkedHashMap<>();

    SimTable(TableRef ref) {
      this.ref = ref;
    }

    SimTable copy() {
      SimTable copy = new SimTable(ref);
      chains.forEach((name, chain) -> copy.chains.put(name, chain.copy()));
      copy.sets.putAll(sets);
      copy.maps.putAll(maps);
      copy.counters.putAll(counters);
      return copy;
    }

    Table toModel() {
      List<Chain> chainList =
          chains.values().stream()
              .map(c -> new Chain(c.name, c.base, c.rules.stream().map(r -> r.rule).toList()))
              .toList();
      return new Table(ref, chainList, List.copyOf(sets.values()), List.copyOf(maps.values()),
          List.copyOf(counters.keySet()));
    }
  }

  final LinkedHashMap<TableRef, SimTable> tables = new LinkedHashMap<>();

  SimRuleset copy() {
    SimRuleset copy = new SimRuleset();
    tables.forEach((ref, table) -> copy.tables.put(ref, table.copy()));
    return copy;
  }

  /** Carries out one command, or throws the refusal naming the command's object. */
  void execute(NftCommand command) {
    if (command instanceof NftCommand.AddTable c) {
      tables.computeIfAbsent(c.table(), SimTable::new);
    } else if (command instanceof NftCommand.DeleteTable c) {
      table(command);
      tables.remove(c.table());
    } else if (command instanceof NftCommand.FlushTable) {
      table(command).chains.values().forEach(chain -> chain.rules.clear());
    } else if (command instanceof NftCommand.AddChain c) {
      addChain(command, c);
    } else if (command instanceof NftCommand.FlushChain c) {
      chain(command, table(command), c.name()).rules.clear();
    } else if (command instanceof NftCommand.DeleteChain c) {
      SimTable table = table(command);
      SimChain chain = chain(command, table, c.name());
      if (!chain.rules.isEmpty() || isJumpedTo(table, c.name())) {
        throw refused(command, Errno.EBUSY, "Could not process rule: " + Errno.EBUSY.description());
      }
      table.chains.remove(c.name());
    } else if (command instanceof NftCommand.AddSet c) {
      addSet(command, table(command), c.set());
    } else if (command instanceof NftCommand.AddMap c) {
      addMap(command, table(command), c.map());
      checkLoops(command, table(command));
    } else if (command instanceof NftCommand.FlushSet c) {
      SimTable table = table(command);
      if (c.isMap()) {
        table.maps.put(c.name(), map(command, table, c.name()).withElements(List.of()));
      } else {
        table.sets.put(c.name(), set(command, table, c.name()).withElements(List.of()));
      }
    } else if (command instanceof NftCommand.DeleteSet c) {
      SimTable table = table(command);
      if (c.isMap()) {
        map(command, table, c.name());
      } else {
        set(command, table, c.name());
      }
      if (isReferenced(table, c.name())) {
        throw refused(command, Errno.EBUSY, "Could not process rule: " + Errno.EBUSY.description());
      }
      (c.isMap() ? table.maps : table.sets).remove(c.name());
    } else if (command instanceof NftCommand.SetElements c) {
      setElements(command, table(command), c);
    } else if (command instanceof NftCommand.MapElements c) {
      mapElements(command, table(command), c);
      checkLoops(command, table(command));
    } else if (command instanceof NftCommand.AddRule c) {
      SimTable table = table(command);
      SimChain chain = chain(command, table, c.chain());
      checkRule(command, table, chain, c.rule());
      chain.rules.add(new SimRule(c.rule()));
      checkLoops(command, table);
    } else if (command instanceof NftCommand.AddCounter c) {
      table(command).counters.putIfAbsent(c.name(), c.initial());
    } else if (command instanceof NftCommand.DeleteCounter c) {
      SimTable table = table(command);
      if (!table.counters.containsKey(c.name())) {
        throw refused(command, Errno.ENOENT, ENOENT_TEXT);
      }
      if (rules(table).anyMatch(r -> r.statements().contains(new Stmt.NamedCounter(c.name())))) {
        throw refused(command, Errno.EBUSY, "Could not process rule: " + Errno.EBUSY.description());
      }
      table.counters.remove(c.name());
    } else {
      throw new IllegalArgumentException("unknown command " + command);
    }
  }

  private static HostException refused(NftCommand command, Errno errno, String reason) {
    return new HostException(command.operation(), command.object(), errno, reason);
  }

  private SimTable table(NftCommand command) {
    SimTable table = tables.get(command.table());
    if (table == null) {
      throw refused(command, Errno.ENOENT, ENOENT_TEXT);
    }
    return table;
  }

  private static SimChain chain(NftCommand command, SimTable table, String name) {
    SimChain chain = table.chains.get(name);
    if (chain == null) {
      throw refused(command, Errno.ENOENT, ENOENT_TEXT);
    }
    return chain;
  }

  private static NftSet set(NftCommand command, SimTable table, String name) {
    NftSet set = table.sets.get(name);
    if (set == null) {
      throw refused(command, Errno.ENOENT, ENOENT_TEXT);
    }
    return set;
  }

  private static NftMap map(NftCommand command, SimTable table, String name) {
    NftMap map = table.maps.get(name);
    if (map == null) {
      throw refused(command, Errno.ENOENT, ENOENT_TEXT);
    }
    return map;
  }

  private static java.util.stream.Stream<Rule> rules(SimTable table) {
    return table.chains.values().stream().flatMap(c -> c.rules.stream()).map(r -> r.rule);
  }

  private static boolean isJumpedTo(SimTable table, String chain) {
    boolean fromRules =
        rules(table).flatMap(r -> r.statements().stream())
            .anyMatch(s -> s.equals(new Stmt.Jump(chain)) || s.equals(new Stmt.Goto(chain)));
    boolean fromMaps =
        table.maps.values().stream().flatMap(m -> m.elements().stream())
            .anyMatch(e -> e.data().equals(new Stmt.Jump(chain)) || e.data().equals(new Stmt.Goto(chain)));
    return fromRules || fromMaps;
  }

  private static boolean isReferenced(SimTable table, String set) {
    return rules(table).flatMap(r -> r.statements().stream()).anyMatch(s -> refersTo(s, set));
  }

  private static boolean refersTo(Stmt stmt, String set) {
    if (stmt instanceof Stmt.Match m) {
      return m.right().equals(new Value.SetRef(set));
    } else if (stmt instanceof Stmt.Vmap v) {
      return v.map().equals(set);
    } else if (stmt instanceof Stmt.Nat n) {
      return n.address().filter(a -> a instanceof Value.MapLookup l && l.map().equals(set)).isPresent();
    }
    return false;
  }

  private void addChain(NftCommand command, NftCommand.AddChain add) {
    SimTable table = table(command);
    NftFamily family = add.table().family();
    if (add.base().isPresent()) {
      BaseChain base = add.base().get();
      boolean natAllowed = family == NftFamily.IP || family == NftFamily.IP6 || family == NftFamily.INET;
      boolean ingress = base.hook() == Hook.INGRESS;
      if ((base.type() == BaseChain.Type.NAT && !natAllowed)
          || (family == NftFamily.NETDEV && !ingress)
          || (ingress && (base.device().isEmpty() || !(family == NftFamily.NETDEV || family == NftFamily.INET)))) {
        throw refused(command, Errno.EOPNOTSUPP, "Could not process rule: " + Errno.EOPNOTSUPP.description());
      }
    }
    SimChain existing = table.chains.get(add.name());
    if (existing == null) {
      table.chains.put(add.name(), new SimChain(add.name(), add.base(), new ArrayList<>()));
      return;
    }
    boolean sameKind =
        existing.base.map(b -> List.of(b.type(), b.hook(), b.priority(), b.device()))
            .equals(add.base().map(b -> List.of(b.type(), b.hook(), b.priority(), b.device())));
    if (!sameKind) {
      throw refused(command, Errno.EEXIST, "Could not process rule: " + Errno.EEXIST.description());
    }
    // Adding an existing chain again may change its policy, as nft allows.
    table.chains.put(add.name(), new SimChain(add.name(), add.base(), existing.rules));
  }

  private void addSet(NftCommand command, SimTable table, NftSet set) {
    NftSet existing = table.sets.get(set.name());
    if (existing != null && (!existing.keyType().equals(set.keyType()) || !existing.flags().equals(set.flags()))) {
      throw refused(command, Errno.EEXIST, "Could not process rule: " + Errno.EEXIST.description());
    }
    if (table.maps.containsKey(set.name())) {
      throw refused(command, Errno.EEXIST, "Could not process rule: " + Errno.EEXIST.description());
    }
    for (Value element : set.elements()) {
      checkElement(command, element, set.keyType(), set.flags());
    }
    List<Value> elements = new ArrayList<>(existing == null ? List.of() : existing.elements());
    set.elements().stream().filter(e -> !elements.contains(e)).forEach(elements::add);
    table.sets.put(set.name(), set.withElements(elements));
  }

  private void addMap(NftCommand command, SimTable table, NftMap map) {
    NftMap existing = table.maps.get(map.name());
    if ((existing != null && (!existing.keyType().equals(map.keyType()) || existing.dataType() != map.dataType()))
        || table.sets.containsKey(map.name())) {
      throw refused(command, Errno.EEXIST, "Could not process rule: " + Errno.EEXIST.description());
    }
    for (MapElement element : map.elements()) {
      checkMapElement(command, table, map, element);
    }
    table.maps.put(map.name(), map.withElements(merge(existing == null ? List.of() : existing.elements(),
        map.elements())));
  }

  private static List<MapElement> merge(List<MapElement> existing, List<MapElement> added) {
    Map<Value, MapElement> byKey = new LinkedHashMap<>();
    existing.forEach(e -> byKey.put(e.key(), e));
    added.forEach(e -> byKey.putIfAbsent(e.key(), e));
    return List.copyOf(byKey.values());
  }

  private void setElements(NftCommand command, SimTable table, NftCommand.SetElements change) {
    if (table.maps.containsKey(change.set())) {
      throw refused(command, Errno.EINVAL, "elements of a map need data: " + change.set());
    }
    NftSet set = set(command, table, change.set());
    List<Value> elements = new ArrayList<>(set.elements());
    for (Value element : change.elements()) {
      checkElement(command, element, set.keyType(), set.flags());
      if (change.add()) {
        if (!elements.contains(element)) {
          elements.add(element);
        }
      } else if (!elements.remove(element)) {
        throw refused(command, Errno.ENOENT, "Could not process rule: " + ENOENT_TEXT);
      }
    }
    table.sets.put(set.name(), set.withElements(elements));
  }

  private void mapElements(NftCommand command, SimTable table, NftCommand.MapElements change) {
    NftMap map = map(command, table, change.map());
    List<MapElement> elements = new ArrayList<>(map.elements());
    for (MapElement element : change.elements()) {
      if (change.add()) {
        checkMapElement(command, table, map, element);
        if (elements.stream().noneMatch(e -> e.key().equals(element.key()))) {
          elements.add(element);
        }
      } else if (!elements.removeIf(e -> e.key().equals(element.key()))) {
        throw refused(command, Errno.ENOENT, "Could not process rule: " + ENOENT_TEXT);
      }
    }
    table.maps.put(map.name(), map.withElements(elements));
  }

  private static void checkElement(NftCommand command, Value element, List<DataType> type, Set<SetFlag> flags) {
    boolean interval = flags.contains(SetFlag.INTERVAL);
    if (!interval && hasInterval(element)) {
      String kind = element instanceof Value.Range ? "range" : "prefix";
      throw refused(command, Errno.EINVAL,
          "You must add 'flags interval' to your set declaration if you want to add " + kind + " elements");
    }
    typeError(element, type).ifPresent(reason -> {
      throw refused(command, Errno.EINVAL, reason);
    });
  }

  private static boolean hasInterval(Value value) {
    if (value instanceof Value.Concat c) {
      return c.values().stream().anyMatch(SimRuleset::hasInterval);
    }
    return value instanceof Value.Range || value instanceof Value.Prefix;
  }

  private void checkMapElement(NftCommand command, SimTable table, NftMap map, MapElement element) {
    checkElement(command, element.key(), map.keyType(), map.flags());
    if (map.dataType() == DataType.VERDICT) {
      if (!(element.data() instanceof Stmt.Verdict verdict)) {
        throw refused(command, Errno.EINVAL, "datatype mismatch: expected netfilter verdict");
      }
      checkTarget(command, table, verdict);
    } else {
      if (!(element.data() instanceof Value value)) {
        throw refused(command, Errno.EINVAL,
            "datatype mismatch: expected " + map.dataType().description() + ", expression has type netfilter verdict");
      }
      typeError(value, List.of(map.dataType())).ifPresent(reason -> {
        throw refused(command, Errno.EINVAL, reason);
      });
    }
  }

  private static void checkTarget(NftCommand command, SimTable table, Stmt stmt) {
    String target =
        stmt instanceof Stmt.Jump j ? j.target() : stmt instanceof Stmt.Goto g ? g.target() : null;
    if (target == null) {
      return;
    }
    SimChain chain = table.chains.get(target);
    if (chain == null) {
      throw refused(command, Errno.ENOENT, ENOENT_TEXT);
    }
    if (chain.base.isPresent()) {
      throw refused(command, Errno.EOPNOTSUPP, "Could not process rule: " + Errno.EOPNOTSUPP.description());
    }
  }

  private void checkRule(NftCommand command, SimTable table, SimChain chain, Rule rule) {
    if (table.ref.family() == NftFamily.BRIDGE && rule.statements().stream().anyMatch(SimRuleset::usesConntrack)) {
      // as this machine's kernel: the bridge family has no conntrack without CONFIG_NF_CONNTRACK_BRIDGE
      throw refused(command, Errno.EPROTO, "Could not process rule: " + Errno.EPROTO.description());
    }
    for (Stmt stmt : rule.statements()) {
      if (stmt instanceof Stmt.Match m) {
        checkMatch(command, table, m);
      } else if (stmt instanceof Stmt.NamedCounter c) {
        if (!table.counters.containsKey(c.name())) {
          throw refused(command, Errno.ENOENT, ENOENT_TEXT);
        }
      } else if (stmt instanceof Stmt.Jump || stmt instanceof Stmt.Goto) {
        checkTarget(command, table, stmt);
      } else if (stmt instanceof Stmt.Vmap v) {
        NftMap map = table.maps.get(v.map());
        if (map == null) {
          throw refused(command, Errno.ENOENT, ENOENT_TEXT);
        }
        if (map.dataType() != DataType.VERDICT) {
          throw refused(command, Errno.EINVAL, "datatype mismatch: expected netfilter verdict, expression has type "
              + map.dataType().description());
        }
        checkLookupType(command, v.key(), map.keyType());
      } else if (stmt instanceof Stmt.Nat n) {
        checkNat(command, table, chain, n);
      } else if (stmt instanceof Stmt.Reject) {
        Optional<Hook> hook = chain.base.map(BaseChain::hook);
        if (hook.isPresent() && !Set.of(Hook.INPUT, Hook.FORWARD, Hook.OUTPUT, Hook.PREROUTING).contains(hook.get())) {
          throw refused(command, Errno.EOPNOTSUPP, "Could not process rule: " + Errno.EOPNOTSUPP.description());
        }
      } else if (stmt instanceof Stmt.Mangle m && m.key() instanceof Field.TcpOption) {
        if (!(m.value() instanceof Field.Rt) && !(m.value() instanceof Value.Num)) {
          throw refused(command, Errno.EINVAL, "tcp option maxseg size is set to a number or rt mtu");
        }
      } else if (stmt instanceof Stmt.Mangle m) {
        if (!m.key().equals(Field.MARK) && !m.key().equals(Field.CT_MARK)) {
          throw refused(command, Errno.EINVAL, "only meta mark and ct mark can be set");
        }
        if (m.value() instanceof Value value) {
          typeError(value, List.of(DataType.MARK)).ifPresent(reason -> {
            throw refused(command, Errno.EINVAL, reason);
          });
        }
      }
    }
  }

  private static boolean usesConntrack(Stmt stmt) {
    if (stmt instanceof Stmt.Match m) {
      return readsConntrack(m.left());
    }
    return stmt instanceof Stmt.Mangle m && readsConntrack(m.key());
  }

  private static boolean readsConntrack(Field field) {
    if (field instanceof Field.Masked m) {
      return readsConntrack(m.field());
    } else if (field instanceof Field.Concat c) {
      return c.fields().stream().anyMatch(SimRuleset::readsConntrack);
    }
    return field instanceof Field.Ct;
  }

  private static void checkMatch(NftCommand command, SimTable table, Stmt.Match match) {
    if (match.right() instanceof Value.SetRef ref) {
      NftSet set = table.sets.get(ref.name());
      NftMap map = table.maps.get(ref.name());
      if (set == null && map == null) {
        throw refused(command, Errno.ENOENT, ENOENT_TEXT);
      }
      checkLookupType(command, match.left(), set != null ? set.keyType() : map.keyType());
      return;
    }
    typeError(match.right(), match.left().dataTypes()).ifPresent(reason -> {
      throw refused(command, Errno.EINVAL, reason);
    });
  }

  private static void checkLookupType(NftCommand command, Field key, List<DataType> keyType) {
    if (!key.dataTypes().equals(keyType)) {
      throw refused(command, Errno.EINVAL,
          "datatype mismatch, expected " + describe(key.dataTypes()) + ", expression has type " + describe(keyType));
    }
  }

  private static String describe(List<DataType> types) {
    return types.size() == 1
        ? types.get(0).description()
        : "concatenation of (" + types.stream().map(DataType::description).collect(Collectors.joining(", ")) + ")";
  }

  /**
   * Like the kernel, refuses a jump or goto that closes a loop a base chain can reach (a loop no
   * base chain reaches is let be). nft reports it as "Too many links" (EMLINK).
   */
  private static void checkLoops(NftCommand command, SimTable table) {
    for (SimChain chain : table.chains.values()) {
      if (chain.base.isPresent() && reachesLoop(table, chain.name, new java.util.ArrayDeque<>())) {
        String reason = "Could not process rule: Too many links";
        throw refused(command, Errno.inMessage(reason).orElse(Errno.EINVAL), reason);
      }
    }
  }

  private static boolean reachesLoop(SimTable table, String chain, java.util.Deque<String> path) {
    if (path.contains(chain)) {
      return true;
    }
    path.push(chain);
    for (String target : targets(table, table.chains.get(chain))) {
      if (reachesLoop(table, target, path)) {
        return true;
      }
    }
    path.pop();
    return false;
  }

  /** The chains a chain's rules can continue in: jump and goto targets, also through verdict maps. */
  private static List<String> targets(SimTable table, SimChain chain) {
    List<String> targets = new ArrayList<>();
    for (SimRule rule : chain.rules) {
      for (Stmt stmt : rule.rule.statements()) {
        List<Object> verdicts = new ArrayList<>(List.of(stmt));
        if (stmt instanceof Stmt.Vmap v && table.maps.containsKey(v.map())) {
          table.maps.get(v.map()).elements().forEach(e -> verdicts.add(e.data()));
        }
        for (Object verdict : verdicts) {
          if (verdict instanceof Stmt.Jump j) {
            targets.add(j.target());
          } else if (verdict instanceof Stmt.Goto g) {
            targets.add(g.target());
          }
        }
      }
    }
    return targets;
  }

  private static void checkNat(NftCommand command, SimTable table, SimChain chain, Stmt.Nat nat) {
    if (table.ref.family() == NftFamily.INET && nat.address().isPresent() && nat.family().isEmpty()) {
      throw refused(command, Errno.EINVAL, "ip or ip6 must be specified with address for inet tables.");
    }
    if (chain.base.isEmpty()) {
      return; // the kernel checks a regular chain's NAT when a base chain reaches it; the sim does not
    }
    BaseChain base = chain.base.get();
    Set<Hook> hooks =
        switch (nat.kind()) {
          case SNAT, MASQUERADE -> Set.of(Hook.POSTROUTING, Hook.INPUT);
          case DNAT, REDIRECT -> Set.of(Hook.PREROUTING, Hook.OUTPUT);
        };
    if (base.type() != BaseChain.Type.NAT || !hooks.contains(base.hook())) {
      throw refused(command, Errno.EOPNOTSUPP, "Could not process rule: " + Errno.EOPNOTSUPP.description());
    }
    if (nat.address().orElse(null) instanceof Value.MapLookup lookup) {
      NftMap map = table.maps.get(lookup.map());
      if (map == null) {
        throw refused(command, Errno.ENOENT, ENOENT_TEXT);
      }
      checkLookupType(command, lookup.key(), map.keyType());
    }
  }

  /** Why a value cannot be of the type, in nft's words where nft has them; empty if it can. */
  static Optional<String> typeError(Value value, List<DataType> types) {
    if (value instanceof Value.AnonSet s) {
      return s.elements().stream().map(e -> typeError(e, types)).flatMap(Optional::stream).findFirst();
    }
    if (value instanceof Value.Concat c) {
      if (c.values().size() != types.size()) {
        return Optional.of("datatype mismatch, expected " + describe(types) + ", expression has "
            + c.values().size() + " parts");
      }
      for (int i = 0; i < types.size(); i++) {
        Optional<String> error = typeError(c.values().get(i), List.of(types.get(i)));
        if (error.isPresent()) {
          return error;
        }
      }
      return Optional.empty();
    }
    if (types.size() != 1) {
      return Optional.of("datatype mismatch, expected " + describe(types) + ", expression is not a concatenation");
    }
    DataType type = types.get(0);
    if (value instanceof Value.Range r) {
      return typeError(r.low(), types).or(() -> typeError(r.high(), types));
    }
    if (value instanceof Value.Flags f) {
      return f.names().stream().filter(n -> !Symbols.isSymbolOf(type, n)).findFirst()
          .map(n -> "Could not parse " + type.description() + ": " + n);
    }
    switch (type) {
      case IPV4_ADDR:
      case IPV6_ADDR:
        boolean wantV4 = type == DataType.IPV4_ADDR;
        if (value instanceof Value.Addr a) {
          return (a.address() instanceof Inet4Address) == wantV4 ? Optional.empty()
              : Optional.of("Could not resolve hostname: Address family for hostname not supported");
        }
        if (value instanceof Value.Prefix p) {
          return p.prefix().isIpv4() == wantV4 ? Optional.empty()
              : Optional.of("Could not resolve hostname: Address family for hostname not supported");
        }
        if (value instanceof Value.Mac) {
          return Optional.of("Could not resolve hostname: Address family for hostname not supported");
        }
        return Optional.of("Could not resolve hostname: Name or service not known");
      case INET_SERVICE:
        if (value instanceof Value.Num n) {
          return n.value() >= 0 && n.value() <= 65535 ? Optional.empty() : Optional.of("Service out of range");
        }
        return Optional.of("Could not resolve service: Servname not supported for ai_socktype");
      case MARK:
        if (value instanceof Value.Num n) {
          return n.value() >= 0 && n.value() <= 0xffffffffL ? Optional.empty() : Optional.of("Value too large");
        }
        return Optional.of("Could not parse packet mark");
      case ETHER_TYPE:
        if (value instanceof Value.Num n) {
          return n.value() >= 0 && n.value() <= 0xffff ? Optional.empty() : Optional.of("Value too large");
        }
        return value instanceof Value.Name n && Symbols.isSymbolOf(type, n.name()) ? Optional.empty()
            : Optional.of("Could not parse Ethernet protocol");
      case ETHER_ADDR:
        return value instanceof Value.Mac ? Optional.empty() : Optional.of("Could not parse Ethernet address");
      case IFNAME:
        return value instanceof Value.Name n && Symbols.isSymbolOf(type, n.name()) ? Optional.empty()
            : Optional.of("datatype mismatch, expected network interface name");
      default:
        if (value instanceof Value.Num n) {
          return n.value() >= 0 && n.value() <= 255 ? Optional.empty() : Optional.of("Value too large");
        }
        if (value instanceof Value.Name n) {
          return Symbols.isSymbolOf(type, n.name()) ? Optional.empty()
              : Optional.of("Could not parse " + type.description() + ": " + n.name());
        }
        return Optional.of("datatype mismatch, expected " + type.description());
    }
  }
}
