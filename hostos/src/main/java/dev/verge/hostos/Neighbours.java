package dev.verge.hostos;

import java.util.List;

/** Static neighbour entries, and the neighbour table of a link. */
public interface Neighbours {
  /** Adds a permanent entry; an entry for the same address on the link is refused (EEXIST). */
  void addNeighbour(String link, java.net.InetAddress address, MacAddress mac);

  void deleteNeighbour(String link, java.net.InetAddress address);

  List<Neighbour> neighbours(String link);
}
