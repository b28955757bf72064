import sys, os, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke import *
a, b = p2p_pair()
print(sh("ip -n km-b -6 addr; ip -n km-b -6 route; ip -n km-b link show km-tun").stdout)
r = sh("ip netns exec km-b ping -6 -c 2 -W 3 fd78::1", check=False); print(r.stdout, r.stderr)
for ns in ("km-a", "km-b"):
    print(ns, link_stats(ns, "km-tun")[:2])
    print(sh(f"ip netns exec {ns} nstat -az Ip6InNoRoutes Ip6InDiscards Ip6InAddrErrors Ip6OutNoRoutes Ip6InReceives Icmp6InEchos Ip6InHdrErrors").stdout)
print(sh("dmesg | tail -20").stdout)
