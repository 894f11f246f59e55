# the main file only includes the others
virtual_server "198.51.100.110:80" {
  address = "198.51.100.110:80"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  lvs_method = "DR"

  real_server "198.51.100.17:80" {
    address     = "198.51.100.17:80"
    weight      = 5
    notify_down = "/bin/false"
  }
}

virtual_server "198.51.100.110:3306" {
  address = "198.51.100.110:3306"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  lvs_method = "DR"

  real_server "198.51.100.17:3306" {
    address = "198.51.100.17:3306"
    tcp_check {
    }
  }
}

vrrp_instance "VI_INC" {
  interface         = "eth0"
  virtual_router_id = 30
  priority          = 100
  virtual_ipaddress = ["198.51.100.110"]
}
