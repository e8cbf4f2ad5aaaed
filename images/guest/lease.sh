#!/bin/sh
# udhcpc event script inside the guest.
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$subnet" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "VERGE-LEASE $interface $ip/$subnet router=$router" > /dev/console
    ;;
esac
exit 0
