package dev.verge.cli;

import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code verge controller apply}: validate, store, sign and push a device config. */
@Command(name = "apply", mixinStandardHelpOptions = true,
    description = {"Apply a device config (JSON or YAML form of DeviceConfig).",
        "The controller validates it and reports each problem with its field path;",
        "a valid config is stored, signed and pushed to the device."})
final class ControllerApplyCommand implements Callable<Integer> {
  enum Format {
    auto,
    json,
    yaml
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin AdminOptions admin;

  @Option(names = {"-d", "--device"}, required = true, paramLabel = "UUID", description = "Device UUID.")
  String device;

  @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "Config file; '-' reads standard input.")
  String file;

  @Option(names = "--format", defaultValue = "auto",
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: by file extension, else YAML, which also reads JSON).")
  Format format;

  @Option(names = "--force", description = "Apply even a config that removes every network instance and app of the device.")
  boolean force;

  @Override
  public Integer call() throws IOException {
    String text = file.equals("-") ? utf8(System.in.readAllBytes(), "standard input") : read(Path.of(file));
    boolean json = format == Format.json || (format == Format.auto && file.toLowerCase().endsWith(".json"));
    ApplyConfigRequest.Builder request = ApplyConfigRequest.newBuilder().setDeviceUuid(device).setForce(force);
    if (json) {
      request.setJson(text);
    } else {
      request.setYaml(text);
    }
    return admin.call(spec, stub -> stub.applyConfig(request.build()), ControllerApplyCommand::text);
  }

  private String read(Path path) throws IOException {
    if (!Files.isReadable(path)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "cannot read config file " + path);
    }
    return utf8(Files.readAllBytes(path), path.toString());
  }

  /** Strict UTF-8: a binary or Latin-1 file is named with the offset of its first bad byte. */
  static String utf8(byte[] bytes, String source) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      return decoder.decode(in).toString();
    } catch (CharacterCodingException e) {
      int offset = in.position();
      throw new IllegalArgumentException(source + " is not UTF-8 text (byte 0x"
          + String.format("%02x", bytes[Math.min(offset, bytes.length - 1)] & 0xff) + " at offset " + offset + ")");
    }
  }

  private static String text(ApplyConfigResponse response) {
    return (response.getUnchanged() ? "unchanged: version " : "stored: version ") + response.getVersion()
        + "\nhash: " + response.getConfigHash()
        + "\npushed: " + (response.getPushed() ? "yes (device connected)" : "no (sent when the device connects)");
  }
}
