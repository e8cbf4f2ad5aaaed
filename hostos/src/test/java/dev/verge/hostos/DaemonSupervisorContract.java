package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link DaemonSupervisor} tells its listeners, checked on real child processes and on
 * the sim: the agents' loops depend on these events, not on which supervisor made them.
 */
public abstract class DaemonSupervisorContract {
  private static final AtomicInteger NAMES = new AtomicInteger();
  private final ExecutorService loop = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-loop"));

  protected abstract DaemonSupervisor supervisor();

  /** A command that runs until it is stopped or killed. */
  protected abstract List<String> longRunningCommand();

  /** Makes the daemon die at once as if killed by SIGKILL (exit code 137). */
  protected abstract void kill(String name);

  @AfterEach
  void stopLoop() {
    loop.shutdownNow();
  }

  protected static String name(String prefix) {
    return prefix + NAMES.incrementAndGet();
  }

  /** One thing a listener was told, with the thread it was told on. */
  public record Told(String daemon, String event, DaemonStatus status, int exitCode, boolean again,
      String detail, String thread) {}

  /** Records what the listeners are told; the test thread waits for and checks it. */
  public static final class Recorder {
    private final LinkedBlockingQueue<Told> queue = new LinkedBlockingQueue<>();
    private final List<Told> seen = new ArrayList<>();

    public DaemonListener listenerFor(String daemon) {
      return new DaemonListener() {
        @Override
        public void onReady(DaemonStatus status) {
          queue.add(new Told(daemon, "ready", status, 0, false, "", Thread.currentThread().getName()));
        }

        @Override
        public void onOutput(String line) {
          queue.add(new Told(daemon, "output", null, 0, false, line, Thread.currentThread().getName()));
        }

        @Override
        public void onExited(DaemonStatus status, int exitCode, boolean willRestart) {
          queue.add(new Told(daemon, "exited", status, exitCode, willRestart, "", Thread.currentThread().getName()));
        }

        @Override
        public void onFailed(HostException reason, boolean willRetry) {
          queue.add(new Told(daemon, "failed", null, 0, willRetry, reason.getMessage(),
              Thread.currentThread().getName()));
        }
      };
    }

    /** Waits for the next event (of any daemon) that matches, passing over others. */
    public Told await(Predicate<Told> matching, String description) {
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (true) {
        Told told;
        try {
          told = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        if (told == null) {
          return fail("not told " + description + " within 15 s; was told " + seen);
        }
        seen.add(told);
        if (matching.test(told)) {
          return told;
        }
      }
    }

    public Told await(String daemon, String event) {
      return await(t -> t.daemon().equals(daemon) && t.event().equals(event), event + " of " + daemon);
    }

    /** Everything taken from the queue so far, in order. */
    public List<Told> seen() {
      return List.copyOf(seen);
    }
  }

  private DaemonSpec spec(String name, int maxRestarts) {
    return new DaemonSpec(name, longRunningCommand(), java.util.Optional.empty(), Duration.ofSeconds(10),
        new DaemonSpec.RestartPolicy(Duration.ofMillis(10), Duration.ofMillis(10), maxRestarts));
  }

  @Test
  void aStartDoesNotWaitAndTellsReadinessOnTheGivenExecutor() {
    Recorder recorder = new Recorder();
    String name = name("d");
    supervisor().start(spec(name, 0), loop, recorder.listenerFor(name));
    Told ready = recorder.await(name, "ready");
    assertThat(ready.thread()).isEqualTo("test-loop");
    assertThat(ready.status().running()).isTrue();
    assertThat(ready.status().pid()).isPositive();
    assertThat(supervisor().status(name)).map(DaemonStatus::pid).contains(ready.status().pid());
  }

  @Test
  void aKilledDaemonIsToldExitedAndRestartedUntilItsPolicyIsSpent() {
    Recorder recorder = new Recorder();
    String name = name("d");
    supervisor().start(spec(name, 1), loop, recorder.listenerFor(name));
    long first = recorder.await(name, "ready").status().pid();
    kill(name);
    Told exited = recorder.await(name, "exited");
    assertThat(exited.exitCode()).isEqualTo(137);
    assertThat(exited.again()).isTrue();
    Told again = recorder.await(name, "ready");
    assertThat(again.status().pid()).isNotEqualTo(first);
    assertThat(again.status().restarts()).isEqualTo(1);
    kill(name);
    Told last = recorder.await(name, "exited");
    assertThat(last.again()).isFalse();
    assertThat(last.status().running()).isFalse();
    assertThat(supervisor().status(name)).map(DaemonStatus::lastExitCode).contains(137);
  }

  @Test
  void ofConcurrentStartsOfOneNameExactlyOneGoesAhead() throws Exception {
    DaemonSupervisor supervisor = supervisor(); // one supervisor for all contenders
    String name = name("d");
    int contenders = 6;
    CyclicBarrier together = new CyclicBarrier(contenders);
    ExecutorService starters = Executors.newFixedThreadPool(contenders);
    Recorder recorder = new Recorder();
    try {
      List<Future<String>> outcomes = new ArrayList<>();
      for (int i = 0; i < contenders; i++) {
        outcomes.add(starters.submit(() -> {
          together.await();
          try {
            supervisor.start(spec(name, 0), loop, recorder.listenerFor(name));
            return "started";
          } catch (HostException refused) {
            return refused.getMessage();
          }
        }));
      }
      List<String> results = new ArrayList<>();
      for (Future<String> outcome : outcomes) {
        results.add(outcome.get(15, TimeUnit.SECONDS));
      }
      assertThat(results).filteredOn("started"::equals).hasSize(1);
      assertThat(results).filteredOn(r -> !r.equals("started")).hasSize(contenders - 1)
          .allMatch(r -> r.startsWith("cannot start daemon " + name + ": already supervised") && r.endsWith("(EEXIST)"));
      recorder.await(name, "ready");
    } finally {
      starters.shutdownNow();
    }
  }

  @Test
  void aStoppedDaemonIsNotToldAsAnExitNorRestarted() {
    Recorder recorder = new Recorder();
    String name = name("d");
    supervisor().start(spec(name, 5), loop, recorder.listenerFor(name));
    recorder.await(name, "ready");
    supervisor().stop(name);
    assertThat(supervisor().status(name)).isEmpty();
    // a marker: once another daemon's readiness arrives on the same loop, any event of the stopped one would have too
    String marker = name("m");
    supervisor().start(spec(marker, 0), loop, recorder.listenerFor(marker));
    recorder.await(marker, "ready");
    assertThat(recorder.seen()).filteredOn(t -> t.daemon().equals(name)).extracting(Told::event)
        .containsExactly("ready");
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(HostException.class,
        () -> supervisor().stop(name)).errno()).isEqualTo(Errno.ESRCH);
  }

  @Test
  void aDaemonHasItsOwnDirectories() {
    DaemonPaths paths = supervisor().paths("dnsmasq-br0");
    assertThat(paths.config()).isDirectory();
    assertThat(paths.state()).isDirectory();
    assertThat(paths.run()).isDirectory();
    assertThat(List.of(paths.config(), paths.state(), paths.run()))
        .allMatch(p -> p.getParent().getFileName().toString().equals("dnsmasq-br0"));
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> supervisor().paths("../etc")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
