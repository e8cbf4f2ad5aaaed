package dev.verge.hostos;

import java.net.InetAddress;
import java.util.Optional;

/**
 * A neighbour (ARP / NDP) entry.
 *
 * @param permanent a static entry ({@code NUD_PERMANENT}) rather than one learned from traffic
 */
public record Neighbour(int linkIndex, InetAddress address, Optional<MacAddress> mac, boolean permanent) {}
