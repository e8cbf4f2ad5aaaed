package dev.verge.hostos;

/** An address assigned to a link. */
public record Address(int linkIndex, IpPrefix prefix) {}
