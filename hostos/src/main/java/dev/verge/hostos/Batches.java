package dev.verge.hostos;

import java.util.List;
import java.util.Optional;

/** Many link and address changes at once: what a reconciler applying a plan wants. */
public interface Batches {
  /**
   * Applies every operation, in order, whatever became of the earlier ones, and returns per
   * operation (same order) the refusal it met, with the message its single-operation method would
   * throw; empty where it succeeded. One exception: a run of consecutive link deletions may be
   * applied concurrently, so where one of them takes another's link with it (a veth's peer, a
   * macvlan's parent) either of the two may be the one that fails with ENODEV.
   */
  List<Optional<HostException>> apply(List<NetOperation> operations);
}
