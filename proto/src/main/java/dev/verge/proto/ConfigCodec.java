package dev.verge.proto;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.verge.proto.config.v1.DeviceConfig;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * JSON and YAML forms of protobuf messages (the protobuf JSON mapping; YAML is the same tree).
 * Parsing is strict: malformed text is refused with its line and column, and every unknown field,
 * wrong type or unknown enum value is refused with its field path (e.g. {@code
 * network_instances[1].ipp}), before the protobuf JSON parser sees the document. Both proto field
 * names ({@code network_instances}) and JSON names ({@code networkInstances}) are accepted; output
 * uses proto field names.
 */
public final class ConfigCodec {

  /** Text forms of a message. */
  public enum Format {
    JSON,
    YAML
  }

  private static final ObjectMapper JSON_MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final YAMLMapper YAML_MAPPER =
      YAMLMapper.builder(new YAMLFactory())
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .build();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Printer PRETTY_PRINTER = JsonFormat.printer().preservingProtoFieldNames();
  @SuppressWarnings("deprecation") // the 3.25 name of "always print fields without presence"
  private static final JsonFormat.Printer STABLE_PRINTER =
      JsonFormat.printer().includingDefaultValueFields();

  private ConfigCodec() {}

  public static DeviceConfig parseDeviceConfig(String text, Format format) throws ConfigFormatException {
    DeviceConfig.Builder builder = DeviceConfig.newBuilder();
    parse(text, format, builder);
    return builder.build();
  }

  /** Parses {@code text} into {@code builder}, refusing anything the message type does not define. */
  public static void parse(String text, Format format, Message.Builder builder) throws ConfigFormatException {
    JsonNode tree;
    try {
      tree = (format == Format.YAML ? YAML_MAPPER : JSON_MAPPER).readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : "<input>:" + at.getLineNr() + ":" + at.getColumnNr();
      throw new ConfigFormatException(List.of(new ConfigViolation(where, ConfigViolation.MALFORMED_INPUT,
          "malformed " + format + ": " + e.getOriginalMessage())));
    }
    if (tree == null || tree.isMissingNode() || tree.isNull()) {
      tree = JSON_MAPPER.createObjectNode(); // an empty document is an empty message
    }
    List<ConfigViolation> violations = new ArrayList<>();
    checkMessage(tree, builder.getDescriptorForType(), "", violations);
    if (!violations.isEmpty()) {
      throw new ConfigFormatException(violations);
    }
    try {
      JsonFormat.parser().merge(JSON_MAPPER.writeValueAsString(tree), builder);
    } catch (InvalidProtocolBufferException | JsonProcessingException e) {
      // What the tree walk does not model (e.g. a number out of range) still gets a precise message.
      throw new ConfigFormatException(List.of(new ConfigViolation("", ConfigViolation.INVALID_VALUE, e.getMessage())));
    }
  }

  public static String toJson(MessageOrBuilder message) {
    return print(PRINTER, message);
  }

  public static String toPrettyJson(MessageOrBuilder message) {
    return print(PRETTY_PRINTER, message);
  }

  /**
   * The canonical protobuf JSON mapping (lowerCamelCase names, as grpcurl prints them), pretty,
   * with fields holding their default value printed too, so every field a script reads is always
   * present (CLI {@code -o json}).
   */
  public static String toStableJson(MessageOrBuilder message) {
    return print(STABLE_PRINTER, message);
  }

  public static String toYaml(MessageOrBuilder message) {
    try {
      return YAML_MAPPER.writeValueAsString(JSON_MAPPER.readTree(print(PRINTER, message)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the protobuf JSON printer produced unreadable JSON", e);
    }
  }

  private static String print(JsonFormat.Printer printer, MessageOrBuilder message) {
    try {
      return printer.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("message cannot be printed as JSON: " + e.getMessage(), e);
    }
  }

  private static void checkMessage(JsonNode node, Descriptor type, String path, List<ConfigViolation> out) {
    if (type.getFullName().startsWith("google.protobuf.")) {
      return; // well-known types have their own JSON forms; JsonFormat checks them
    }
    if (!node.isObject()) {
      out.add(new ConfigViolation(path, ConfigViolation.WRONG_TYPE,
          "expected an object (" + type.getName() + "), found " + kind(node)));
      return;
    }
    Map<OneofDescriptor, String> oneofsSeen = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      FieldDescriptor field = findField(type, entry.getKey());
      String fieldPath = path.isEmpty() ? entry.getKey() : path + "." + entry.getKey();
      if (field == null) {
        out.add(new ConfigViolation(fieldPath, ConfigViolation.UNKNOWN_FIELD,
            "unknown field '" + entry.getKey() + "' in " + type.getName()));
        continue;
      }
      fieldPath = path.isEmpty() ? field.getName() : path + "." + field.getName();
      JsonNode value = entry.getValue();
      if (value.isNull()) {
        continue;
      }
      OneofDescriptor oneof = field.getRealContainingOneof();
      if (oneof != null) {
        String other = oneofsSeen.putIfAbsent(oneof, field.getName());
        if (other != null) {
          out.add(new ConfigViolation(fieldPath, ConfigViolation.DUPLICATE,
              "'" + field.getName() + "' and '" + other + "' are alternatives (" + oneof.getName() + "); set one"));
        }
      }
      if (field.isMapField()) {
        if (!value.isObject()) {
          out.add(new ConfigViolation(fieldPath, ConfigViolation.WRONG_TYPE, "expected a map, found " + kind(value)));
          continue;
        }
        FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
        for (Iterator<Map.Entry<String, JsonNode>> m = value.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> e = m.next();
          checkValue(e.getValue(), valueField, fieldPath + "[" + e.getKey() + "]", out);
        }
      } else if (field.isRepeated()) {
        if (!value.isArray()) {
          out.add(new ConfigViolation(fieldPath, ConfigViolation.WRONG_TYPE, "expected a list, found " + kind(value)));
          continue;
        }
        for (int i = 0; i < value.size(); i++) {
          checkValue(value.get(i), field, fieldPath + "[" + i + "]", out);
        }
      } else {
        checkValue(value, field, fieldPath, out);
      }
    }
  }

  private static void checkValue(JsonNode value, FieldDescriptor field, String path, List<ConfigViolation> out) {
    switch (field.getJavaType()) {
      case MESSAGE -> checkMessage(value, field.getMessageType(), path, out);
      case ENUM -> checkEnum(value, field.getEnumType(), path, out);
      case STRING -> expect(value.isValueNode(), "a string", value, path, out); // YAML "version: 1" is fine
      case BYTE_STRING -> expect(value.isTextual(), "a base64 string", value, path, out);
      case BOOLEAN -> expect(value.isBoolean(), "true or false", value, path, out);
      case INT, LONG -> checkWholeNumber(value, field, path, out);
      case FLOAT, DOUBLE -> checkRealNumber(value, path, out);
    }
  }

  /**
   * A whole number in the field's range, as a number or a string of one (the protobuf JSON mapping
   * allows both), so {@code memory_mb: lots} and {@code vlan_id: -1} are refused at their path
   * instead of by the protobuf parser, which names no field.
   */
  private static void checkWholeNumber(JsonNode value, FieldDescriptor field, String path, List<ConfigViolation> out) {
    BigInteger[] range = wholeRange(field.getType());
    String expected = "a whole number from " + range[0] + " to " + range[1] + " (" + field.getType().name().toLowerCase() + ")";
    BigDecimal number = null;
    if (value.isNumber() || value.isTextual()) {
      try {
        number = new BigDecimal(value.isTextual() ? value.asText().strip() : value.numberValue().toString());
      } catch (NumberFormatException e) {
        number = null; // not a number
      }
    }
    if (number == null) {
      out.add(new ConfigViolation(path, ConfigViolation.WRONG_TYPE, "expected " + expected + ", found " + describe(value)));
    } else if (number.precision() - number.scale() > 21) {
      // 1e999999999 is a valid number whose whole form would take a gigabyte: out of range, unexpanded
      out.add(new ConfigViolation(path, ConfigViolation.INVALID_VALUE, "expected " + expected + ", found " + describe(value)));
    } else if (number.stripTrailingZeros().scale() > 0) {
      out.add(new ConfigViolation(path, ConfigViolation.WRONG_TYPE, "expected " + expected + ", found " + describe(value)));
    } else if (number.toBigInteger().compareTo(range[0]) < 0 || number.toBigInteger().compareTo(range[1]) > 0) {
      out.add(new ConfigViolation(path, ConfigViolation.INVALID_VALUE, "expected " + expected + ", found " + number.toBigInteger()));
    }
  }

  private static BigInteger[] wholeRange(FieldDescriptor.Type type) {
    return switch (type) {
      case UINT32, FIXED32 -> new BigInteger[] {BigInteger.ZERO, BigInteger.valueOf(0xFFFF_FFFFL)};
      case UINT64, FIXED64 -> new BigInteger[] {BigInteger.ZERO, BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE)};
      case INT64, SINT64, SFIXED64 -> new BigInteger[] {BigInteger.valueOf(Long.MIN_VALUE), BigInteger.valueOf(Long.MAX_VALUE)};
      default -> new BigInteger[] {BigInteger.valueOf(Integer.MIN_VALUE), BigInteger.valueOf(Integer.MAX_VALUE)};
    };
  }

  private static void checkRealNumber(JsonNode value, String path, List<ConfigViolation> out) {
    if (value.isNumber()) {
      return;
    }
    if (value.isTextual()) {
      String text = value.asText().strip();
      if (text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity")) {
        return;
      }
      try {
        new BigDecimal(text);
        return;
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    out.add(new ConfigViolation(path, ConfigViolation.WRONG_TYPE, "expected a number, found " + describe(value)));
  }

  /** The kind of a value, with the value itself when it is short text (what the operator typed). */
  private static String describe(JsonNode value) {
    if (value.isTextual()) {
      String text = value.asText();
      return "the string '" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'";
    }
    return value.isNumber() ? value.asText() : kind(value);
  }

  private static void checkEnum(JsonNode value, EnumDescriptor type, String path, List<ConfigViolation> out) {
    if (value.isIntegralNumber()) {
      return;
    }
    if (!value.isTextual() || type.findValueByName(value.asText()) == null) {
      List<String> names = type.getValues().stream().map(v -> v.getName()).toList();
      out.add(new ConfigViolation(path, ConfigViolation.INVALID_VALUE,
          "'" + value.asText() + "' is not a " + type.getName() + "; one of " + names));
    }
  }

  private static void expect(boolean ok, String expected, JsonNode value, String path, List<ConfigViolation> out) {
    if (!ok) {
      out.add(new ConfigViolation(path, ConfigViolation.WRONG_TYPE, "expected " + expected + ", found " + kind(value)));
    }
  }

  private static FieldDescriptor findField(Descriptor type, String name) {
    FieldDescriptor field = type.findFieldByName(name);
    if (field != null) {
      return field;
    }
    for (FieldDescriptor candidate : type.getFields()) {
      if (candidate.getJsonName().equals(name)) {
        return candidate;
      }
    }
    return null;
  }

  private static String kind(JsonNode node) {
    return switch (node.getNodeType()) {
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      default -> node.getNodeType().name().toLowerCase();
    };
  }
}
