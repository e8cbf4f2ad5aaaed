package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * Exec never hangs its caller. The timeouts run the test on a separate thread: a test blocked in
 * an uninterruptible read (the bug these tests catch) still fails instead of hanging the build.
 */
class ExecTest {

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
  void aCommandThatLeavesADaemonHoldingItsOutputReturnsWhatItPrinted() {
    // The shell outlives its echo by a second, so the reader is blocked in read() when it exits
    // (a reader that comes later finds the straggling output drained and gets no hang).
    ExecResult result = Exec.run(List.of("sh", "-c", "sleep 120 & echo $!; sleep 1"), Duration.ofSeconds(20));
    try {
      assertThat(result.exitCode()).isZero();
      assertThat(result.stdout()).matches("\\d+\\n");
      assertThat(result.stderr()).contains("output cut off");
    } finally {
      ProcessHandle.of(Long.parseLong(result.stdout().strip())).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
  void aCommandOverItsTimeoutIsKilledWithItsChildren() {
    long start = System.nanoTime();
    ExecResult result = Exec.run(List.of("sh", "-c", "echo $$; sleep 120 & wait"), Duration.ofSeconds(1));

    assertThat(result.exitCode()).isEqualTo(124);
    assertThat(result.stderr()).startsWith("timed out after PT1S");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
    long shell = Long.parseLong(result.stdout().strip());
    assertThat(Processes.isRunning(shell)).isFalse();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
  void moreOutputThanAPipeHoldsOnBothStreamsIsReadInFull() {
    ExecResult result = Exec.run(
        List.of("sh", "-c", "head -c 300000 /dev/zero | tr '\\0' o; head -c 300000 /dev/zero | tr '\\0' e >&2"),
        Duration.ofSeconds(20));

    assertThat(result.exitCode()).isZero();
    assertThat(result.stdout()).hasSize(300000).containsOnlyOnce("o".repeat(300000));
    assertThat(result.stderr()).hasSize(300000);
  }
}
