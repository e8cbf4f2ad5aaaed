package dev.verge.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;

/** Rendering never hangs its caller: a {@code dot} that hangs or fails is reported in bounded time. */
class DotRendererTest {
  @TempDir Path dir;

  private Path fakeDot(String script) throws IOException {
    Path dot = dir.resolve("dot");
    Files.writeString(dot, "#!/bin/sh\n" + script + "\n");
    Files.setPosixFilePermissions(dot, PosixFilePermissions.fromString("rwx------"));
    return dot;
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
  void aDotThatHangsIsGivenUpAfterTheTimeout() throws Exception {
    // It holds its output open and never ends: a reader of that output would wait for it.
    DotRenderer renderer = DotRenderer.of(fakeDot("echo '<svg'; exec sleep 120"));

    assertThatThrownBy(() -> renderer.toSvg("digraph {}", Duration.ofSeconds(1)))
        .isInstanceOf(IOException.class).hasMessage("dot did not finish within 1 s");
  }

  @Test
  void aFailingDotIsReportedWithItsErrorAndAWorkingOneReturnsItsOutput() throws Exception {
    assertThatThrownBy(() -> DotRenderer.of(fakeDot("cat >/dev/null; echo 'syntax error in line 1' >&2; exit 3"))
            .toSvg("digraph {", Duration.ofSeconds(10)))
        .isInstanceOf(IOException.class).hasMessage("dot failed (exit 3): syntax error in line 1");

    assertThat(DotRenderer.of(fakeDot("echo \"<svg>$(cat)</svg>\"")).toSvg("digraph {}", Duration.ofSeconds(10)))
        .isEqualTo("<svg>digraph {}</svg>\n");
  }
}
