package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.netlab.BackgroundProcess;
import dev.verge.netlab.Exec;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.RepoPaths;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OCI images Jib wrote under build/images (profile "images", which {@code ./verge test} turns
 * on as root): their configuration says how to run them, and they run. Each image's layers are
 * unpacked into a directory and its own entrypoint started there (chroot, in a private mount
 * namespace, inside a throw-away network namespace): the controller from its image serves, and the
 * node from its image onboards at it over a DHCP uplink and brings up a network instance with the
 * dnsmasq and nftables of its image.
 */
class OciImagesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path IMAGES = RepoPaths.root().resolve("build/images");
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String CONTROLLER_IP = "203.0.113.1";

  private static NetTopology topo;
  private static Image node;
  private static Image controller;

  /** An unpacked image: its config and a root filesystem made of its layers. */
  record Image(JsonNode config, Path rootfs) {
    static Image unpack(String name, Path into) throws Exception {
      Path archive = Files.createDirectories(into.resolve(name + "-archive"));
      Exec.run(List.of("tar", "-xf", IMAGES.resolve(name + ".tar").toString(), "-C", archive.toString()),
          Duration.ofMinutes(3)).requireOk();
      JsonNode manifest = JSON.readTree(archive.resolve("manifest.json").toFile()).get(0);
      JsonNode config = JSON.readTree(archive.resolve(manifest.path("Config").asText()).toFile());
      Path rootfs = Files.createDirectories(into.resolve(name + "-rootfs"));
      for (JsonNode layer : manifest.path("Layers")) {
        Exec.run(List.of("tar", "-xf", archive.resolve(layer.asText()).toString(), "-C", rootfs.toString()),
            Duration.ofMinutes(3)).requireOk();
      }
      return new Image(config.path("config"), rootfs);
    }

    List<String> entrypoint() {
      List<String> command = new ArrayList<>();
      config.path("Entrypoint").forEach(e -> command.add(e.asText()));
      return command;
    }

    String label(String key) {
      return config.path("Labels").path(key).asText();
    }

    /**
     * The image's entrypoint with these arguments, chrooted into its root filesystem in a mount
     * namespace of its own (/proc, /sys, /dev and a fresh /tmp mounted there, as a container runtime would).
     */
    List<String> run(String... args) {
      StringBuilder command = new StringBuilder("exec chroot " + rootfs);
      for (String part : entrypoint()) {
        command.append(" '").append(part).append("'");
      }
      for (String arg : args) {
        command.append(" '").append(arg).append("'");
      }
      String r = rootfs.toString();
      String script = "set -e; mount -t proc proc " + r + "/proc; mount --rbind /sys " + r + "/sys; mount --rbind /dev "
          + r + "/dev; mount -t tmpfs tmpfs " + r + "/tmp; mount -t tmpfs tmpfs " + r + "/run; " + command;
      return List.of("unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", script);
    }
  }

  @BeforeAll
  static void unpack() throws Exception {
    assertThat(Root.isRoot()).as("the images are built and run as root (./verge test)").isTrue();
    assertThat(IMAGES.resolve("verge-node.tar")).as("run ./verge images").exists();
    topo = NetTopology.create("images");
    node = Image.unpack("verge-node", topo.workDir());
    controller = Image.unpack("verge-controller", topo.workDir());
  }

  @AfterAll
  static void cleanUp() {
    if (topo != null) {
      topo.close();
    }
  }

  @Test
  void eachImageSaysHowItRuns() {
    String version = VergeCommand.class.getPackage().getImplementationVersion();
    // the node's JVM settings are the launcher's own file (images/jvm/node.jvm), not a copy of them
    assertThat(node.entrypoint()).contains("java", "@/opt/verge/node.jvm", "dev.verge.cli.VergeCommand");
    assertThat(node.rootfs().resolve("opt/verge/node.jvm")).hasSameTextualContentAs(
        RepoPaths.root().resolve("images/jvm/node.jvm"));
    assertThat(node.label("org.opencontainers.image.title")).isEqualTo("verge-node");
    assertThat(node.label("dev.verge.run.network")).startsWith("host");
    assertThat(node.label("dev.verge.run.capabilities")).contains("NET_ADMIN");
    assertThat(node.label("dev.verge.run.devices")).contains("/dev/kvm", "/dev/net/tun", "/dev/vfio");
    assertThat(node.config().path("Volumes").has("/state")).isTrue();
    assertThat(controller.entrypoint()).contains("java", "dev.verge.cli.VergeCommand");
    assertThat(controller.config().path("ExposedPorts").has("7443/tcp")).isTrue();
    assertThat(controller.config().path("Volumes").has("/data")).isTrue();
    assertThat(controller.label("dev.verge.run.ports")).startsWith("7443/tcp");
    if (version != null) {
      assertThat(node.label("org.opencontainers.image.version")).isEqualTo(version);
    }
    // what the node's agents run, from the image (not from the machine that built it)
    for (String program : List.of("usr/sbin/dnsmasq", "usr/sbin/dhcpcd", "bin/busybox", "usr/lib/ipsec/charon",
        "usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so", "usr/bin/qemu-system-x86_64", "usr/bin/qemu-img",
        "usr/lib/x86_64-linux-gnu/libnftables.so.1", "usr/sbin/mkfs.vfat", "usr/bin/mcopy")) {
      assertThat(node.rootfs().resolve(program)).as("node image: /" + program).exists();
    }
  }

  @Test
  void theNodeFromItsImageOnboardsAtTheControllerFromItsImageAndRunsANetworkInstance() throws Exception {
    Netns ctrlNs = topo.namespace("ctrl");
    Netns devNs = topo.namespace("dev");
    topo.veth(ctrlNs, "eth0", devNs, "eth0");
    new UpstreamHost(ctrlNs, "eth0", CONTROLLER_IP + "/24").startDhcpAndDns("203.0.113.2", "203.0.113.2", Duration.ofHours(1));

    BackgroundProcess served = ctrlNs.spawn("controller-image", controller.run(
        "controller", "serve", "--data-dir", "/data", "--listen", CONTROLLER_IP, "--server-name", CONTROLLER_IP)
        .toArray(String[]::new));
    served.awaitOutput(out -> out.contains("controller serving"), WAIT);
    Path data = controller.rootfs().resolve("data");
    assertThat(admin(ctrlNs, data, "onboard", "SN-IMAGE-1").exitCode()).isZero();

    Path state = Files.createDirectories(node.rootfs().resolve("state"));
    Files.copy(data.resolve("pki/ca.crt"), state.resolve("ca.crt"));
    Files.writeString(state.resolve("token"), "image-local-api-token-0123456789\n");
    BackgroundProcess running = devNs.spawn("node-image", node.run(
        "node", "run", "--controller", CONTROLLER_IP + ":7443", "--ca-cert", "/state/ca.crt", "--serial", "SN-IMAGE-1",
        "--state-dir", "/state", "--local-api", "127.0.0.1:8088", "--token-file", "/state/token",
        // as in a container: the node cannot tell its namespace from the machine's (the docs' docker run line
        // passes it too); here the namespace is this test's own
        "--allow-initial-netns").toArray(String[]::new));
    running.awaitOutput(out -> out.contains("verge node: running"), WAIT);

    await().atMost(WAIT).until(() -> admin(ctrlNs, data, "devices").stdout().contains("SN-IMAGE-1"));
    String uuid = JSON.readTree(admin(ctrlNs, data, "devices", "-o", "json").stdout()).path("devices").get(0)
        .path("deviceUuid").asText();
    // the example without its app (no guest image inside the node's image store here)
    Path config = topo.workDir().resolve("no-app.yaml");
    String example = Files.readString(RepoPaths.root().resolve("examples/edge-basic.yaml"));
    Files.writeString(config, example.substring(0, example.indexOf("\napps:")) + "\n");
    ExecResult applied = admin(ctrlNs, data, "apply", "-d", uuid, "-f", config.toString());
    assertThat(applied.exitCode()).as(applied.stderr()).isZero();

    await().atMost(WAIT).ignoreExceptions().untilAsserted(() -> {
      ExecResult status = devNs.exec(Duration.ofSeconds(60), hostVerge("node", "status", "-o", "json",
          "--token-file", state.resolve("token").toString()));
      JsonNode ni = StatusView.payload(JSON.readTree(status.stdout()).path("reported")
          .path("network_instance/00000000-0000-4000-8000-000000000b01"));
      assertThat(ni.path("state").asText()).isEqualTo("STATE_ONLINE");
    });
    // the NI's DHCP server is the image's dnsmasq, in the device's namespace
    assertThat(devNs.processes().entrySet()).anySatisfy(p -> {
      assertThat(p.getValue()).isEqualTo("dnsmasq");
      assertThat(Files.readSymbolicLink(Path.of("/proc", p.getKey().toString(), "root")).toString())
          .isEqualTo(node.rootfs().toString());
    });
  }

  /** The controller's admin commands, run by this machine's CLI against the image's data directory. */
  private static ExecResult admin(Netns ns, Path data, String... args) {
    List<String> command = new ArrayList<>(List.of(hostVerge("controller")));
    command.addAll(List.of(args));
    command.addAll(List.of("--data-dir", data.toString()));
    return ns.exec(Duration.ofSeconds(60), command.toArray(String[]::new));
  }

  private static String[] hostVerge(String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(List.of(args));
    return command.toArray(String[]::new);
  }
}
