package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonSpec.RestartPolicy;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SimDaemonsTest {
  private final SimDaemons daemons = new SimDaemons();

  @Test
  void aCrashedDaemonComesBackWithANewPidUntilItsPolicyIsSpent() {
    long first = daemons.start(DaemonSpec.of("dnsmasq", "dnsmasq")
        .withRestart(new RestartPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 1))).pid();
    DaemonStatus restarted = daemons.crash("dnsmasq", 139);
    assertThat(restarted.running()).isTrue();
    assertThat(restarted.pid()).isNotEqualTo(first);
    assertThat(restarted.restarts()).isEqualTo(1);
    assertThat(restarted.lastExitCode()).isEqualTo(139);
    DaemonStatus down = daemons.crash("dnsmasq", 1);
    assertThat(down.running()).isFalse();
    assertThat(catchThrowableOfType(HostException.class, () -> daemons.crash("dnsmasq", 1)).errno())
        .isEqualTo(Errno.ESRCH);
  }

  @Test
  void startingADaemonTwiceIsRefusedAndStoppingForgetsIt() {
    daemons.start(DaemonSpec.of("charon", "charon"));
    assertThat(catchThrowableOfType(HostException.class, () -> daemons.start(DaemonSpec.of("charon", "charon")))
        .errno()).isEqualTo(Errno.EEXIST);
    daemons.stop("charon");
    assertThat(daemons.status("charon")).isEmpty();
  }

  @Test
  void theRestartBackOffDoublesUpToItsCeiling() {
    RestartPolicy policy = new RestartPolicy(Duration.ofMillis(100), Duration.ofMillis(500), 10);
    assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.backoff(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(policy.backoff(4)).isEqualTo(Duration.ofMillis(500));
  }
}
