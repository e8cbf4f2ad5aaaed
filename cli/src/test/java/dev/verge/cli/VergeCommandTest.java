package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class VergeCommandTest {

  @Test
  void helpListsTheSubcommands() {
    StringWriter out = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--help")).isZero();
    assertThat(out.toString()).contains("demo").contains("node").contains("controller").contains("./verge bench");
  }

  @Test
  void aCommandLineThatRunsOneSubcommandBuildsOnlyThatOne() {
    // a node's start does not reflect on the controller's and the demo's commands (and load what they use)
    assertThat(VergeCommand.commandLineFor(new String[] {"--log-format", "json", "node", "run", "--help"})
        .getSubcommands()).containsOnlyKeys("node");
    assertThat(VergeCommand.commandLineFor(new String[] {"controller", "devices"}).getSubcommands())
        .containsOnlyKeys("controller");
    // help, the root's own options and a mistyped command get the whole tree (picocli suggests from it)
    for (String[] args : new String[][] {{"--help"}, {"help", "node"}, {"nod"}, {}}) {
      assertThat(VergeCommand.commandLineFor(args).getSubcommands()).containsOnlyKeys("node", "demo", "controller", "help");
    }
  }

  @Test
  void versionNamesTheProduct() {
    StringWriter out = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--version")).isZero();
    assertThat(out.toString()).startsWith("verge ");
  }

}
