package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The admin API by default: the data directory's socket, reachable by its owner through --data-dir. */
class AdminSocketTest {
  @TempDir Path dir;
  private Path data;
  private ControllerServer server;

  record Run(int exitCode, String out, String err) {}

  @BeforeEach
  void start() throws Exception {
    data = dir.resolve("data");
    server = ControllerServer.start(ControllerSettings.defaults(data).withPorts("127.0.0.1", 0, -1, -1));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  static Run verge(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  @Test
  void byDefaultTheAdminApiIsAnOwnerOnlySocketInTheDataDirectory() throws Exception {
    Run onboard = verge("controller", "onboard", "--data-dir", data.toString(), "SN-OWNER");

    assertThat(server.adminPort()).as("no plaintext TCP admin port unless asked for").isEqualTo(-1);
    assertThat(onboard.exitCode()).as(onboard.err()).isZero();
    assertThat(onboard.out()).isEqualTo("SN-OWNER\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.adminSocket()))).isEqualTo("rw-------");
  }

  @Test
  void withoutADataDirOrAddressTheCliSaysSoInOneLine() {
    Run run = verge("controller", "devices");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).isEqualTo("error: name the controller: --data-dir DIR (its admin socket) or --admin HOST:PORT"
        + " (see 'verge controller devices --help')" + System.lineSeparator());
  }

  @Test
  void aDataDirWithNoRunningControllerIsARuntimeErrorInOneLine() {
    Path elsewhere = dir.resolve("nothing-here");

    Run run = verge("controller", "devices", "--data-dir", elsewhere.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("error: no controller admin socket at " + elsewhere.resolve("admin.sock").toAbsolutePath()
        + " (is the controller running on that data directory?)" + System.lineSeparator());
  }
}
