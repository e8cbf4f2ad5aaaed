package dev.verge.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that a call failed in the TLS handshake, for the reason expected. UNAVAILABLE alone
 * proves nothing: a server that is not listening answers the same.
 */
final class TlsAssertions {
  private TlsAssertions() {}

  /**
   * @param reason text of the handshake error somewhere in the cause chain, e.g. the TLS alert
   *     ("CERTIFICATE_REQUIRED") or the certificate check ("unable to find valid certification path")
   */
  static void assertRefusedInHandshake(Throwable thrown, String reason) {
    assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    List<String> chain = new ArrayList<>();
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      assertThat(t).as("the connection itself was made").isNotInstanceOf(ConnectException.class);
      chain.add(t.getClass().getName() + ": " + t.getMessage());
    }
    assertThat(String.join("\n", chain)).as("cause chain").contains(reason).containsIgnoringCase("ssl");
  }
}
