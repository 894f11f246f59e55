virtual_server_group "WEB" {
  addresses = ["198.51.100.100:80", "198.51.100.101:80"]
}

virtual_server "WEB" {
  group = "WEB"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol  = "UDP"
  lvs_sched = "rr"

  real_server "198.51.100.16:80" {
    address = "198.51.100.16:80"
    weight  = 1
  }
}

vrrp_instance "VI_G" {
  interface         = "eth0"
  virtual_router_id = 50
  priority          = 100
  virtual_ipaddress = ["198.51.100.100", "198.51.100.101"]
}
