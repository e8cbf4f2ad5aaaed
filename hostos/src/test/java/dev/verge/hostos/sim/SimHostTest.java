package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.Host;
import dev.verge.hostos.HostContract;
import dev.verge.hostos.LinkSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host contract on the sim, and what only the sim's hosts do: share a namespace registry. */
class SimHostTest extends HostContract {
  @TempDir Path scratch;
  private SimHost host;

  @Override
  protected Host host() {
    if (host == null) {
      host = SimHost.create(scratch);
    }
    return host;
  }

  @AfterEach
  void closeHost() {
    if (host != null) {
      host.close();
    }
  }

  @Test
  void hostsOfOneRegistrySeeLinksMoveBetweenTheirNamespacesWithTheirSysctlKeys() {
    SimNamespaces namespaces = new SimNamespaces();
    try (SimHost a = SimHost.inNamespace(namespaces, "a", scratch.resolve("a"));
        SimHost b = SimHost.inNamespace(namespaces, "b", scratch.resolve("b"))) {
      a.network().createLink("v1", new LinkSpec.Veth("v1p"));
      a.sysctl().set("net.ipv4.conf.v1p.rp_filter", "2");
      b.sysctl().set("net.ipv6.conf.default.accept_ra", "0");
      a.network().moveToNamespace("v1p", "b");
      assertThat(b.network().link("v1p")).isPresent();
      // re-created in b: IPv4 keys from b's defaults, IPv6 ones copied from b's default
      assertThat(b.sysctl().get("net.ipv4.conf.v1p.rp_filter")).isEqualTo("0");
      assertThat(b.sysctl().get("net.ipv6.conf.v1p.accept_ra")).isEqualTo("0");
      assertThat(a.sysctl().get("net.ipv6.conf.v1.accept_ra")).isEqualTo("1");
      assertThat(a.description()).isEqualTo("sim netns a");
    }
  }
}
