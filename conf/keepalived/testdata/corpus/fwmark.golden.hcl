vrrp_instance "VI_FW" {
  interface         = "eth0"
  virtual_router_id = 13
  priority          = 100
  virtual_ipaddress = ["198.51.100.60"]
}

# iptables -t mangle -A PREROUTING -d 198.51.100.60 -j MARK --set-mark 1
virtual_server "fwmark-1" {
  fwmark     = 1
  lvs_sched  = "wlc"
  lvs_method = "DR"

  real_server "198.51.100.15" {
    address = "198.51.100.15"
    tcp_check {
      connect_port = 80
    }
  }
}

virtual_server "198.51.100.60:80" {
  address = "198.51.100.60:80"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  lvs_method = "DR"

  real_server "198.51.100.15:80" {
    address = "198.51.100.15:80"
  }
}
