package dev.verge.hostos;

/** A PCI address in sysfs form, {@code 0000:03:00.0} (domain:bus:device.function). */
public record PciAddress(String value) {
  public PciAddress {
    if (!value.matches("[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\\.[0-7]")) {
      throw new IllegalArgumentException("not a PCI address: " + value);
    }
  }

  public static PciAddress of(String value) {
    return new PciAddress(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
