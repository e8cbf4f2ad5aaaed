package dev.verge.hostos;

/**
 * The network stack of one namespace: the real kernel ({@code linux}) or the in-memory one
 * ({@code sim}), with the same semantics.
 */
public interface NetworkStack
    extends Links, Bridges, VirtualFunctions, Addresses, Batches, Routes, Neighbours, Rules, NetEvents,
        AutoCloseable {
  @Override
  void close();
}
