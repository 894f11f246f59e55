vrrp_instance "VI_TUN" {
  interface         = "eth0"
  virtual_router_id = 12
  priority          = 90
  virtual_ipaddress = ["198.51.100.50", "198.51.100.51/32 label eth0:vip"]
}

virtual_server "198.51.100.50:53" {
  address    = "198.51.100.50:53"
  lvs_sched  = "rr"
  lvs_method = "TUN"
  protocol   = "UDP"

  real_server "198.51.100.14:53" {
    address = "198.51.100.14:53"
  }
}
