package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.netlab.RepoPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * images/jvm/node-java, which starts the node for the launcher, the bench and the systemd unit:
 * the first run of a jar writes the node's class-data archive as it exits, later runs map it, and
 * an archive cut short or made for another jar is never mapped (it would crash the JVM). The
 * product jar runs {@code verge --version} in place of the node: the same JVM, the same archive.
 */
class NodeJavaIT {
  static final Path NODE_JAVA = RepoPaths.root().resolve("images/jvm/node-java");

  @TempDir Path dir;
  Path jar;
  Path cds;

  @BeforeEach
  void copyTheJar() throws IOException {
    jar = Files.copy(RepoPaths.root().resolve("cli/target/verge.jar"), dir.resolve("verge.jar"));
    cds = dir.resolve("cds");
  }

  record Run(int exitCode, String output, long classesFromTheArchive) {}

  private Run run() throws Exception {
    List<String> command = new ArrayList<>(List.of(NODE_JAVA.toString(), "-Xlog:class+load=info", "-jar",
        jar.toString(), "--version"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("VERGE_NODE_CDS_DIR", cds.toString());
    builder.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    long shared = output.lines().filter(l -> l.contains("source: shared objects file (top)")).count();
    return new Run(process.exitValue(), output, shared);
  }

  private List<String> files() throws IOException {
    try (Stream<Path> files = Files.list(cds)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theFirstRunWritesTheArchiveAndTheNextRunsMapIt() throws Exception {
    Run first = run();
    assertThat(first.exitCode()).as(first.output()).isZero();
    assertThat(first.output()).contains("verge ");
    assertThat(first.classesFromTheArchive()).isZero();
    assertThat(files()).singleElement().asString().startsWith(".node-").endsWith(".jsa");

    Run second = run();
    assertThat(second.exitCode()).as(second.output()).isZero();
    assertThat(second.classesFromTheArchive()).as("the node's classes come from the archive").isGreaterThan(100);
    assertThat(files()).singleElement().asString().startsWith("node-").endsWith(".jsa");

    assertThat(run().classesFromTheArchive()).isEqualTo(second.classesFromTheArchive());
    assertThat(files()).hasSize(1);
  }

  @Test
  void anArchiveCutShortByAKillIsDiscardedNotMappedAndTheNextRunTrainsAgain() throws Exception {
    run();
    Path trained = cds.resolve(files().get(0));
    byte[] whole = Files.readAllBytes(trained);
    Files.write(trained, java.util.Arrays.copyOf(whole, whole.length / 3)); // the JVM killed while writing

    Run afterTheKill = run();
    assertThat(afterTheKill.exitCode()).as(afterTheKill.output()).isZero();
    assertThat(afterTheKill.classesFromTheArchive()).isZero();
    assertThat(files()).as("the cut file is gone, this run trained a new one").singleElement().asString()
        .startsWith(".node-").isNotEqualTo(trained.getFileName().toString());
    assertThat(run().classesFromTheArchive()).isGreaterThan(100);
  }

  @Test
  void aNewJarTrainsItsOwnArchiveAndTheOldOneIsRemoved() throws Exception {
    run();
    run();
    String old = files().get(0);
    Path upgraded = dir.resolve("upgraded.jar");
    Files.copy(jar, upgraded, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(upgraded, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
    Files.move(upgraded, jar, StandardCopyOption.REPLACE_EXISTING);

    Run afterTheUpgrade = run();
    assertThat(afterTheUpgrade.exitCode()).as(afterTheUpgrade.output()).isZero();
    assertThat(afterTheUpgrade.classesFromTheArchive()).as("the old jar's archive is not mapped").isZero();
    assertThat(files()).doesNotContain(old).singleElement().asString().startsWith(".node-");
    assertThat(run().classesFromTheArchive()).isGreaterThan(100);
  }
}
