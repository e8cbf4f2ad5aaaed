package dev.verge.hostos;

import java.util.Optional;

/**
 * What a DHCP client says about itself.
 *
 * @param hostname sent as option 12
 * @param vendorClass sent as option 60 (vendor class identifier)
 */
public record DhcpOptions(Optional<String> hostname, Optional<String> vendorClass) {
  public static final DhcpOptions DEFAULT = new DhcpOptions(Optional.empty(), Optional.empty());

  public DhcpOptions {
    hostname.ifPresent(h -> requirePrintable("hostname", h));
    vendorClass.ifPresent(v -> requirePrintable("vendor class", v));
  }

  public DhcpOptions withHostname(String name) {
    return new DhcpOptions(Optional.of(name), vendorClass);
  }

  public DhcpOptions withVendorClass(String vendor) {
    return new DhcpOptions(hostname, Optional.of(vendor));
  }

  private static void requirePrintable(String what, String value) {
    if (value.isEmpty() || value.length() > 255 || !value.matches("[A-Za-z0-9._ :-]+")) {
      throw new IllegalArgumentException("DHCP " + what + " must be 1-255 of [A-Za-z0-9._ :-]: " + value);
    }
  }
}
