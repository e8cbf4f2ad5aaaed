package dev.verge.hostos.vici;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonSupervisor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A remote site's IPsec gateway: one charon (kernel-libipsec unless told otherwise) under the site's own daemon
 * supervisor, answering a site-to-site tunnel that it never initiates. It is the peer a VPN NI
 * meets in the ITs, the benchmark and the demo, set up in one place so they all meet the same one.
 */
public final class SiteGateway {
  /** The connection's (and its CHILD_SA's) name on the gateway. */
  public static final String CONNECTION = "site";
  /** Proposals the gateway accepts: the VPN NI's defaults. */
  public static final List<String> PROPOSALS = List.of("aes256-sha256-modp3072");

  private final DaemonSupervisor daemons;
  private final DaemonSpec.RestartPolicy restart;
  private final CharonSpec spec;

  /**
   * @param daemons the supervisor whose processes run in the gateway's namespace
   * @param restart whether a dead charon comes back by itself (tests that stop the peer: never)
   */
  public SiteGateway(DaemonSupervisor daemons, DaemonSpec.RestartPolicy restart) {
    this(daemons, restart, IpsecBackend.LIBIPSEC);
  }

  /** @param backend the gateway's ESP: charon's own over TUN, or the kernel's where it has ESP (the lab VM) */
  public SiteGateway(DaemonSupervisor daemons, DaemonSpec.RestartPolicy restart, IpsecBackend backend) {
    this.daemons = daemons;
    this.restart = restart;
    this.spec = CharonSpec.standard("charon", backend);
  }

  /**
   * The gateway's side of the tunnel: answering on whichever of its addresses the device reaches
   * it at, from any device address (%any), with DPD every {@code dpdDelay} of silence.
   */
  public static SiteToSite answering(String gatewayId, String deviceId, Optional<SiteToSite.PubkeyAuth> certificates,
      List<String> siteSubnets, List<String> deviceSubnets, Duration dpdDelay) {
    return new SiteToSite(CONNECTION, "%any", "%any", gatewayId, deviceId, certificates, PROPOSALS, PROPOSALS,
        dpdDelay, Duration.ofHours(4), Duration.ofHours(1), siteSubnets, deviceSubnets, false);
  }

  /** Starts charon and answers {@code connection} for the holders of {@code psk}. */
  public void startWithPsk(SiteToSite connection, String psk, Duration wait) {
    try (ViciClient vici = start(wait)) {
      vici.loadShared(CONNECTION, "IKE", psk, List.of(connection.localId(), connection.remoteId()));
      vici.loadConn(CONNECTION, connection.toVici());
    }
  }

  /** Starts charon with nothing loaded: the caller loads credentials and the connection, then closes the client. */
  public ViciClient start(Duration wait) {
    Charons.writeConfig(daemons, spec);
    daemons.start(spec.daemonSpec(daemons.paths(spec.name())).withRestart(restart));
    return Charons.connect(daemons, spec, wait);
  }

  /** A client of the running charon (to list its SAs, say). */
  public ViciClient connect(Duration wait) {
    return Charons.connect(daemons, spec, wait);
  }

  /** charon's pid while it runs. */
  public Optional<Long> pid() {
    return daemons.status(spec.name()).map(s -> s.pid());
  }

  /** Stops charon (SIGTERM: it sends the device a DELETE first). */
  public void stop() {
    daemons.stop(spec.name());
  }
}
