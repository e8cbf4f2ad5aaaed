package dev.verge.hostos.nft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.MacAddress;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The typed model in libnftables' JSON, both ways. Commands are written in the form nft itself
 * lists objects in (e.g. {@code ct state} with {@code in}, counters with the table), so what is
 * applied and what is read back parse to equal models.
 */
public final class NftJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private NftJson() {}

  /** The key and data types of a named set or map; data is empty for a set. */
  public record SetShape(List<DataType> keyType, Optional<DataType> dataType) {}

  /** What a table holds already, for parsing element commands of sets the batch does not declare. */
  public interface Shapes extends BiFunction<TableRef, String, Optional<SetShape>> {}

  /** A table read back, with the values of its named counters. */
  public record Listing(Table table, Map<String, CounterValues> counters) {}

  // ---------------------------------------------------------------- rendering

  /** The batch as {@code {"nftables": [...]}} commands. */
  public static String render(NftBatch batch) {
    ArrayNode commands = NODES.arrayNode();
    for (NftCommand command : batch.commands()) {
      commands.add(command(command));
    }
    return write(NODES.objectNode().set("nftables", commands));
  }

  /** The table as {@code nft -j list table} prints it (without handles). */
  public static String renderListing(Table table, Map<String, CounterValues> counters) {
    ArrayNode objects = NODES.arrayNode();
    ObjectNode meta = NODES.objectNode().put("version", "verge-sim").put("json_schema_version", 1);
    objects.add(wrap("metainfo", meta));
    TableRef ref = table.ref();
    objects.add(wrap("table", tableNode(ref)));
    for (String counter : table.counters()) {
      CounterValues values = counters.getOrDefault(counter, CounterValues.ZERO);
      objects.add(wrap("counter", named(ref, counter).put("packets", values.packets()).put("bytes", values.bytes())));
    }
    table.sets().forEach(s -> objects.add(wrap("set", setNode(ref, s))));
    table.maps().forEach(m -> objects.add(wrap("map", mapNode(ref, m))));
    table.chains().forEach(c -> objects.add(wrap("chain", chainNode(ref, c.name(), c.base()))));
    for (Chain chain : table.chains()) {
      chain.rules().forEach(r -> objects.add(wrap("rule", ruleNode(ref, chain.name(), r))));
    }
    return write(NODES.objectNode().set("nftables", objects));
  }

  private static ObjectNode command(NftCommand command) {
    TableRef ref = command.table();
    String verb = command.operation();
    ObjectNode object;
    String kind;
    if (command instanceof NftCommand.AddTable || command instanceof NftCommand.DeleteTable
        || command instanceof NftCommand.FlushTable) {
      kind = "table";
      object = tableNode(ref);
    } else if (command instanceof NftCommand.AddChain c) {
      kind = "chain";
      object = chainNode(ref, c.name(), c.base());
    } else if (command instanceof NftCommand.FlushChain c) {
      kind = "chain";
      object = named(ref, c.name());
    } else if (command instanceof NftCommand.DeleteChain c) {
      kind = "chain";
      object = named(ref, c.name());
    } else if (command instanceof NftCommand.AddSet c) {
      kind = "set";
      object = setNode(ref, c.set());
    } else if (command instanceof NftCommand.AddMap c) {
      kind = "map";
      object = mapNode(ref, c.map());
    } else if (command instanceof NftCommand.FlushSet c) {
      kind = c.isMap() ? "map" : "set";
      object = named(ref, c.name());
    } else if (command instanceof NftCommand.DeleteSet c) {
      kind = c.isMap() ? "map" : "set";
      object = named(ref, c.name());
    } else if (command instanceof NftCommand.SetElements c) {
      kind = "element";
      ArrayNode elements = NODES.arrayNode();
      c.elements().forEach(e -> elements.add(value(e)));
      object = named(ref, c.set()).set("elem", elements);
    } else if (command instanceof NftCommand.MapElements c) {
      kind = "element";
      ArrayNode elements = NODES.arrayNode();
      c.elements().forEach(e -> elements.add(mapElement(e)));
      object = named(ref, c.map()).set("elem", elements);
    } else if (command instanceof NftCommand.AddRule c) {
      kind = "rule";
      object = ruleNode(ref, c.chain(), c.rule());
    } else if (command instanceof NftCommand.AddCounter c) {
      kind = "counter";
      object = named(ref, c.name());
      if (!c.initial().equals(CounterValues.ZERO)) {
        object.put("packets", c.initial().packets()).put("bytes", c.initial().bytes());
      }
    } else if (command instanceof NftCommand.DeleteCounter c) {
      kind = "counter";
      object = named(ref, c.name());
    } else {
      throw new IllegalArgumentException("unknown command " + command);
    }
    return wrap(verb, wrap(kind, object));
  }

  private static ObjectNode tableNode(TableRef ref) {
    return NODES.objectNode().put("family", ref.family().nftName()).put("name", ref.name());
  }

  private static ObjectNode named(TableRef ref, String name) {
    return NODES.objectNode().put("family", ref.family().nftName()).put("table", ref.name()).put("name", name);
  }

  private static ObjectNode chainNode(TableRef ref, String name, Optional<BaseChain> base) {
    ObjectNode node = named(ref, name);
    base.ifPresent(
        b -> {
          node.put("type", b.type().nftName()).put("hook", b.hook().nftName());
          b.device().ifPresent(d -> node.put("dev", d));
          node.put("prio", b.priority()).put("policy", b.policy().nftName());
        });
    return node;
  }

  private static JsonNode typeNode(List<DataType> types) {
    if (types.size() == 1) {
      return NODES.textNode(types.get(0).nftName());
    }
    ArrayNode array = NODES.arrayNode();
    types.forEach(t -> array.add(t.nftName()));
    return array;
  }

  private static ObjectNode setNode(TableRef ref, NftSet set) {
    ObjectNode node = named(ref, set.name());
    node.set("type", typeNode(set.keyType()));
    flags(node, set.flags());
    if (!set.elements().isEmpty()) {
      ArrayNode elements = node.putArray("elem");
      set.elements().forEach(e -> elements.add(value(e)));
    }
    return node;
  }

  private static ObjectNode mapNode(TableRef ref, NftMap map) {
    ObjectNode node = named(ref, map.name());
    node.set("type", typeNode(map.keyType()));
    node.put("map", map.dataType().nftName());
    flags(node, map.flags());
    if (!map.elements().isEmpty()) {
      ArrayNode elements = node.putArray("elem");
      map.elements().forEach(e -> elements.add(mapElement(e)));
    }
    return node;
  }

  private static void flags(ObjectNode node, Set<SetFlag> flags) {
    if (!flags.isEmpty()) {
      ArrayNode array = node.putArray("flags");
      flags.stream().sorted().forEach(f -> array.add(f.nftName()));
    }
  }

  private static ArrayNode mapElement(MapElement element) {
    ArrayNode pair = NODES.arrayNode();
    pair.add(value(element.key()));
    pair.add(element.data() instanceof Value v ? value(v) : stmt((Stmt) element.data()));
    return pair;
  }

  private static ObjectNode ruleNode(TableRef ref, String chain, Rule rule) {
    ObjectNode node =
        NODES.objectNode().put("family", ref.family().nftName()).put("table", ref.name()).put("chain", chain);
    ArrayNode expressions = node.putArray("expr");
    rule.statements().forEach(s -> expressions.add(stmt(s)));
    rule.comment().ifPresent(c -> node.put("comment", c));
    return node;
  }

  private static ObjectNode wrap(String key, JsonNode value) {
    ObjectNode node = NODES.objectNode();
    node.set(key, value);
    return node;
  }

  static JsonNode field(Field field) {
    if (field instanceof Field.Meta m) {
      return wrap("meta", NODES.objectNode().put("key", m.key().nftName()));
    } else if (field instanceof Field.Payload p) {
      return wrap("payload",
          NODES.objectNode().put("protocol", p.field().protocol()).put("field", p.field().field()));
    } else if (field instanceof Field.Ct c) {
      return wrap("ct", NODES.objectNode().put("key", c.key().nftName()));
    } else if (field instanceof Field.TcpOption o) {
      return wrap("tcp option", NODES.objectNode().put("name", o.name()).put("field", o.field()));
    } else if (field instanceof Field.Rt r) {
      return wrap("rt", NODES.objectNode().put("key", r.key()));
    } else if (field instanceof Field.Masked m) {
      ArrayNode operands = NODES.arrayNode().add(field(m.field())).add(m.mask());
      return wrap("&", operands);
    } else if (field instanceof Field.Concat c) {
      ArrayNode parts = NODES.arrayNode();
      c.fields().forEach(f -> parts.add(field(f)));
      return wrap("concat", parts);
    }
    throw new IllegalArgumentException("unknown field " + field);
  }

  static JsonNode value(Value value) {
    if (value instanceof Value.Addr a) {
      return NODES.textNode(a.address().getHostAddress());
    } else if (value instanceof Value.Prefix p) {
      return wrap("prefix",
          NODES.objectNode().put("addr", p.prefix().address().getHostAddress()).put("len", p.prefix().length()));
    } else if (value instanceof Value.Range r) {
      return wrap("range", NODES.arrayNode().add(value(r.low())).add(value(r.high())));
    } else if (value instanceof Value.Num n) {
      return NODES.numberNode(n.value());
    } else if (value instanceof Value.Name n) {
      return NODES.textNode(n.name());
    } else if (value instanceof Value.Mac m) {
      return NODES.textNode(m.mac().value());
    } else if (value instanceof Value.Concat c) {
      ArrayNode parts = NODES.arrayNode();
      c.values().forEach(v -> parts.add(value(v)));
      return wrap("concat", parts);
    } else if (value instanceof Value.AnonSet s) {
      ArrayNode elements = NODES.arrayNode();
      s.elements().forEach(v -> elements.add(value(v)));
      return wrap("set", elements);
    } else if (value instanceof Value.SetRef s) {
      return NODES.textNode("@" + s.name());
    } else if (value instanceof Value.Flags f) {
      if (f.names().size() == 1) {
        return NODES.textNode(f.names().get(0));
      }
      ArrayNode names = NODES.arrayNode();
      f.names().forEach(names::add);
      return names;
    } else if (value instanceof Value.MapLookup m) {
      return wrap("map", NODES.objectNode().<ObjectNode>set("key", field(m.key())).put("data", "@" + m.map()));
    }
    throw new IllegalArgumentException("unknown value " + value);
  }

  static JsonNode stmt(Stmt stmt) {
    if (stmt instanceof Stmt.Match m) {
      ObjectNode match = NODES.objectNode().put("op", m.op().symbol());
      match.set("left", field(m.left()));
      match.set("right", value(m.right()));
      return wrap("match", match);
    } else if (stmt instanceof Stmt.Counter) {
      return wrap("counter", NullNode.instance);
    } else if (stmt instanceof Stmt.NamedCounter c) {
      return wrap("counter", NODES.textNode(c.name()));
    } else if (stmt instanceof Stmt.Accept) {
      return wrap("accept", NullNode.instance);
    } else if (stmt instanceof Stmt.Drop) {
      return wrap("drop", NullNode.instance);
    } else if (stmt instanceof Stmt.Return) {
      return wrap("return", NullNode.instance);
    } else if (stmt instanceof Stmt.Jump j) {
      return wrap("jump", NODES.objectNode().put("target", j.target()));
    } else if (stmt instanceof Stmt.Goto g) {
      return wrap("goto", NODES.objectNode().put("target", g.target()));
    } else if (stmt instanceof Stmt.Reject r) {
      ObjectNode reject = NODES.objectNode().put("type", r.type());
      r.code().ifPresent(c -> reject.put("expr", c));
      return wrap("reject", reject);
    } else if (stmt instanceof Stmt.Vmap v) {
      return wrap("vmap", NODES.objectNode().<ObjectNode>set("key", field(v.key())).put("data", "@" + v.map()));
    } else if (stmt instanceof Stmt.Nat n) {
      if (n.family().isEmpty() && n.address().isEmpty() && n.port().isEmpty()) {
        return wrap(n.kind().nftName(), NullNode.instance);
      }
      ObjectNode nat = NODES.objectNode();
      n.family().ifPresent(f -> nat.put("family", f.nftName()));
      n.address().ifPresent(a -> nat.set("addr", value(a)));
      n.port().ifPresent(p -> nat.set("port", value(p)));
      return wrap(n.kind().nftName(), nat);
    } else if (stmt instanceof Stmt.Mangle m) {
      ObjectNode mangle = NODES.objectNode();
      mangle.set("key", field(m.key()));
      mangle.set("value", m.value() instanceof Field f ? field(f) : value((Value) m.value()));
      return wrap("mangle", mangle);
    } else if (stmt instanceof Stmt.Log l) {
      if (l.prefix().isEmpty() && l.group().isEmpty()) {
        return wrap("log", NullNode.instance);
      }
      ObjectNode log = NODES.objectNode();
      l.prefix().ifPresent(p -> log.put("prefix", p));
      l.group().ifPresent(g -> log.put("group", g));
      return wrap("log", log);
    } else if (stmt instanceof Stmt.Limit l) {
      ObjectNode limit = NODES.objectNode().put("rate", l.rate()).put("burst", l.burst()).put("per", l.per());
      if (l.over()) {
        limit.put("inv", true);
      }
      return wrap("limit", limit);
    }
    throw new IllegalArgumentException("unknown statement " + stmt);
  }

  private static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- parsing

  /**
   * Parses a batch of commands (the subset this class renders). Elements of sets the batch does not
   * declare are typed through {@code shapes}.
   *
   * @throws IllegalArgumentException naming what it could not parse
   */
  public static NftBatch parseBatch(String json, Shapes shapes) {
    JsonNode root = read(json);
    JsonNode commands = root.path("nftables");
    if (!commands.isArray()) {
      throw new IllegalArgumentException("not an nftables JSON batch: no \"nftables\" array");
    }
    Map<String, SetShape> declared = new HashMap<>();
    List<NftCommand> parsed = new ArrayList<>();
    for (JsonNode command : commands) {
      Map.Entry<String, JsonNode> verb = single(command, "command");
      if (verb.getKey().equals("metainfo")) {
        continue;
      }
      Map.Entry<String, JsonNode> object = single(verb.getValue(), verb.getKey() + " command");
      parsed.add(command(verb.getKey(), object.getKey(), object.getValue(), declared, shapes));
    }
    return new NftBatch(parsed);
  }

  private static NftCommand command(
      String verb, String kind, JsonNode node, Map<String, SetShape> declared, Shapes shapes) {
    boolean add = verb.equals("add") || verb.equals("create");
    boolean delete = verb.equals("delete");
    boolean flush = verb.equals("flush");
    if (!add && !delete && !flush) {
      throw new IllegalArgumentException("unsupported command " + verb);
    }
    TableRef ref =
        kind.equals("table")
            ? TableRef.of(NftFamily.of(text(node, "family")), text(node, "name"))
            : TableRef.of(NftFamily.of(text(node, "family")), text(node, "table"));
    switch (kind) {
      case "table":
        return add ? new NftCommand.AddTable(ref)
            : delete ? new NftCommand.DeleteTable(ref) : new NftCommand.FlushTable(ref);
      case "chain":
        return add ? new NftCommand.AddChain(ref, text(node, "name"), baseChain(node))
            : delete ? new NftCommand.DeleteChain(ref, text(node, "name"))
                : new NftCommand.FlushChain(ref, text(node, "name"));
      case "set":
      case "map":
        boolean isMap = kind.equals("map");
        if (add) {
          if (isMap) {
            NftMap map = map(node);
            declared.put(ref + " " + map.name(), new SetShape(map.keyType(), Optional.of(map.dataType())));
            return new NftCommand.AddMap(ref, map);
          }
          NftSet set = set(node);
          declared.put(ref + " " + set.name(), new SetShape(set.keyType(), Optional.empty()));
          return new NftCommand.AddSet(ref, set);
        }
        return delete ? new NftCommand.DeleteSet(ref, text(node, "name"), isMap)
            : new NftCommand.FlushSet(ref, text(node, "name"), isMap);
      case "element":
        String name = text(node, "name");
        SetShape shape =
            Optional.ofNullable(declared.get(ref + " " + name))
                .or(() -> shapes.apply(ref, name))
                .orElse(null);
        if (shape == null) {
          // Unknown set: keep the elements untyped; applying will refuse the missing set.
          return new NftCommand.SetElements(ref, name, elements(node.path("elem"), List.of()), !delete);
        }
        if (shape.dataType().isPresent()) {
          return new NftCommand.MapElements(
              ref, name, mapElements(node.path("elem"), shape.keyType(), shape.dataType().get()), !delete);
        }
        return new NftCommand.SetElements(ref, name, elements(node.path("elem"), shape.keyType()), !delete);
      case "rule":
        if (!add) {
          throw new IllegalArgumentException("unsupported command " + verb + " rule (flush the chain instead)");
        }
        return new NftCommand.AddRule(ref, text(node, "chain"), rule(node));
      case "counter":
        if (flush) {
          throw new IllegalArgumentException("unsupported command flush counter");
        }
        return add ? new NftCommand.AddCounter(ref, text(node, "name"),
                new CounterValues(node.path("packets").asLong(0), node.path("bytes").asLong(0)))
            : new NftCommand.DeleteCounter(ref, text(node, "name"));
      default:
        throw new IllegalArgumentException("unsupported object " + kind + " in " + verb + " command");
    }
  }

  /**
   * Parses {@code nft -j list table} output into the model and the named counters' values.
   *
   * @throws IllegalArgumentException on constructs outside the model, naming them
   */
  public static Listing parseListing(String json) {
    JsonNode objects = read(json).path("nftables");
    TableRef ref = null;
    Map<String, Chain> chains = new LinkedHashMap<>();
    Map<String, List<Rule>> rules = new HashMap<>();
    List<NftSet> sets = new ArrayList<>();
    List<NftMap> maps = new ArrayList<>();
    List<String> counters = new ArrayList<>();
    Map<String, CounterValues> values = new LinkedHashMap<>();
    for (JsonNode object : objects) {
      Map.Entry<String, JsonNode> entry = single(object, "listed object");
      JsonNode node = entry.getValue();
      switch (entry.getKey()) {
        case "metainfo":
          break;
        case "table":
          ref = TableRef.of(NftFamily.of(text(node, "family")), text(node, "name"));
          break;
        case "chain":
          chains.put(text(node, "name"), new Chain(text(node, "name"), baseChain(node), List.of()));
          break;
        case "rule":
          rules.computeIfAbsent(text(node, "chain"), c -> new ArrayList<>()).add(rule(node));
          break;
        case "set":
          sets.add(set(node));
          break;
        case "map":
          maps.add(map(node));
          break;
        case "counter":
          counters.add(text(node, "name"));
          values.put(text(node, "name"),
              new CounterValues(node.path("packets").asLong(), node.path("bytes").asLong()));
          break;
        default:
          throw new IllegalArgumentException("unsupported object in table listing: " + entry.getKey());
      }
    }
    if (ref == null) {
      throw new IllegalArgumentException("no table in listing");
    }
    List<Chain> chainList = new ArrayList<>();
    for (Chain chain : chains.values()) {
      chainList.add(chain.withRules(rules.getOrDefault(chain.name(), List.of())));
    }
    return new Listing(new Table(ref, chainList, sets, maps, counters), values);
  }

  private static Optional<BaseChain> baseChain(JsonNode node) {
    if (!node.has("hook")) {
      return Optional.empty();
    }
    return Optional.of(
        new BaseChain(
            BaseChain.Type.of(text(node, "type")),
            Hook.of(text(node, "hook")),
            node.path("prio").asInt(),
            node.has("policy") ? BaseChain.Policy.of(text(node, "policy")) : BaseChain.Policy.ACCEPT,
            node.has("dev") ? Optional.of(text(node, "dev")) : Optional.empty()));
  }

  private static List<DataType> types(JsonNode node) {
    if (node.isArray()) {
      List<DataType> types = new ArrayList<>();
      node.forEach(t -> types.add(DataType.of(t.asText())));
      return types;
    }
    return List.of(DataType.of(node.asText()));
  }

  private static Set<SetFlag> setFlags(JsonNode node) {
    Set<SetFlag> flags = new java.util.HashSet<>();
    node.path("flags").forEach(f -> flags.add(SetFlag.of(f.asText())));
    return flags;
  }

  private static NftSet set(JsonNode node) {
    List<DataType> keyType = types(node.path("type"));
    return new NftSet(text(node, "name"), keyType, setFlags(node), elements(node.path("elem"), keyType));
  }

  private static NftMap map(JsonNode node) {
    List<DataType> keyType = types(node.path("type"));
    DataType dataType = DataType.of(text(node, "map"));
    return new NftMap(
        text(node, "name"), keyType, dataType, setFlags(node), mapElements(node.path("elem"), keyType, dataType));
  }

  private static List<Value> elements(JsonNode array, List<DataType> keyType) {
    List<Value> elements = new ArrayList<>();
    array.forEach(e -> elements.add(value(element(e), keyType)));
    return elements;
  }

  private static List<MapElement> mapElements(JsonNode array, List<DataType> keyType, DataType dataType) {
    List<MapElement> elements = new ArrayList<>();
    for (JsonNode pair : array) {
      if (!pair.isArray() || pair.size() != 2) {
        throw new IllegalArgumentException("a map element must be [key, data]: " + pair);
      }
      Value key = value(element(pair.get(0)), keyType);
      MapData data =
          dataType == DataType.VERDICT ? verdict(pair.get(1)) : value(element(pair.get(1)), List.of(dataType));
      elements.add(new MapElement(key, data));
    }
    return elements;
  }

  /** nft wraps elements with options (timeout, comment) in {@code {"elem": {"val": ...}}}. */
  private static JsonNode element(JsonNode node) {
    return node.isObject() && node.has("elem") ? node.path("elem").path("val") : node;
  }

  private static Rule rule(JsonNode node) {
    List<Stmt> statements = new ArrayList<>();
    node.path("expr").forEach(s -> statements.add(stmt(s)));
    Optional<String> comment = node.has("comment") ? Optional.of(node.get("comment").asText()) : Optional.empty();
    return new Rule(statements, comment);
  }

  static Field field(JsonNode node) {
    Map.Entry<String, JsonNode> entry = single(node, "expression");
    JsonNode body = entry.getValue();
    switch (entry.getKey()) {
      case "meta":
        return new Field.Meta(Field.MetaKey.of(text(body, "key")));
      case "payload":
        return new Field.Payload(Field.PayloadField.of(text(body, "protocol"), text(body, "field")));
      case "ct":
        return new Field.Ct(Field.CtKey.of(text(body, "key")));
      case "tcp option":
        return new Field.TcpOption(text(body, "name"), text(body, "field"));
      case "rt":
        return new Field.Rt(text(body, "key"));
      case "&":
        return new Field.Masked(field(body.get(0)), body.get(1).asLong());
      case "concat":
        List<Field> fields = new ArrayList<>();
        body.forEach(f -> fields.add(field(f)));
        return new Field.Concat(fields);
      default:
        throw new IllegalArgumentException("unsupported expression " + entry.getKey());
    }
  }

  /** A value whose type the context gives: the field it is compared with, or the set's key. */
  static Value value(JsonNode node, List<DataType> types) {
    if (node.isTextual()) {
      String text = node.asText();
      if (text.startsWith("@")) {
        return new Value.SetRef(text.substring(1));
      }
      DataType type = types.size() == 1 ? types.get(0) : null;
      if (type == DataType.IPV4_ADDR || type == DataType.IPV6_ADDR) {
        return new Value.Addr(IpPrefix.literal(text));
      }
      if (type == DataType.ETHER_ADDR) {
        return new Value.Mac(MacAddress.of(text));
      }
      return new Value.Name(text);
    }
    if (node.isIntegralNumber()) {
      return new Value.Num(node.asLong());
    }
    if (node.isObject()) {
      Map.Entry<String, JsonNode> entry = single(node, "value");
      JsonNode body = entry.getValue();
      switch (entry.getKey()) {
        case "prefix":
          InetAddress address = IpPrefix.literal(text(body, "addr"));
          return new Value.Prefix(new IpPrefix(address, body.path("len").asInt()));
        case "range":
          return new Value.Range(value(body.get(0), types), value(body.get(1), types));
        case "concat":
          List<Value> parts = new ArrayList<>();
          for (int i = 0; i < body.size(); i++) {
            parts.add(value(body.get(i), i < types.size() ? List.of(types.get(i)) : List.of()));
          }
          return new Value.Concat(parts);
        case "set":
          List<Value> elements = new ArrayList<>();
          body.forEach(e -> elements.add(value(element(e), types)));
          return new Value.AnonSet(elements);
        case "map":
          return new Value.MapLookup(field(body.get("key")), text(body, "data").substring(1));
        default:
          throw new IllegalArgumentException("unsupported value " + entry.getKey());
      }
    }
    throw new IllegalArgumentException("unsupported value " + node);
  }

  private static Stmt.Verdict verdict(JsonNode node) {
    Stmt stmt = stmt(node);
    if (stmt instanceof Stmt.Verdict verdict) {
      return verdict;
    }
    throw new IllegalArgumentException("not a verdict: " + node);
  }

  static Stmt stmt(JsonNode node) {
    Map.Entry<String, JsonNode> entry = single(node, "statement");
    JsonNode body = entry.getValue();
    switch (entry.getKey()) {
      case "match":
        Field left = field(body.get("left"));
        Stmt.Op op = Stmt.Op.of(text(body, "op"));
        JsonNode right = body.get("right");
        if (op == Stmt.Op.IN && (right.isTextual() || right.isArray())) {
          List<String> names = new ArrayList<>();
          if (right.isTextual()) {
            names.add(right.asText());
          } else {
            right.forEach(n -> names.add(n.asText()));
          }
          return new Stmt.Match(left, op, new Value.Flags(names));
        }
        return new Stmt.Match(left, op, value(right, left.dataTypes()));
      case "counter":
        return body.isTextual() ? new Stmt.NamedCounter(body.asText()) : new Stmt.Counter();
      case "accept":
        return new Stmt.Accept();
      case "drop":
        return new Stmt.Drop();
      case "return":
        return new Stmt.Return();
      case "jump":
        return new Stmt.Jump(text(body, "target"));
      case "goto":
        return new Stmt.Goto(text(body, "target"));
      case "reject":
        if (body.isNull()) {
          return Stmt.Reject.icmpx("port-unreachable");
        }
        return new Stmt.Reject(text(body, "type"),
            body.has("expr") ? Optional.of(text(body, "expr")) : Optional.empty());
      case "vmap":
        return new Stmt.Vmap(field(body.get("key")), text(body, "data").substring(1));
      case "snat":
      case "dnat":
      case "masquerade":
      case "redirect":
        return nat(Stmt.NatKind.valueOf(entry.getKey().toUpperCase(java.util.Locale.ROOT)), body);
      case "mangle":
        Field key = field(body.get("key"));
        JsonNode value = body.get("value");
        Expr expr = value.isObject() && !value.has("prefix") && !value.has("range")
            ? field(value) : value(value, key.dataTypes());
        return new Stmt.Mangle(key, expr);
      case "log":
        if (body.isNull()) {
          return new Stmt.Log(Optional.empty(), Optional.empty());
        }
        return new Stmt.Log(
            body.has("prefix") ? Optional.of(text(body, "prefix")) : Optional.empty(),
            body.has("group") ? Optional.of(body.get("group").asInt()) : Optional.empty());
      case "limit":
        return new Stmt.Limit(body.path("rate").asLong(), text(body, "per"), body.path("burst").asInt(),
            body.path("inv").asBoolean(false));
      default:
        throw new IllegalArgumentException("unsupported statement " + entry.getKey());
    }
  }

  private static Stmt nat(Stmt.NatKind kind, JsonNode body) {
    if (body.isNull()) {
      return new Stmt.Nat(kind, Optional.empty(), Optional.empty(), Optional.empty());
    }
    Optional<NftFamily> family =
        body.has("family") ? Optional.of(NftFamily.of(text(body, "family"))) : Optional.empty();
    List<DataType> addressType =
        List.of(family.orElse(NftFamily.IP) == NftFamily.IP6 ? DataType.IPV6_ADDR : DataType.IPV4_ADDR);
    Optional<Value> address =
        body.has("addr") ? Optional.of(value(body.get("addr"), addressType)) : Optional.empty();
    Optional<Value> port =
        body.has("port") ? Optional.of(value(body.get("port"), List.of(DataType.INET_SERVICE))) : Optional.empty();
    return new Stmt.Nat(kind, family, address, port);
  }

  private static JsonNode read(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
    }
  }

  private static Map.Entry<String, JsonNode> single(JsonNode node, String what) {
    if (node == null || !node.isObject() || node.size() != 1) {
      throw new IllegalArgumentException("a " + what + " must be an object with one key: " + node);
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    return fields.next();
  }

  private static String text(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("missing \"" + key + "\" in " + node);
    }
    return value.asText();
  }

  static boolean isIpv4(InetAddress address) {
    return address instanceof Inet4Address;
  }
}
