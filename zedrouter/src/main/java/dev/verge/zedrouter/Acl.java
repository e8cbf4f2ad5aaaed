package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One validated ACE of a VIF, EVE's model: every match must hold (AND), the first ACE that matches
 * decides, and an ACE without action allows.
 *
 * @param id the controller's ACE id (1..16777215): names its counter and goes into the flow's mark
 * @param direction which way it applies; unlike EVE, honoured
 */
public record Acl(int id, String name, Direction direction, List<Match> matches, Action action) {
  public static final int MAX_ID = 0xffffff;

  public Acl {
    matches = List.copyOf(matches);
    Objects.requireNonNull(direction);
    Objects.requireNonNull(action);
  }

  public enum Direction {
    BOTH,
    EGRESS,
    INGRESS;

    boolean egress() {
      return this != INGRESS;
    }

    boolean ingress() {
      return this != EGRESS;
    }
  }

  /** A match term; ports are as EVE names them: {@code lport} on the app side, {@code fport} on the far side. */
  public sealed interface Match {}

  /** The far side's address is in this prefix. */
  public record IpMatch(IpPrefix prefix) implements Match {}

  /** The far side's address is one the NI's DNS resolved for this name (or a subdomain). */
  public record HostMatch(String host) implements Match {}

  /** The IP protocol number (6 TCP, 17 UDP, 1 ICMP...). */
  public record ProtocolMatch(int protocol) implements Match {}

  public record LocalPortMatch(int port) implements Match {}

  /**
   * EVE's {@code eidset}: the far side is one of the NI's own endpoints (its apps' VIFs and its
   * static DNS entries), so apps of one NI can be let talk to each other and nowhere else.
   */
  public record EidSetMatch() implements Match {}

  /**
   * EVE's {@code adapter}: the traffic leaves (egress) or came in (ingress) by the device port with
   * this label; with a port map, the map applies only on that port. It holds while the NI's port in
   * use carries the label (the NI's own label, or the port's).
   */
  public record AdapterMatch(String label) implements Match {}

  public record ForeignPortMatch(int port) implements Match {}

  public sealed interface Action {}

  public record Allow() implements Action {}

  public record Drop() implements Action {}

  /** Allows up to {@code rate} packets per {@code per} (second, minute, hour) plus a burst; drops the rest. */
  public record Limit(int rate, String per, int burst) implements Action {}

  /**
   * Traffic to {@code externalPort} (the ACE's lport, with its protocol) on the uplink's address goes
   * to {@code appPort} on this VIF.
   */
  public record PortMap(int protocol, int externalPort, int appPort) implements Action {}

  public Optional<Integer> protocol() {
    return matches.stream().filter(m -> m instanceof ProtocolMatch).map(m -> ((ProtocolMatch) m).protocol()).findFirst();
  }
}
