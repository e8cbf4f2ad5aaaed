package dev.verge.hostos.nft;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What makes a chain a base chain: packets enter it from a hook, in priority order (lower first)
 * among the base chains of that hook.
 *
 * @param device the interface of a netdev ingress chain; empty elsewhere
 */
public record BaseChain(Type type, Hook hook, int priority, Policy policy, Optional<String> device) {
  public BaseChain {
    Objects.requireNonNull(type);
    Objects.requireNonNull(hook);
    Objects.requireNonNull(policy);
    Objects.requireNonNull(device);
  }

  public static BaseChain filter(Hook hook, int priority, Policy policy) {
    return new BaseChain(Type.FILTER, hook, priority, policy, Optional.empty());
  }

  public static BaseChain nat(Hook hook, int priority) {
    return new BaseChain(Type.NAT, hook, priority, Policy.ACCEPT, Optional.empty());
  }

  /** nft's named priorities, as numbers (nft lists them as numbers). */
  public static final int PRIORITY_RAW = -300;
  public static final int PRIORITY_MANGLE = -150;
  public static final int PRIORITY_DSTNAT = -100;
  public static final int PRIORITY_FILTER = 0;
  public static final int PRIORITY_SRCNAT = 100;

  /** The chain type: filter sees every packet, nat only the first of a connection. */
  public enum Type {
    FILTER,
    NAT,
    ROUTE;

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Type of(String nftName) {
      return Arrays.stream(values())
          .filter(t -> t.nftName().equals(nftName))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown chain type " + nftName));
    }
  }

  /** What happens to a packet that reaches the end of the base chain. */
  public enum Policy {
    ACCEPT,
    DROP;

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Policy of(String nftName) {
      return Arrays.stream(values())
          .filter(p -> p.nftName().equals(nftName))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown policy " + nftName));
    }
  }
}
