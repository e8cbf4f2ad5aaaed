package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.netlab.Root;
import dev.verge.testkit.ProcessOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Another local user cannot reach the admin API: neither through the data directory (rwx------)
 * nor, with that opened up, through the socket itself (rw-------). Needs root to act as 'nobody'.
 */
class AdminSocketIT {
  @TempDir Path dir;

  /** Exit code and output of connecting to the socket as uid/gid 65534. */
  private static String connectAsNobody(Path socket) throws Exception {
    Process child = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(sys.argv[1]); print('connected')\n"
            + "except OSError as e:\n  print(type(e).__name__)", socket.toString())
        .redirectErrorStream(true).start();
    ProcessOutput out = ProcessOutput.of("connect as nobody", child);
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out.awaitEnd(Duration.ofSeconds(10))).isTrue();
    return String.join("\n", out.lines());
  }

  @Test
  void anotherLocalUserIsRefusedByTheDirectoryAndByTheSocket() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // the way in is the data dir's business
    Path data = dir.resolve("data");
    try (ControllerServer server = ControllerServer.start(ControllerSettings.defaults(data).withPorts("127.0.0.1", 0, -1, -1))) {
      assertThat(connectAsNobody(server.adminSocket())).isEqualTo("PermissionError");

      Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
      assertThat(connectAsNobody(server.adminSocket())).as("the socket's own mode").isEqualTo("PermissionError");

      assertThat(AdminSocketTest.verge("controller", "onboard", "--data-dir", data.toString(), "SN-ROOT").exitCode())
          .as("the owner still can").isZero();
    }
  }
}
