package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.HostException;

/** PLACEHOLDER: helper H2 replaces this with the sim firewall that holds and evaluates rulesets. */
public final class SimFirewall implements Firewall {
  @Override
  public void apply(String jsonBatch) {
    throw new HostException("apply", "nftables batch", Errno.EOPNOTSUPP, "not implemented yet");
  }

  @Override
  public String listTable(String family, String table) {
    throw new HostException("list", "nftables table", Errno.EOPNOTSUPP, "not implemented yet");
  }

  @Override
  public void close() {}
}
