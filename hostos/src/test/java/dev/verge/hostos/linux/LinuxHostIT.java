package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostContract;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.netlab.Exec;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The host contract on the real kernel, through a LinuxHost bound to a throw-away namespace. */
class LinuxHostIT extends HostContract {
  private static NetTopology topology;
  private static Netns namespace;
  private static LinuxHost host;

  @BeforeAll
  static void openHost() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("hostos-host");
    namespace = topology.namespace("host");
    host = LinuxHost.inNamespace(namespace.name(),
        LinuxHostSettings.under(Files.createDirectories(topology.workDir().resolve("state"))));
  }

  @AfterAll
  static void closeHost() {
    if (host != null) {
      host.close();
    }
    if (topology != null) {
      topology.close();
    }
  }

  @AfterEach
  void removeTestLinks() {
    for (Link link : host.network().links()) {
      if (!link.name().equals("lo") && host.network().link(link.name()).isPresent()) {
        host.network().deleteLink(link.name());
      }
    }
  }

  @Override
  protected Host host() {
    return host;
  }

  @Test
  void aHostInANamespaceChangesThatNamespaceOnlyAndRunsItsDaemonsThere() throws Exception {
    String bridge = name("hb");
    host.network().createLink(bridge, new LinkSpec.Bridge(false));
    assertThat(namespace.ip("-o", "link", "show")).contains(": " + bridge + ":");
    assertThat(Exec.run("ip", "-o", "link", "show").stdout()).doesNotContain(": " + bridge + ":");

    // ip_forward: the opposite of the machine's own value inside, the machine's own untouched
    Path rootForward = Path.of("/proc/sys/net/ipv4/ip_forward");
    String rootValue = Files.readString(rootForward).strip();
    String other = rootValue.equals("0") ? "1" : "0";
    try {
      host.sysctl().set("net.ipv4.ip_forward", other);
      assertThat(namespace.execOk("cat", "/proc/sys/net/ipv4/ip_forward").strip()).isEqualTo(other);
      assertThat(Files.readString(rootForward).strip()).isEqualTo(rootValue);
    } finally {
      host.sysctl().set("net.ipv4.ip_forward", "0");
    }

    // a daemon of the host sees the host's namespace, not the JVM's
    String hostNetns = namespace.execOk("readlink", "/proc/self/ns/net").strip();
    String jvmNetns = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
    assertThat(hostNetns).isNotEqualTo(jvmNetns);
    DaemonStatus status = host.daemons().start(
        DaemonSpec.of("whereami", "sh", "-c", "echo netns=$(readlink /proc/self/ns/net); exec sleep 60")
            .readyWhenLogShows("netns=net:\\[\\d+\\]"));
    assertThat(Files.readString(status.log())).contains("netns=" + hostNetns);
    host.daemons().stop("whereami");
    assertThat(ProcessHandle.of(status.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }

  @Test
  void closingAHostStopsItsDaemonsAndLeavesItsNamespaceAndLinks() throws Exception {
    LinuxHost second = LinuxHost.inNamespace(namespace.name(),
        LinuxHostSettings.under(Files.createDirectories(topology.workDir().resolve("second"))));
    String bridge = name("hc");
    second.network().createLink(bridge, new LinkSpec.Bridge(false));
    long pid = second.daemons().start(DaemonSpec.of("sleeper", "sleep", "60")).pid();
    ProcessHandle sleeper = ProcessHandle.of(pid).orElseThrow();
    second.close();
    assertThat(sleeper.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS).isAlive()).isFalse();
    assertThat(host.network().link(bridge)).isPresent();
    assertThat(NetTopology.listNamespaces()).contains(namespace.name());
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> second.sysctl().get("net.ipv4.ip_forward")))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
  }
}
