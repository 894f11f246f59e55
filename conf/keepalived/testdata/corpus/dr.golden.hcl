# Direct routing, written in every layout keepalived accepts
vrrp_instance "VI DR" {
  state             = "BACKUP"
  interface         = "eth1"
  virtual_router_id = 7
  # trailing comment
  priority   = 150
  advert_int = "2s"
  version    = 2

  authentication {
    auth_type = "PASS"
    auth_pass = "s3cret"
  }
  virtual_ipaddress = ["198.51.100.40/24"]
}

virtual_server "198.51.100.40:443" {
  address    = "198.51.100.40:443"
  delay_loop = "10s"
  lvs_sched  = "sh"
  lvs_method = "DR"
  protocol   = "TCP"

  real_server "198.51.100.12:443" {
    address = "198.51.100.12:443"
    weight  = 2
  }

  real_server "198.51.100.13:443" {
    address = "198.51.100.13:443"
    weight  = 0
    tcp_check {
      connect_ip         = "198.51.100.113"
      connect_port       = 8443
      connect_timeout    = "2.5s"
      retry              = 0
      delay_before_retry = "0s"
      delay_loop         = "30s"
    }
  }
}
