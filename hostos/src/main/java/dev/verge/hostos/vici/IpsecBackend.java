package dev.verge.hostos.vici;

/** Where charon's ESP runs: in the kernel (xfrm) or in charon itself over a TUN device. */
public enum IpsecBackend {
  /** kernel-libipsec: userspace ESP over a TUN device ({@code ipsecN}), UDP-encapsulated always. */
  LIBIPSEC,
  /** kernel-netlink's xfrm: ESP in the kernel (needs xfrm and ESP in the kernel). */
  XFRM
}
