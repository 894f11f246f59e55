# lvsd convert: ignored (testdata/seed001-master.conf:2): router_id LVS_MYPROJECT (no effect on lvsd)

vrrp_instance "VI_1" {
  state = "MASTER"
  # monitored interface
  interface = "eth0"
  # virtual router's ID
  virtual_router_id = 51
  # set priority (change this value on each server)
  # (large number means priority is high)
  priority  = 101
  nopreempt = true
  # VRRP sending interval
  advert_int = "1s"

  # authentication info between Keepalived servers
  authentication {
    auth_type = "PASS"
    # lvsd convert: unsupported (testdata/seed001-master.conf:19): auth_pass mypassword: keepalived would silently truncate the 10-byte password to its first 8 bytes ("mypasswo"); lvsd refuses passwords over 8 bytes, the truncated one is written
    auth_pass = "mypasswo"
  }
  # virtual IP address
  virtual_ipaddress = ["198.51.100.30"]
}

virtual_server "198.51.100.30:3306" {
  address = "198.51.100.30:3306"
  # monitored interval
  delay_loop = "3s"
  # distribution method
  lvs_sched = "rr"
  # routing method
  lvs_method = "DR"
  protocol   = "TCP"

  # backend server#1
  real_server "198.51.100.10:3306" {
    address = "198.51.100.10:3306"
    weight  = 1
    tcp_check {
      connect_timeout    = "10s"
      retry              = 3
      delay_before_retry = "3s"
      connect_port       = 3306
    }
  }

  # backend server#2
  real_server "198.51.100.11:3306" {
    address = "198.51.100.11:3306"
    weight  = 1
    tcp_check {
      connect_timeout    = "10s"
      retry              = 3
      delay_before_retry = "3s"
      connect_port       = 3306
    }
  }
}
