vrrp_instance "VI_1" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 51
  priority          = 101
  nopreempt         = true
  advert_int        = "1s"

  authentication {
    auth_type = "PASS"
    auth_pass = "mypasswd"
  }

  virtual_ipaddress = ["198.51.100.30"]
}

virtual_server "mysql" {
  address    = "198.51.100.30:3306"
  protocol   = "TCP"
  lvs_sched  = "rr"
  lvs_method = "DR"
  delay_loop = "3s"

  real_server "db1" {
    address = "198.51.100.10:3306"
    weight  = 1
    tcp_check {
      connect_timeout    = "10s"
      retry              = 3
      delay_before_retry = "3s"
    }
  }

  real_server "db2" {
    address = "198.51.100.11:3306"
    weight  = 1
    tcp_check {
      connect_timeout    = "10s"
      retry              = 3
      delay_before_retry = "3s"
    }
  }
}
