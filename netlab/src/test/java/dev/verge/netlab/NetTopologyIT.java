package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.verge.testkit.ProcessOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NetTopologyIT {

  @BeforeAll
  static void needsRoot() {
    assumeThat(Root.isRoot()).as("network namespaces need root").isTrue();
  }

  @Test
  void twoNamespacesOnAVethPairPingEachOther() {
    try (NetTopology topo = NetTopology.create("ping")) {
      Netns left = topo.namespace("left");
      Netns right = topo.namespace("right");
      topo.veth(left, "eth0", right, "eth0");
      left.address("eth0", "192.0.2.1/24");
      right.address("eth0", "192.0.2.2/24");

      assertThat(left.ping("192.0.2.2", Duration.ofSeconds(3))).isTrue();
      assertThat(right.ping("192.0.2.1", Duration.ofSeconds(3))).isTrue();
      assertThat(right.ping("192.0.2.99", Duration.ofSeconds(1))).as("no such host").isFalse();
    }
  }

  @Test
  void whatATestOwnsClosesWithTheTopologyLastFirstEvenWhenOneFailsAndBeforeTheNamespacesGo() {
    List<String> closed = new java.util.ArrayList<>();
    NetTopology topo = NetTopology.create("own");
    Path netns = Path.of("/run/netns", topo.namespace("dev").name());
    topo.own(() -> closed.add("host, namespace there: " + Files.exists(netns)));
    topo.own(() -> {
      closed.add("bus");
      throw new IllegalStateException("a failing close");
    });
    topo.own(() -> closed.add("agent"));

    topo.close();

    assertThat(closed).containsExactly("agent", "bus", "host, namespace there: true");
    assertThat(netns).doesNotExist();
  }

  @Test
  void hostsOnABridgeReachEachOtherAndTheMachinesNamespaceIsUntouched() {
    List<String> rootLinksBefore = rootLinkNames();
    try (NetTopology topo = NetTopology.create("bridge")) {
      Netns sw = topo.namespace("switch");
      sw.bridge("br0");
      Netns a = topo.namespace("a");
      Netns b = topo.namespace("b");
      topo.veth(sw, "pa", a, "eth0");
      topo.veth(sw, "pb", b, "eth0");
      sw.attach("pa", "br0").attach("pb", "br0");
      a.address("eth0", "198.51.100.10/24");
      b.address("eth0", "198.51.100.11/24");

      assertThat(a.ping("198.51.100.11", Duration.ofSeconds(3))).isTrue();
      assertThat(rootLinkNames()).as("no link appears in the machine's namespace").isEqualTo(rootLinksBefore);
    }
  }

  @Test
  void aHostGetsADhcpLeaseDnsAnswerAndHttpPageFromAnUpstream(@org.junit.jupiter.api.io.TempDir Path docRoot)
      throws Exception {
    Files.writeString(docRoot.resolve("hello.txt"), "hello from upstream\n");
    try (NetTopology topo = NetTopology.create("dhcp")) {
      Netns upNs = topo.namespace("upstream");
      Netns device = topo.namespace("device");
      topo.veth(upNs, "eth0", device, "eth0");
      // The record's address is not the server's own, so the answer cannot be mistaken for the
      // "Server:" line of the output.
      UpstreamHost upstream =
          new UpstreamHost(upNs, "eth0", "203.0.113.1/24").dnsRecord("controller.verge.test", "203.0.113.7");
      // A pool of one address: the lease is known exactly (dnsmasq picks by a hash of the MAC).
      upstream.startDhcpAndDns("203.0.113.100", "203.0.113.100", Duration.ofMinutes(10));
      upstream.startHttp(docRoot);
      String mac = device.ip("-o", "link", "show", "eth0").replaceAll("(?s).*link/ether (\\S+).*", "$1").strip();

      DhcpClient.Lease lease = DhcpClient.obtain(device, "eth0", Duration.ofSeconds(20));

      assertThat(lease).isEqualTo(new DhcpClient.Lease("eth0", "203.0.113.100/24", "203.0.113.1", "203.0.113.1"));
      assertThat(device.ipv4Addresses("eth0")).containsExactly("203.0.113.100/24");
      assertThat(device.ip("-4", "route", "show", "default").strip()).startsWith("default via 203.0.113.1 dev eth0");
      assertThat(Files.readAllLines(topo.workDir().resolve("upstream-dnsmasq/leases")))
          .singleElement().asString().contains(" " + mac + " 203.0.113.100 ");
      String answer = device.execOk("busybox", "nslookup", "-type=a", "controller.verge.test", "203.0.113.1");
      assertThat(answer).contains("controller.verge.test").contains("203.0.113.7");
      String page = device.execOk("curl", "-sf", "-m", "5", "http://203.0.113.1/hello.txt");
      assertThat(page).isEqualTo("hello from upstream\n");
    }
  }

  @Test
  void closingATopologyRemovesItsNamespacesAndEndsItsDaemons() {
    NetTopology topo = NetTopology.create("close");
    Netns ns = topo.namespace("box");
    BackgroundProcess sleeper = ns.spawn("sleeper", "sleep", "600");
    List<String> names = topo.namespaceNames();
    assertThat(NetTopology.listNamespaces()).containsAll(names);

    topo.close();

    assertThat(NetTopology.listNamespaces()).doesNotContainAnyElementsOf(names);
    assertThat(Processes.isRunning(sleeper.pid())).isFalse();
    assertThat(sleeper.isAlive()).isFalse();
  }

  @Test
  void namespacesAndDaemonsOfAJvmKilledWithSigkillAreSweptByTheNextRun() throws Exception {
    Process orphanMaker =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                OrphanTopologyMain.class.getName())
            .redirectErrorStream(true)
            .start();
    try {
      // A bounded read: a child that hangs before READY fails the test with what it printed.
      String ready = ProcessOutput.of("orphan maker", orphanMaker)
          .awaitLine(line -> line.startsWith("READY "), Duration.ofSeconds(60));
      String orphanNs = ready.split(" ")[1];
      long daemonPid = Long.parseLong(ready.split(" ")[2]);
      assertThat(NetTopology.listNamespaces()).contains(orphanNs);

      // SIGKILL: no shutdown hook runs
      assertThat(orphanMaker.destroyForcibly().waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(NetTopology.listNamespaces()).as("a killed JVM cannot clean up").contains(orphanNs);

      NetTopology.create("sweeper").close();

      assertThat(NetTopology.listNamespaces()).doesNotContain(orphanNs);
      assertThat(Processes.isRunning(daemonPid)).as("daemon of the dead run").isFalse();
    } finally {
      orphanMaker.destroyForcibly();
    }
  }

  private static List<String> rootLinkNames() {
    String out = Exec.run("ip", "-o", "link", "show").requireOk().stdout();
    return out.lines().map(l -> l.split(":\\s+")[1].split("@")[0]).sorted().toList();
  }
}
