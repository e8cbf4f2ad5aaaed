package dev.verge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.linux.ProcessSupervisor;
import dev.verge.hostos.vici.IkeSa;
import dev.verge.hostos.vici.SiteGateway;
import dev.verge.hostos.vici.ViciClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RemoteSite;
import dev.verge.netlab.Root;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The demo's VPN step: a remote site beside the upstream (a gateway namespace running its own
 * charon, a LAN behind it with a host serving HTTP), a config pushed through the controller that
 * adds a VPN NI to that gateway, then an app VM on it. The node's zedrouter brings the tunnel up
 * with its own charon; {@code verge node status} shows it ESTABLISHED with its peer and counters;
 * the app fetches the LAN host's page through the tunnel. Root only: the sim host has no IKE.
 */
final class VpnDemoStep implements AutoCloseable {
  static final String NI = "00000000-0000-4000-8000-000000000b03";
  static final String APP = "00000000-0000-4000-8000-000000000c03";
  static final String NI_NAME = "site-vpn";
  static final String SUBNET = "10.3.0.0/24";
  static final String PEER = "198.51.100.2";
  static final String PAGE = "hello from the remote site LAN";

  /** What the step needs of the running demo: the controller's apply, the node's status, waiting. */
  interface Demo {
    /** Applies the config file to the device through the controller and waits for its acknowledgement. */
    void apply(Path config) throws Exception;

    JsonNode nodeStatus() throws Exception;

    /** {@code verge node status} as text. */
    String nodeStatusText() throws Exception;

    void await(String what, Callable<Boolean> check);
  }

  private final BiConsumer<String, String> heading;
  private final Consumer<String> show;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<Long> charons = new ArrayList<>();

  VpnDemoStep(BiConsumer<String, String> heading, Consumer<String> show) {
    this.heading = heading;
    this.show = show;
  }

  /**
   * @param topology the demo's topology, where the site's namespaces are added (removed with it)
   * @param upstream the namespace that is the node's upstream: the site's gateway hangs off it
   * @param device the node's namespace
   * @param baseConfig the config the node runs (YAML): the step's configs add to it
   */
  void run(NetTopology topology, Netns upstream, Netns device, Path baseConfig, Path work, Demo demo) throws Exception {
    heading.accept("A VPN network instance to a remote site",
        "zedrouter runs its own charon: IKEv2 with a pre-shared key, ESP in userspace over TUN");
    if (!Root.isRoot()) {
      show.accept("skipped: the remote site needs root (namespaces, its gateway's charon); the sim host has no IKE");
      return;
    }
    byte[] secret = new byte[12];
    new SecureRandom().nextBytes(secret);
    String psk = "demo-" + HexFormat.of().formatHex(secret);
    RemoteSite site = RemoteSite.create(topology, "site", "sitelan");
    Netns gateway = site.gateway();
    topology.veth(upstream, "site0", gateway, "eth0");
    upstream.address("site0", "198.51.100.1/24").forwarding();
    gateway.address("eth0", PEER + "/24").defaultRoute("198.51.100.1");
    Path docs = Files.createDirectories(work.resolve("site-www"));
    Files.writeString(docs.resolve("index.html"), PAGE + "\n");
    resources.add(site.lanHost().startHttp(docs));
    ProcessSupervisor daemons = new ProcessSupervisor(work.resolve("site-daemons"), gateway.execPrefix());
    resources.add(daemons);
    SiteGateway charon = new SiteGateway(daemons, DaemonSpec.RestartPolicy.DEFAULT);
    charon.startWithPsk(SiteGateway.answering("site.example", "edge.example", Optional.empty(),
        List.of(RemoteSite.LAN), List.of(SUBNET), Duration.ofSeconds(10)), psk, Duration.ofSeconds(30));
    show.accept("remote site: gateway " + gateway.name() + " at " + PEER + " (behind the upstream) runs its own charon,");
    show.accept("answering for LAN " + RemoteSite.LAN + ", where " + site.lanHost().namespace().name() + " (" + RemoteSite.HOST
        + ") serves \"" + PAGE + "\" over HTTP");

    Path withVpn = work.resolve("edge-vpn.yaml");
    Files.writeString(withVpn, withVpnNi(Files.readString(baseConfig), psk));
    long applied = System.nanoTime();
    demo.apply(withVpn);
    show.accept("config with VPN NI " + NI_NAME + " (" + SUBNET + ", peer " + PEER + ", remote " + RemoteSite.LAN
        + ") applied and acknowledged");
    demo.await("the tunnel to be ESTABLISHED", () -> vpnState(demo.nodeStatus()).equals("ESTABLISHED"));
    show.accept(String.format("tunnel ESTABLISHED %d ms after the apply; verge node status shows:",
        (System.nanoTime() - applied) / 1_000_000));
    tunnelRows(demo.nodeStatusText()).forEach(show);
    device.processes().forEach((pid, name) -> {
      if (name.equals("charon")) {
        charons.add(pid);
      }
    });
    charon.pid().ifPresent(charons::add);
    show.accept("charon pids " + charons + " (the node's, the gateway's); TUN "
        + device.ip("-o", "link", "show", "type", "tun").lines().map(l -> l.split(":")[1].strip()).toList()
        + " in the node's namespace: all go with the demo's namespaces");
    try (ViciClient vici = charon.connect(Duration.ofSeconds(10))) {
      for (IkeSa sa : vici.listSas(SiteGateway.CONNECTION)) {
        show.accept("the gateway's charon: IKE_SA " + (sa.established() ? "ESTABLISHED" : "not established")
            + " with " + sa.remoteHost());
      }
    }

    heading.accept("An app on the VPN network instance reaches the remote LAN",
        "domainmgr boots a guest on " + NI_NAME + "; it fetches http://" + RemoteSite.HOST + "/ through the tunnel");
    Path withApp = work.resolve("edge-vpn-app.yaml");
    Files.writeString(withApp, withSiteClient(Files.readString(withVpn)));
    demo.apply(withApp);
    show.accept("config with app site-client (one VIF on " + NI_NAME + ", allowed to " + RemoteSite.LAN + ") acknowledged");
    List<String> console = new ArrayList<>();
    demo.await("the app's guest to try the remote LAN host", () -> {
      console.clear();
      console.addAll(consoleChecks(demo.nodeStatus()));
      return console.stream().anyMatch(l -> l.contains("VERGE-CHECK"));
    });
    console.forEach(l -> show.accept("guest console: " + l));
    if (console.stream().noneMatch(l -> l.contains("VERGE-CHECK OK") && l.contains(PAGE))) {
      throw new IllegalStateException("the app did not reach " + RemoteSite.HOST + " through the tunnel");
    }
    // charon counts a CHILD_SA's traffic when zedrouter next reads it (every few seconds)
    demo.await("the tunnel's counters to show the app's traffic", () -> packets(demo.nodeStatus()) > 0);
    show.accept("the app's HTTP exchange, counted in the tunnel's SA (verge node status):");
    tunnelRows(demo.nodeStatusText()).forEach(show);
  }

  /** The base config with the VPN NI to the remote site added, its key in a config item it names. */
  static String withVpnNi(String base, String psk) {
    String withNi = base.replace("networkInstances:\n", """
        networkInstances:
          - id: {uuid: "%s", version: "1"}
            displayName: %s
            type: TYPE_VPN
            activate: true
            port: {name: uplink}
            ip: {subnet: %s}
            vpn:
              peer: %s
              remoteSubnets: ["%s"]
              pskRef: site-psk
              localId: edge.example
              remoteId: site.example
        """.formatted(NI, NI_NAME, SUBNET, PEER, RemoteSite.LAN));
    return (withNi.endsWith("\n") ? withNi : withNi + "\n") + """
        configItems:
          - key: site-psk
            value: "%s"
        """.formatted(psk);
  }

  /** The config with an app whose one VIF is on the VPN NI and whose guest fetches the LAN host's page. */
  static String withSiteClient(String config) {
    return config.replace("apps:\n", """
        apps:
          - id: {uuid: "%s", version: "1"}
            displayName: site-client
            activate: true
            memoryMb: 256
            vcpus: 1
            boot:
              kernel: {kernel: guest/vmlinuz, initrd: guest/initrd.img, cmdline: "console=ttyS0 verge.check=wget:http://%s/"}
            interfaces:
              - name: eth0
                networkId: "%s"
                acls:
                  - id: 1
                    name: remote-lan
                    matches: [{type: ip, value: "%s"}]
        """.formatted(APP, RemoteSite.HOST, NI, RemoteSite.LAN));
  }

  /** The VPN NI's tunnel state in {@code verge node status -o json}; empty before it is reported. */
  static String vpnState(JsonNode status) {
    return vpn(status).path("state").asText();
  }

  /** Packets through the tunnel, both ways, as the node reports them. */
  static long packets(JsonNode status) {
    JsonNode vpn = vpn(status);
    return vpn.path("packetsIn").asLong() + vpn.path("packetsOut").asLong();
  }

  private static JsonNode vpn(JsonNode status) {
    return StatusView.payload(status.path("reported").path("network_instance/" + NI)).path("vpn");
  }

  /** The VPN NI's rows of {@code verge node status}: its own row and its tunnel's lines below it. */
  static List<String> tunnelRows(String statusText) {
    List<String> rows = new ArrayList<>();
    boolean inNi = false;
    for (String line : statusText.lines().toList()) {
      if (line.startsWith("  ") && !line.startsWith("    ")) {
        inNi = line.strip().startsWith(NI_NAME + " ");
      } else if (!line.startsWith("    ")) {
        inNi = false;
      }
      if (inNi) {
        rows.add(line.strip());
      }
    }
    return rows;
  }

  /** The site-client guest's check lines ({@code VERGE-ADDR}, {@code VERGE-CHECK}) from its console. */
  static List<String> consoleChecks(JsonNode status) throws java.io.IOException {
    JsonNode domain = StatusView.payload(status.path("reported").path("domain/" + APP));
    Path console = Path.of(domain.path("consoleLog").asText("/nonexistent"));
    if (!Files.isRegularFile(console)) {
      return List.of();
    }
    return new String(Files.readAllBytes(console), StandardCharsets.UTF_8).lines()
        .filter(l -> l.startsWith("VERGE-ADDR") || l.startsWith("VERGE-CHECK")).map(String::strip).toList();
  }

  /** The charons the step saw running (the node's and the gateway's), to check they end with the demo. */
  List<Long> charonPids() {
    return List.copyOf(charons);
  }

  @Override
  public void close() {
    for (int i = resources.size() - 1; i >= 0; i--) {
      AutoCloseable resource = resources.get(i);
      try {
        resource.close();
      } catch (Exception e) {
        System.err.println("demo: cleanup of " + resource + " failed: " + e);
      }
    }
  }
}
