package dev.verge.proto;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The device config reference (docs/config-reference.md) written from the comments of the config's
 * .proto files, read from the descriptor set protoc writes with its source info at build time: the
 * reference is the schema's own documentation, so it cannot drift from it.
 *
 * <p>Field names are given as they are written in YAML and JSON configs (protobuf's JSON names,
 * lowerCamelCase), with the proto name beside them.
 */
public final class ConfigReference {
  /** The files the reference covers, in order: the config and the types it borrows. */
  static final List<String> FILES = List.of("dev/verge/proto/config/v1/config.proto", "dev/verge/proto/common/v1/common.proto");

  // descriptor.proto's field numbers, the keys of SourceCodeInfo paths
  private static final int FILE_MESSAGE = 4;
  private static final int FILE_ENUM = 5;
  private static final int MESSAGE_FIELD = 2;
  private static final int MESSAGE_NESTED = 3;
  private static final int MESSAGE_ENUM = 4;
  private static final int ENUM_VALUE = 2;

  private ConfigReference() {}

  /** {@code ConfigReference <descriptor set> <output.md>}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: ConfigReference <descriptor-set.protobin> <output.md>");
      System.exit(2);
    }
    Files.writeString(Path.of(args[1]), render(read(Path.of(args[0]))), StandardCharsets.UTF_8);
  }

  public static FileDescriptorSet read(Path descriptorSet) throws IOException {
    try (InputStream in = Files.newInputStream(descriptorSet)) {
      return FileDescriptorSet.parseFrom(in);
    }
  }

  /** The reference as Markdown. */
  public static String render(FileDescriptorSet set) {
    Map<String, FileDescriptorProto> byName = set.getFileList().stream()
        .collect(Collectors.toMap(FileDescriptorProto::getName, f -> f));
    StringBuilder out = new StringBuilder();
    out.append("# Device config reference\n\n")
        .append("<!-- Generated from the comments of ").append(String.join(" and ", FILES))
        .append(" by dev.verge.proto.ConfigReference at build time (`./verge docs` rewrites it; a stale copy fails")
        .append(" ConfigReferenceTest). Do not edit by hand: edit the .proto comments. -->\n\n")
        .append("A device config is one `DeviceConfig`, written in YAML or JSON (see `examples/`) and applied with\n")
        .append("`verge controller apply -d <device-uuid> -f FILE`. Field names below are as written there\n")
        .append("(lowerCamelCase); the proto name follows in brackets. Enum values are written by name.\n");
    for (String name : FILES) {
      FileDescriptorProto file = byName.get(name);
      if (file == null) {
        throw new IllegalArgumentException("the descriptor set has no " + name + " (was it written with its imports?)");
      }
      renderFile(file, out);
    }
    return out.toString();
  }

  private static void renderFile(FileDescriptorProto file, StringBuilder out) {
    Comments comments = new Comments(file.getSourceCodeInfo());
    out.append("\n## ").append(file.getPackage()).append("\n\n");
    String header = comments.detachedBeforeSyntax();
    if (!header.isEmpty()) {
      out.append(header).append("\n");
    }
    for (int m = 0; m < file.getMessageTypeCount(); m++) {
      renderMessage(file.getMessageType(m), file.getMessageType(m).getName(), List.of(FILE_MESSAGE, m), comments, out);
    }
    for (int e = 0; e < file.getEnumTypeCount(); e++) {
      renderEnum(file.getEnumType(e), file.getEnumType(e).getName(), List.of(FILE_ENUM, e), comments, out);
    }
  }

  private static void renderMessage(DescriptorProto message, String fullName, List<Integer> path, Comments comments,
      StringBuilder out) {
    if (message.getOptions().getMapEntry()) {
      return; // shown as map<k, v> on its field
    }
    out.append("\n### ").append(fullName).append("\n\n");
    String doc = comments.of(path);
    if (!doc.isEmpty()) {
      out.append(doc).append("\n\n");
    }
    if (message.getFieldCount() > 0) {
      out.append("| field | type | # | meaning |\n|---|---|---|---|\n");
      for (int f = 0; f < message.getFieldCount(); f++) {
        FieldDescriptorProto field = message.getField(f);
        out.append("| `").append(field.getJsonName()).append("`")
            .append(field.getJsonName().equals(field.getName()) ? "" : " (" + field.getName() + ")")
            .append(field.hasOneofIndex() && !field.getProto3Optional()
                ? " — one of `" + message.getOneofDecl(field.getOneofIndex()).getName() + "`" : "")
            .append(" | ").append(typeOf(field, message)).append(" | ").append(field.getNumber())
            .append(" | ").append(cell(comments.of(append(path, MESSAGE_FIELD, f)))).append(" |\n");
      }
    }
    for (int n = 0; n < message.getNestedTypeCount(); n++) {
      DescriptorProto nested = message.getNestedType(n);
      renderMessage(nested, fullName + "." + nested.getName(), append(path, MESSAGE_NESTED, n), comments, out);
    }
    for (int e = 0; e < message.getEnumTypeCount(); e++) {
      EnumDescriptorProto nested = message.getEnumType(e);
      renderEnum(nested, fullName + "." + nested.getName(), append(path, MESSAGE_ENUM, e), comments, out);
    }
  }

  private static void renderEnum(EnumDescriptorProto type, String fullName, List<Integer> path, Comments comments,
      StringBuilder out) {
    out.append("\n### ").append(fullName).append(" (enum)\n\n");
    String doc = comments.of(path);
    if (!doc.isEmpty()) {
      out.append(doc).append("\n\n");
    }
    out.append("| value | # | meaning |\n|---|---|---|\n");
    for (int v = 0; v < type.getValueCount(); v++) {
      EnumValueDescriptorProto value = type.getValue(v);
      out.append("| `").append(value.getName()).append("` | ").append(value.getNumber()).append(" | ")
          .append(cell(comments.of(append(path, ENUM_VALUE, v)))).append(" |\n");
    }
  }

  private static String typeOf(FieldDescriptorProto field, DescriptorProto owner) {
    if (field.getType() == FieldDescriptorProto.Type.TYPE_MESSAGE) {
      for (DescriptorProto nested : owner.getNestedTypeList()) {
        if (nested.getOptions().getMapEntry() && field.getTypeName().endsWith("." + nested.getName())) {
          return "map<" + typeOf(nested.getField(0), nested) + ", " + typeOf(nested.getField(1), nested) + ">";
        }
      }
    }
    String type = switch (field.getType()) {
      case TYPE_MESSAGE, TYPE_ENUM -> shortName(field.getTypeName());
      default -> field.getType().name().substring("TYPE_".length()).toLowerCase();
    };
    return field.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED ? "list of " + type : type;
  }

  /** ".dev.verge.proto.config.v1.Ace.Match" → "Ace.Match" (the package is the section's). */
  private static String shortName(String typeName) {
    String[] parts = typeName.substring(1).split("\\.");
    int first = 0;
    while (first < parts.length - 1 && Character.isLowerCase(parts[first].charAt(0))) {
      first++;
    }
    return String.join(".", List.of(parts).subList(first, parts.length));
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n\n", "<br><br>").replace("\n", " ");
  }

  private static List<Integer> append(List<Integer> path, int... more) {
    List<Integer> longer = new ArrayList<>(path);
    for (int element : more) {
      longer.add(element);
    }
    return longer;
  }

  /** Leading and trailing comments of the file's declarations, by their source path. */
  private static final class Comments {
    private final Map<List<Integer>, SourceCodeInfo.Location> byPath = new HashMap<>();
    private final String beforeSyntax;

    Comments(SourceCodeInfo info) {
      String header = "";
      for (SourceCodeInfo.Location location : info.getLocationList()) {
        byPath.putIfAbsent(location.getPathList(), location);
        if (location.getPathList().equals(List.of(12))) { // the syntax statement
          header = location.getLeadingDetachedCommentsList().stream().map(Comments::clean)
              .collect(Collectors.joining("\n\n"));
          if (header.isEmpty()) {
            header = clean(location.getLeadingComments());
          }
        }
      }
      this.beforeSyntax = header;
    }

    String detachedBeforeSyntax() {
      return beforeSyntax;
    }

    String of(List<Integer> path) {
      SourceCodeInfo.Location location = byPath.get(path);
      if (location == null) {
        return "";
      }
      String leading = clean(location.getLeadingComments());
      String trailing = clean(location.getTrailingComments());
      return leading.isEmpty() ? trailing : trailing.isEmpty() ? leading : leading + "\n\n" + trailing;
    }

    /** One space of comment indentation off each line; paragraphs kept, lines of one paragraph joined. */
    private static String clean(String comment) {
      String text = comment.lines().map(l -> l.startsWith(" ") ? l.substring(1) : l)
          .collect(Collectors.joining("\n")).strip();
      return text.replaceAll("(?<!\n)\n(?!\n)", " ");
    }
  }
}
