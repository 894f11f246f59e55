# Every IPVS service shape keepalived can program.
# lvsd convert: ignored (testdata/corpus/shapes.conf:3): router_id lb1 (no effect on lvsd)
lvs_timeouts {
  tcp    = 900
  tcpfin = 60
  udp    = 120
}

virtual_server "198.51.100.70:80" {
  address    = "198.51.100.70:80"
  lvs_sched  = "sh"
  lvs_flags  = ["sh-port", "sh-fallback"]
  lvs_method = "NAT"
  protocol   = "TCP"

  real_server "203.0.113.10:8080" {
    address    = "203.0.113.10:8080"
    weight     = 2
    uthreshold = 100
    lthreshold = 10
  }

  real_server "203.0.113.11:8080" {
    address    = "203.0.113.11:8080"
    lvs_method = "NAT"
  }
}

virtual_server "198.51.100.70:53" {
  address  = "198.51.100.70:53"
  protocol = "UDP"
  # lvsd convert: unsupported (testdata/corpus/shapes.conf:23): mh-port: keepalived ignores mh-port here (it only applies to lvs_sched mh, and the scheduler at this point is wlc)
  lvs_sched  = "mh"
  lvs_flags  = ["mh-fallback", "mh-port", "ops"]
  lvs_method = "DR"

  real_server "198.51.100.12:53" {
    address    = "198.51.100.12:53"
    lvs_method = "TUN"
    tun_type   = "ipip"
  }

  real_server "198.51.100.13:53" {
    address = "198.51.100.13:53"
    # lvsd convert: unsupported (testdata/corpus/shapes.conf:33): lvs_method TUN type gue port 6080: keepalived would program a type gue port 6080 tunnel; lvsd only programs ipip tunnels (moby/ipvs cannot send the tunnel type)
  }
}

virtual_server "198.51.100.70:443" {
  address  = "198.51.100.70:443"
  protocol = "TCP"
  # lvsd convert: unsupported (testdata/corpus/shapes.conf:38): ops: ops (one-packet scheduling) only applies to UDP services; lvsd refuses it on TCP
  lvs_flags = ["flag-3"]
  lvs_sched = "wrr"
}

virtual_server "fwmark-2" {
  fwmark              = 2
  ip_family           = "inet6"
  lvs_sched           = "rr"
  lvs_method          = "DR"
  persistence_timeout = 60

  real_server "2001:db8::10" {
    address = "2001:db8::10"
  }
}

virtual_server "fwmark-3" {
  fwmark    = 3
  ip_family = "inet6"
  lvs_flags = ["ops"]
}
