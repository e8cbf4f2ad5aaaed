package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.proto.Certificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Remote administration as an operator does it: issue a certificate from the controller's data
 * directory, then run the admin commands against --admin-listen with it. Refusals are one line.
 */
class RemoteAdminCliTest {
  private static final String NL = System.lineSeparator();
  @TempDir Path dir;
  private Path data;
  private ControllerServer server;
  private String remote;

  record Run(int exitCode, String out, String err) {}

  @BeforeEach
  void start() throws Exception {
    data = dir.resolve("data");
    server = ControllerServer.start(ControllerSettings.defaults(data).withPorts("127.0.0.1", 0, -1, -1)
        .withRemoteAdmin(new InetSocketAddress("127.0.0.1", 0)));
    remote = "127.0.0.1:" + server.remoteAdminPort();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Run verge(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  private Run remoteOnboard(Path cert, Path key, Path ca, String serial) {
    return verge("controller", "onboard", "--admin", remote, "--operator-cert", cert.toString(), "--operator-key", key.toString(),
        "--ca", ca.toString(), serial);
  }

  private Path out(String name) {
    return dir.resolve("operators").resolve(name);
  }

  @Test
  void anIssuedOperatorCertificateAdministersTheControllerRemotely() throws Exception {
    Run issue = verge("controller", "issue-operator-cert", "--data-dir", data.toString(), "--name", "alice", "--out", out("alice").toString());

    assertThat(issue.exitCode()).as(issue.err()).isZero();
    assertThat(issue.out()).startsWith("issued operator certificate CN=alice (sha256 ");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out("alice").resolve("alice.key")))).isEqualTo("rw-------");

    Run onboard = remoteOnboard(out("alice").resolve("alice.crt"), out("alice").resolve("alice.key"), out("alice").resolve("ca.crt"),
        "SN-REMOTE");

    assertThat(onboard.exitCode()).as(onboard.err()).isZero();
    assertThat(onboard.out()).isEqualTo("SN-REMOTE" + NL);
    Run local = verge("controller", "onboard", "--data-dir", data.toString());
    assertThat(local.exitCode()).as("the owner's socket still works alongside: " + local.err()).isZero();
    assertThat(local.out()).isEqualTo("SN-REMOTE" + NL);
  }

  @Test
  void aCertificateFromAnotherControllersCaIsRefusedInOneLine() throws Exception {
    Path otherData = dir.resolve("other");
    try (ControllerServer other = ControllerServer.start(ControllerSettings.defaults(otherData).withPorts("127.0.0.1", 0, -1, -1))) {
      assertThat(other.remoteAdminPort()).isEqualTo(-1);
    }
    verge("controller", "issue-operator-cert", "--data-dir", otherData.toString(), "--name", "mallory", "--out", out("mallory").toString());
    Files.copy(data.resolve("pki/ca.crt"), out("mallory").resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    Run run = remoteOnboard(out("mallory").resolve("mallory.crt"), out("mallory").resolve("mallory.key"),
        out("mallory").resolve("ca.crt"), "SN-X");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("error: UNAUTHENTICATED: the client certificate (OU=verge operator,CN=mallory, issued by "
        + "CN=verge controller CA) is not issued by this controller's CA" + NL);
  }

  @Test
  void aDevicesSelfSignedCertificateIsRefusedInOneLine() throws Exception {
    Certificates.Identity device = Certificates.selfSigned("device SN-D", false, Duration.ofDays(1));
    Certificates.store(device, dir.resolve("device.crt"), dir.resolve("device.key"));

    Run run = remoteOnboard(dir.resolve("device.crt"), dir.resolve("device.key"), data.resolve("pki/ca.crt"), "SN-X");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("error: UNAUTHENTICATED: the client certificate (CN=device SN-D, issued by CN=device SN-D)"
        + " is not issued by this controller's CA" + NL);
  }

  @Test
  void theWrongCaForTheControllerIsNamedInOneLine() throws Exception {
    verge("controller", "issue-operator-cert", "--data-dir", data.toString(), "--name", "alice", "--out", out("alice").toString());
    Certificates.Identity otherCa = Certificates.selfSigned("other CA", true, Duration.ofDays(1));
    Path wrongCa = dir.resolve("wrong-ca.crt");
    Files.writeString(wrongCa, Certificates.toPem(otherCa.certificate()));

    Run run = remoteOnboard(out("alice").resolve("alice.crt"), out("alice").resolve("alice.key"), wrongCa, "SN-X");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("error: UNAVAILABLE: the controller's certificate is not issued by the CA in " + wrongCa + NL);
  }

  @Test
  void withoutAnOperatorCertificateTheListenerIsUnreachableAndTheCliSaysWhatItNeeds() {
    Run run = verge("controller", "devices", "--admin", remote);

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("error: UNAVAILABLE: controller not reachable at " + remote + ": ")
        .endsWith(" (an --admin-listen port needs --operator-cert, --operator-key and --ca)" + NL)
        .hasLineCount(1);
  }

  @Test
  void operatorOptionsAreUsageErrorsWhenIncompleteOrMissing() throws Exception {
    Run partial = verge("controller", "devices", "--admin", remote, "--operator-cert", dir.resolve("a.crt").toString());
    Run missing = verge("controller", "devices", "--admin", remote, "--operator-cert", dir.resolve("a.crt").toString(),
        "--operator-key", dir.resolve("a.key").toString(), "--ca", dir.resolve("ca.crt").toString());
    Run badName = verge("controller", "issue-operator-cert", "--data-dir", data.toString(), "--name", "../x", "--out", dir.toString());

    assertThat(partial.exitCode()).isEqualTo(2);
    assertThat(partial.err()).isEqualTo("error: remote administration needs all of --operator-cert, --operator-key and --ca"
        + " (see 'verge controller devices --help')" + NL);
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("error: --operator-cert " + dir.resolve("a.crt") + " does not exist"
        + " (see 'verge controller devices --help')" + NL);
    assertThat(badName.exitCode()).isEqualTo(2);
    assertThat(badName.err()).startsWith("error: the operator name must be");
  }
}
