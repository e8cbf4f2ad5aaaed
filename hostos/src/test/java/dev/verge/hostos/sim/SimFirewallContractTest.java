package dev.verge.hostos.sim;

import dev.verge.hostos.Firewall;
import dev.verge.hostos.FirewallContract;
import dev.verge.hostos.nft.Hook;

/** The firewall contract on the sim: pings are packets evaluated at the forward hook. */
class SimFirewallContractTest extends FirewallContract {
  private final SimFirewall firewall = new SimFirewall();

  @Override
  protected Firewall firewall() {
    return firewall;
  }

  @Override
  protected int pingThroughForward(int count) {
    int answered = 0;
    for (int i = 0; i < count; i++) {
      Packet request = Packet.ping("10.1.0.2", "10.2.0.2").in("lan0").out("wan0");
      if (firewall.evaluate(Hook.FORWARD, request).accepted()
          && firewall.evaluate(Hook.FORWARD, request.reply()).accepted()) {
        answered++;
      }
    }
    return answered;
  }
}
