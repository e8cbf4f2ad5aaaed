package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/config-reference.md is what {@link ConfigReference} writes from the .proto comments of this
 * build: a field added or a comment changed without the reference following fails here.
 * {@code ./verge docs} (or {@code -Dverge.docs.update=true}) rewrites it.
 */
class ConfigReferenceTest {
  private static final Path DESCRIPTORS = Path.of("target/generated-resources/protobuf/descriptor-sets/verge-proto.protobin");
  private static final Path COMMITTED = Path.of("..", "docs", "config-reference.md");
  private static String generated;

  @BeforeAll
  static void generate() throws Exception {
    FileDescriptorSet set = ConfigReference.read(DESCRIPTORS);
    generated = ConfigReference.render(set);
    Files.writeString(Path.of("target", "config-reference.md"), generated, StandardCharsets.UTF_8);
    if (Boolean.getBoolean("verge.docs.update")) {
      Files.writeString(COMMITTED, generated, StandardCharsets.UTF_8);
    }
  }

  @Test
  void theCommittedReferenceIsTheOneTheProtoCommentsGive() throws Exception {
    assertThat(Files.readString(COMMITTED))
        .as("docs/config-reference.md is stale: run ./verge docs (the build's copy: proto/target/config-reference.md)")
        .isEqualTo(generated);
  }

  @Test
  void everyMessageAndFieldOfTheConfigIsDocumentedFromItsComment() {
    assertThat(generated)
        .contains("### DeviceConfig\n")
        .contains("### PhysicalIo.Usage (enum)")
        // a field with a leading comment, shown by its YAML name with its proto name
        .contains("| `configTimestampMs` (config_timestamp_ms) | int64 | 3 | Unix epoch milliseconds, stamped by the controller")
        // a trailing comment
        .contains("| `phyLabel` (phy_label) | string | 3 | physical label printed on the box, e.g. \"eth0\" |")
        .contains("| `phyAddrs` (phy_addrs) | map<string, string> |")
        .contains("| `TYPE_ETH_PF` | 11 | SR-IOV physical function; vf_list says how many VFs to create |")
        .contains("### UuidAndVersion");
  }
}
