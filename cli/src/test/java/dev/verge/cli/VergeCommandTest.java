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
  void versionNamesTheProduct() {
    StringWriter out = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    assertThat(cli.execute("--version")).isZero();
    assertThat(out.toString()).startsWith("verge ");
  }

}
