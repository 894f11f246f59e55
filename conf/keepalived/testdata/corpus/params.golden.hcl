vrrp_instance "VI_P" {
  state             = "MASTER"
  priority          = 110
  interface         = "eth0"
  virtual_router_id = 40
  virtual_ipaddress = ["198.51.100.120"]
}

virtual_server "198.51.100.120:3306" {
  address = "198.51.100.120:3306"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  lvs_method = "DR"

  real_server "198.51.100.18:3306" {
    address = "198.51.100.18:3306"
    tcp_check {
      connect_timeout = "4s"
    }
  }
}
