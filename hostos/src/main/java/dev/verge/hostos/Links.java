package dev.verge.hostos;

import java.util.List;
import java.util.Optional;

/** Creating, changing and listing links. Every method throws {@link HostException} on refusal. */
public interface Links {
  void createLink(String name, LinkSpec spec);

  /** Deletes a link; a veth takes its peer with it, a bridge releases its ports. */
  void deleteLink(String name);

  void setUp(String name, boolean up);

  void setMtu(String name, int mtu);

  void setMac(String name, MacAddress mac);

  /** Enslaves the link to a bridge, bond or VRF. */
  void setMaster(String name, String master);

  void clearMaster(String name);

  /** Renames a link; the kernel refuses while it is up. */
  void rename(String name, String newName);

  /**
   * Moves a link into the named namespace ({@code ip link set NAME netns NAMESPACE}, the name of
   * {@code /run/netns/NAMESPACE}). It arrives down, without its addresses, routes or master, and
   * keeps its index if that is free there. A veth end may move alone: the pair then spans the two
   * namespaces. Loopback, bridges, bonds and VRFs cannot move (EINVAL); a missing namespace is
   * ENOENT, a name taken there EEXIST.
   */
  void moveToNamespace(String name, String namespace);

  List<Link> links();

  /** The counters of one link; ENODEV if it does not exist. */
  LinkStats stats(String name);

  /** The counters of every link, by name, in one dump. */
  java.util.Map<String, LinkStats> stats();

  Optional<Link> link(String name);

  /**
   * The member a bond sends through now (the kernel's active slave, as in active-backup), or empty
   * when none is active (no member has carrier, or the mode has no single active member). A link
   * that is not a bond is EOPNOTSUPP.
   */
  Optional<String> bondActiveMember(String bond);
}
