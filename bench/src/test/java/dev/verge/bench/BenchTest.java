package dev.verge.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchTest {

  @Test
  void anUnknownGroupIsAUsageErrorNamingTheKnownOnes() {
    StringWriter err = new StringWriter();
    var saved = System.err;
    var capture = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(capture, true));
    try {
      CommandLine cli = new CommandLine(new Bench());
      cli.setErr(new PrintWriter(err));
      assertThat(cli.execute("no-such-group")).isEqualTo(2);
    } finally {
      System.setErr(saved);
    }
    assertThat(capture.toString()).contains("unknown bench group 'no-such-group'").contains("reconciler, pubsub");
  }
}
