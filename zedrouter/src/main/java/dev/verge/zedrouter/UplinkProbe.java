package dev.verge.zedrouter;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Tests whether a port of an NI can carry its traffic: something beyond the port answers a probe
 * sent from the port's own address. Answers on any thread; zedrouter moves the answer onto its loop.
 */
public interface UplinkProbe {
  void probe(Target target, Consumer<Result> done);

  /**
   * @param label the port's label, for the result's wording
   * @param source the port's address: nim's per-port rules route what leaves from it out of the port
   * @param destination what must answer: the NI's custom probe target or the port's gateway
   */
  record Target(String label, String ifName, InetAddress source, InetSocketAddress destination, Duration timeout) {
    public Target {
      Objects.requireNonNull(label);
      Objects.requireNonNull(ifName);
      Objects.requireNonNull(source);
      Objects.requireNonNull(destination);
      Objects.requireNonNull(timeout);
    }
  }

  /** @param error why it failed, empty on success */
  record Result(boolean ok, String error) {
    public static Result success() {
      return new Result(true, "");
    }

    public static Result failure(String error) {
      return new Result(false, error);
    }
  }

  /**
   * For a node on the sim host, where no packet leaves: every port nim reports usable passes (the
   * choice then rests on nim's port state and cost alone, as without probing).
   */
  static UplinkProbe localChecksOnly() {
    return (target, done) -> done.accept(Result.success());
  }
}
