package dev.verge.zedrouter;

import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.HostException;
import dev.verge.hostos.vici.Charons;
import dev.verge.hostos.vici.IkeSa;
import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.hostos.vici.Pem;
import dev.verge.hostos.vici.ViciClient;
import dev.verge.hostos.vici.ViciMessage;
import dev.verge.pubsub.AgentLoop;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tunnels in real charons, over VICI: one client per VPN NI, subscribed to charon's up/down,
 * rekey and log events on the agent's loop. The state follows the events (CONNECTING until the
 * CHILD_SA is up, FAILED with IKE's last error line when the IKE_SA goes down or never comes up);
 * counters come from {@code list-sas}.
 */
final class ViciVpnTunnels implements VpnTunnels {
  private static final Logger log = LoggerFactory.getLogger(ViciVpnTunnels.class);
  private static final Duration CONNECT_WAIT = Duration.ofSeconds(5);
  private static final Duration TERMINATE_WAIT = Duration.ofSeconds(2);

  private final DaemonSupervisor daemons;
  private final AgentLoop loop;
  private final Consumer<String> changed;
  private final Map<String, Tunnel> tunnels = new HashMap<>();

  private final class Tunnel {
    final Items.VpnTunnel item;
    final ViciClient vici;
    final List<ViciClient.Subscription> subscriptions;
    VpnState state;
    /** IKE's last word on this connection that explains a failure. */
    String lastError = "";
    /** What lost the tunnel (or kept it from coming up) since it was last established: why charon retries. */
    String cause = "";
    /** Why the peer's certificate is not accepted, in charon's words, gathered until we send AUTH_FAILED. */
    String peerAuthDetail = "";
    /** The unique id of the IKE_SA last replaced by a rekey, whose DELETE is no failure. */
    String rekeyedIkeSa = "";
    /** The last request charon sent on the IKE_SA was DPD's: giving up on it is DPD declaring the peer dead. */
    boolean dpdSent;

    Tunnel(Items.VpnTunnel item, ViciClient vici) {
      this.item = item;
      this.vici = vici;
      this.state = VpnState.connecting(item.connection().remoteAddress(), item.connection().localAddress(), item.backend());
      this.subscriptions = List.of(
          vici.subscribe("ike-updown", loop, m -> onIkeUpDown(this, m)),
          vici.subscribe("child-updown", loop, m -> onChildUpDown(this, m)),
          vici.subscribe("ike-rekey", loop, m -> onRekey(this, m)),
          vici.subscribe("child-rekey", loop, m -> onRekey(this, m)),
          vici.subscribe("log", loop, m -> onLog(this, m)));
    }

    boolean mine(ViciMessage event) {
      return event.section(item.connection().name()).isPresent();
    }

    void close() {
      subscriptions.forEach(s -> {
        try {
          s.close();
        } catch (HostException e) {
          // charon gone: nothing to unregister from
        }
      });
      vici.close();
    }
  }

  /** @param changed told (on the loop) the NI UUID whose tunnel state changed */
  ViciVpnTunnels(DaemonSupervisor daemons, AgentLoop loop, Consumer<String> changed) {
    this.daemons = daemons;
    this.loop = loop;
    this.changed = changed;
  }

  @Override
  public void load(Items.VpnTunnel item) {
    Tunnel old = tunnels.remove(item.niUuid());
    if (old != null) {
      // a new uplink or new settings: the old connection and SA go, and the new one is loaded
      // afresh (charon runs the start action only for a connection it did not have)
      remove(old);
    }
    ViciClient vici = Charons.connect(daemons, charonSpecOf(item), CONNECT_WAIT);
    Tunnel tunnel;
    try {
      tunnel = new Tunnel(item, vici);
      String name = item.connection().name();
      if (item.connection().certificates().isPresent()) {
        // ours and its key, and the CA pinned for the peer: charon finds the key by our certificate
        var certificates = item.connection().certificates().get();
        vici.loadCert(ViciClient.CertificateKind.X509, certificates.certificate());
        vici.loadCert(ViciClient.CertificateKind.X509_CA, certificates.ca());
        Pem.PrivateKey key = item.key().orElseThrow();
        vici.loadKey(key.type(), key.der());
      } else {
        vici.loadShared(name, "IKE", item.psk(), List.of(item.connection().localId(), item.connection().remoteId()));
      }
      // start_action=start: charon initiates on load, and again after DPD or a close
      vici.loadConn(name, item.connection().toVici());
    } catch (RuntimeException e) {
      vici.close();
      throw e;
    }
    tunnels.put(item.niUuid(), tunnel);
    log.info("VPN {}: loaded into {}, initiating {} -> {}", item.niUuid(), item.charon(),
        item.connection().localAddress(), item.connection().remoteAddress());
    changed.accept(item.niUuid());
  }

  private dev.verge.hostos.vici.CharonSpec charonSpecOf(Items.VpnTunnel item) {
    // only the name locates the socket; the rest of the spec does not matter for connecting
    return dev.verge.hostos.vici.CharonSpec.standard(item.charon(), item.backend());
  }

  @Override
  public void unload(Items.VpnTunnel item) {
    Tunnel tunnel = tunnels.remove(item.niUuid());
    if (tunnel == null) {
      return;
    }
    remove(tunnel);
    changed.accept(item.niUuid());
  }

  /** Unloads the connection (no restart), terminates its SAs, drops its credentials; charon may be gone. */
  private void remove(Tunnel tunnel) {
    String name = tunnel.item.connection().name();
    try {
      tunnel.vici.unloadConn(name);
      terminateQuietly(tunnel);
      // its PSK or certificates and key: the charon is the NI's own, everything it holds is this tunnel's
      tunnel.vici.clearCreds();
    } catch (HostException e) {
      log.info("VPN {}: unload: {}", tunnel.item.niUuid(), e.getMessage());
    } finally {
      tunnel.close();
    }
  }

  private void terminateQuietly(Tunnel tunnel) {
    try {
      tunnel.vici.terminateIke(tunnel.item.connection().name(), TERMINATE_WAIT);
    } catch (HostException e) {
      log.info("VPN {}: terminate: {}", tunnel.item.niUuid(), e.getMessage());
    }
  }

  @Override
  public Map<String, VpnState> states() {
    Map<String, VpnState> states = new TreeMap<>();
    tunnels.forEach((uuid, t) -> states.put(uuid, t.state));
    return states;
  }

  @Override
  public void refresh() {
    for (Tunnel t : List.copyOf(tunnels.values())) {
      try {
        List<IkeSa> sas = t.vici.listSas(t.item.connection().name());
        VpnState before = t.state;
        long bIn = 0;
        long bOut = 0;
        long pIn = 0;
        long pOut = 0;
        for (IkeSa sa : sas) {
          bIn += sa.bytesIn();
          bOut += sa.bytesOut();
          pIn += sa.packetsIn();
          pOut += sa.packetsOut();
        }
        t.state = t.state.withCounters(bIn, bOut, pIn, pOut);
        boolean up = sas.stream().anyMatch(sa -> sa.established()
            && sa.children().stream().anyMatch(c -> "INSTALLED".equals(c.state())));
        if (up && t.state.state() != VpnState.State.ESTABLISHED) {
          t.state = t.state.established(sas.get(0).remoteHost(), loop.now().toEpochMilli());
        }
        if (!t.state.equals(before)) {
          changed.accept(t.item.niUuid());
        }
      } catch (HostException e) {
        fail(t, "charon unreachable: " + e.reason());
      }
    }
  }

  private void onIkeUpDown(Tunnel t, ViciMessage event) {
    if (tunnels.get(t.item.niUuid()) != t || !t.mine(event)) {
      return;
    }
    // the SA given up on goes down after charon has started the next attempt: it is retrying, not failed
    if (!event.isYes("up") && !(t.state.state() == VpnState.State.CONNECTING && t.state.retries() > 0)) {
      String reason = t.lastError.isEmpty() ? lastFailureInLog(t.item).orElse("IKE_SA went down") : t.lastError;
      fail(t, reason);
      t.cause = reason;
    }
  }

  private void onChildUpDown(Tunnel t, ViciMessage event) {
    if (tunnels.get(t.item.niUuid()) != t || !t.mine(event)) {
      return;
    }
    if (event.isYes("up")) {
      String peer = event.section(t.item.connection().name()).map(m -> m.text("remote-host")).orElse("");
      t.state = t.state.established(peer, loop.now().toEpochMilli());
      t.lastError = "";
      t.cause = "";
      t.peerAuthDetail = "";
      t.dpdSent = false;
      log.info("VPN {}: established with {}", t.item.niUuid(), t.state.peer());
      changed.accept(t.item.niUuid());
    }
  }

  private void onRekey(Tunnel t, ViciMessage event) {
    if (tunnels.get(t.item.niUuid()) != t || !t.mine(event)) {
      return;
    }
    t.state = t.state.rekeyed(loop.now().toEpochMilli());
    // an IKE rekey's old SA is deleted next, by either side: that DELETE closes nothing
    event.section(t.item.connection().name()).flatMap(m -> m.section("old"))
        .ifPresent(old -> t.rekeyedIkeSa = old.text("uniqueid"));
    changed.accept(t.item.niUuid());
  }

  /**
   * charon's log lines (level 1) say what its events do not: a DPD request sent, a peer's DELETE,
   * a request given up on, and each new attempt it starts by itself (keyingtries 0, dpd_action and
   * close_action restart) — which makes the tunnel CONNECTING again, not FAILED.
   */
  private void onLog(Tunnel t, ViciMessage event) {
    if (tunnels.get(t.item.niUuid()) != t) {
      return;
    }
    String msg = event.text("msg");
    String group = event.text("group");
    if (!t.item.connection().name().equals(event.text("ikesa-name")) && !"KNL".equals(group)) {
      return;
    }
    boolean established = t.state.state() == VpnState.State.ESTABLISHED;
    if (msg.startsWith("generating ") && msg.contains(" request ") && !msg.contains("N(AUTH_FAILED)")) {
      // IKEv2's DPD is an empty INFORMATIONAL request; a rekey or other request is not DPD's
      t.dpdSent = msg.startsWith("generating INFORMATIONAL request") && msg.endsWith("[ ]");
    } else if (msg.startsWith("received DELETE for IKE_SA") && !event.text("ikesa-uniqueid").equals(t.rekeyedIkeSa)) {
      // the peer closes it (not the old IKE_SA of a rekey): charon restarts it before the SA's down
      // event comes, so the failure is told here, and is what the retries are after
      t.lastError = "the peer closed the tunnel (" + msg + ")";
      fail(t, t.lastError);
      t.cause = t.lastError;
    } else if (msg.startsWith("initiating IKE_SA")) {
      t.peerAuthDetail = ""; // a new attempt: what a former one said of the peer's certificate is stale
      if (t.cause.isEmpty()) {
        return; // the first attempt after the load, nothing to retry after
      }
      t.state = t.state.retrying("retrying after " + t.cause);
      log.info("VPN {}: charon retries (attempt {}) after {}", t.item.niUuid(), t.state.retries(), t.cause);
      changed.accept(t.item.niUuid());
    } else if (msg.startsWith("generating INFORMATIONAL request") && msg.contains("N(AUTH_FAILED)")) {
      // we refused the peer's authentication (its certificate): IKE's reasons came in the lines before
      t.lastError = "the peer's authentication failed: " + (t.peerAuthDetail.isEmpty() ? msg : t.peerAuthDetail);
      fail(t, t.lastError);
      t.cause = t.lastError;
    } else if (msg.trim().startsWith("no issuer certificate found") || msg.trim().startsWith("issuer is")
        || msg.contains("no trusted") || msg.startsWith("signature validation failed")
        || msg.contains("constraint check failed") || msg.contains("certificate status is not available")) {
      t.peerAuthDetail = t.peerAuthDetail.isEmpty() ? msg.trim() : t.peerAuthDetail + "; " + msg.trim();
    } else if (isFailure(msg)) {
      t.lastError = explain(t.item.backend(), msg);
      if (msg.contains("giving up after") && established) {
        // an established IKE_SA whose request (DPD's, or a rekey's) went unanswered: the peer is gone
        t.lastError = (t.dpdSent ? "peer dead (DPD): " : "peer dead: ") + msg;
        fail(t, t.lastError);
        t.cause = t.lastError;
      } else if (msg.contains("giving up after") && t.state.retries() > 0) {
        // charon gives this attempt up and starts the next: still connecting, with what the attempt came to
        t.state = t.state.withState(VpnState.State.CONNECTING, "retrying after " + t.cause + " (attempt "
            + t.state.retries() + ": " + msg + ")");
        changed.accept(t.item.niUuid());
      } else if (msg.contains("giving up") || msg.contains("AUTHENTICATION_FAILED") || msg.contains("NO_PROPOSAL_CHOSEN")
          || msg.contains("unable to install") || msg.contains("no trusted") || msg.contains("no private key found")) {
        fail(t, t.lastError);
        t.cause = t.lastError;
      }
    }
  }

  /**
   * IKE's last failure line in the charon's own log, for when its log events did not say (charon
   * sends only some levels to VICI listeners).
   */
  private java.util.Optional<String> lastFailureInLog(Items.VpnTunnel item) {
    return daemons.status(item.charon()).flatMap(status -> {
      try {
        List<String> lines = java.nio.file.Files.readAllLines(status.log());
        for (int i = lines.size() - 1; i >= Math.max(0, lines.size() - 200); i--) {
          String line = lines.get(i);
          int bracket = line.indexOf("] ");
          String msg = bracket < 0 ? line : line.substring(bracket + 2);
          if (isFailure(msg) && !msg.contains("failed to establish CHILD_SA, keeping IKE_SA")) {
            return java.util.Optional.of(explain(item.backend(), msg));
          }
        }
      } catch (java.io.IOException | RuntimeException e) {
        log.debug("VPN {}: charon log unreadable: {}", item.niUuid(), e.toString());
      }
      return java.util.Optional.empty();
    });
  }

  static boolean isFailure(String msg) {
    return msg.contains("giving up after") || msg.contains("notify error") || msg.contains("failed")
        || msg.contains("unable to") || msg.contains("no shared key") || msg.contains("NO_PROPOSAL_CHOSEN")
        // certificate authentication: the peer's certificate chains to no CA of ours, or our key is missing
        || msg.contains("no trusted") || msg.contains("no private key found");
  }

  /** IKE's line, and for the xfrm backend the kernel feature that is missing when the kernel refused. */
  static String explain(IpsecBackend backend, String msg) {
    if (backend == IpsecBackend.XFRM && msg.contains("unable to install inbound and outbound IPsec SA")) {
      return msg + " (the kernel has no ESP/xfrm support: use the libipsec backend)";
    }
    return msg;
  }

  private void fail(Tunnel t, String reason) {
    if (t.state.state() == VpnState.State.FAILED && t.state.reason().equals(reason)) {
      return;
    }
    t.state = t.state.withState(VpnState.State.FAILED, reason);
    log.warn("VPN {}: failed: {}", t.item.niUuid(), reason);
    changed.accept(t.item.niUuid());
  }

  @Override
  public void close() {
    tunnels.values().forEach(Tunnel::close);
    tunnels.clear();
  }
}
