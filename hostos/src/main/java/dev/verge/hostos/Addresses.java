package dev.verge.hostos;

import java.util.List;

/** Addresses on links. */
public interface Addresses {
  void addAddress(String link, IpPrefix prefix);

  void deleteAddress(String link, IpPrefix prefix);

  /** The addresses of one link, both families. */
  List<Address> addresses(String link);
}
