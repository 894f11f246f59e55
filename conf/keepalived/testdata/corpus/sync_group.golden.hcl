vrrp_script "chk_haproxy" {
  script   = "/usr/bin/pgrep haproxy"
  interval = "2s"
  weight   = -20
}

vrrp_sync_group "VG_1" {
  group         = ["VI_A", "VI_B"]
  notify_master = "/etc/keepalived/master.sh"
}

vrrp_instance "VI_A" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 21
  priority          = 100
  nopreempt         = true
  track_script "chk_haproxy" {
  }
  notify_master     = "/etc/keepalived/a.sh"
  virtual_ipaddress = ["198.51.100.80"]
}

vrrp_instance "VI_B" {
  interface         = "eth1"
  virtual_router_id = 22
  priority          = 100
  garp_master_delay = "10s"
  virtual_ipaddress = ["198.51.100.81"]
}
