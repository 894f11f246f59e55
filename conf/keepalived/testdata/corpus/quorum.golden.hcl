# sorry server, quorum and notifiers (keepalived's check_parser.c keywords)
virtual_server "198.51.100.30:3306" {
  address = "198.51.100.30:3306"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol                = "UDP"
  delay_loop              = "3s"
  lvs_sched               = "rr"
  lvs_method              = "DR"
  sorry_server            = "198.51.100.99:3306"
  sorry_server_inhibit    = true
  sorry_server_lvs_method = "NAT"
  quorum                  = 2
  hysteresis              = 1
  quorum_up               = "/usr/local/bin/notify up mysql"
  quorum_down             = "/usr/local/bin/notify"
  alpha                   = true
  omega                   = true

  real_server "198.51.100.10:3306" {
    address = "198.51.100.10:3306"
    weight  = 1
    tcp_check {
      connect_timeout = "3s"
    }
  }

  real_server "198.51.100.11:3306" {
    address = "198.51.100.11:3306"
    weight  = 1
  }
}

virtual_server "198.51.100.31:80" {
  address = "198.51.100.31:80"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol = "UDP"
  # lvsd convert: unsupported (testdata/corpus/quorum.conf:27): quorum_up notify-in-path: keepalived would look "notify-in-path" up in its PATH; lvsd needs an absolute program path; left out

  real_server "198.51.100.10:80" {
    address = "198.51.100.10:80"
  }
}
