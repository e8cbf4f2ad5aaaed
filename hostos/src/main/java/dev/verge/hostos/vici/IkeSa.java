package dev.verge.hostos.vici;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An IKE_SA as charon reports it ({@code list-sa}, {@code ike-updown}, {@code ike-rekey} events):
 * the connection it belongs to, its state, the peer, how long ago it was established, and its
 * CHILD_SAs with their counters.
 *
 * @param establishedSeconds seconds since it was established, -1 while it is not
 */
public record IkeSa(
    String connection,
    long uniqueId,
    String state,
    String localHost,
    String remoteHost,
    int remotePort,
    String remoteId,
    long establishedSeconds,
    List<ChildSa> children) {
  public IkeSa {
    children = List.copyOf(children);
  }

  /**
   * A CHILD_SA: its state and traffic.
   *
   * @param installedSeconds seconds since it was installed (a rekey installs a new one), -1 unknown
   */
  public record ChildSa(
      String name,
      long uniqueId,
      String state,
      String mode,
      boolean udpEncapsulated,
      long bytesIn,
      long packetsIn,
      long bytesOut,
      long packetsOut,
      long installedSeconds,
      List<String> localTs,
      List<String> remoteTs) {
    public ChildSa {
      localTs = List.copyOf(localTs);
      remoteTs = List.copyOf(remoteTs);
    }

    static ChildSa from(ViciMessage m) {
      return new ChildSa(m.text("name"), m.number("uniqueid", 0), m.text("state"), m.text("mode"),
          m.isYes("encap"), m.number("bytes-in", 0), m.number("packets-in", 0),
          m.number("bytes-out", 0), m.number("packets-out", 0), m.number("install-time", -1),
          m.list("local-ts"), m.list("remote-ts"));
    }
  }

  /** The IKE_SAs of a {@code list-sa} or {@code ike-updown} event: one section per connection. */
  public static List<IkeSa> fromListSa(ViciMessage event) {
    List<IkeSa> sas = new ArrayList<>();
    for (Map.Entry<String, Object> e : event.entries().entrySet()) {
      if (e.getValue() instanceof ViciMessage ike) {
        sas.add(from(e.getKey(), ike));
      }
    }
    return List.copyOf(sas);
  }

  static IkeSa from(String connection, ViciMessage ike) {
    List<ChildSa> children = new ArrayList<>();
    ike.section("child-sas").ifPresent(section -> section.entries().values().forEach(v -> {
      if (v instanceof ViciMessage child) {
        if (child.value("name").isPresent()) {
          children.add(ChildSa.from(child));
        } else {
          // a child-rekey event nests the old and the new CHILD_SA one level deeper
          child.entries().values().forEach(inner -> {
            if (inner instanceof ViciMessage c) {
              children.add(ChildSa.from(c));
            }
          });
        }
      }
    }));
    return new IkeSa(connection, ike.number("uniqueid", 0), ike.text("state"), ike.text("local-host"),
        ike.text("remote-host"), (int) ike.number("remote-port", 0), ike.text("remote-id"),
        ike.number("established", -1), children);
  }

  public boolean established() {
    return "ESTABLISHED".equals(state);
  }

  /** The sum over its installed CHILD_SAs. */
  public long bytesIn() {
    return children.stream().mapToLong(ChildSa::bytesIn).sum();
  }

  public long bytesOut() {
    return children.stream().mapToLong(ChildSa::bytesOut).sum();
  }

  public long packetsIn() {
    return children.stream().mapToLong(ChildSa::packetsIn).sum();
  }

  public long packetsOut() {
    return children.stream().mapToLong(ChildSa::packetsOut).sum();
  }
}
