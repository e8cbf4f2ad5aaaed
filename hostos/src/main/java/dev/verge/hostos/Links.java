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

  List<Link> links();

  Optional<Link> link(String name);
}
