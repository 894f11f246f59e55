vrrp_track_process "haproxy" {
  process         = "haproxy"
  quorum          = 2
  quorum_max      = 4
  weight          = -20
  reverse         = true
  delay           = "1.5s"
  terminate_delay = "3s"
}

vrrp_track_process "app" {
  process     = "/usr/bin/app --config '/etc/app/a b.conf'"
  param_match = "initial"
  fork_delay  = "500ms"
}

vrrp_track_process "bad" {
  process      = "/usr/bin/x"
  full_command = true
  # lvsd convert: unsupported (testdata/corpus/track_process.conf:17): param_match fuzzy: "fuzzy" is not nothing (exact), initial or partial (keepalived would reject the value or fall back to its default)
}

vrrp_instance "VI_P" {
  interface         = "eth0"
  virtual_router_id = 62
  priority          = 100
  track_process "haproxy" {
  }
  track_process "app" {
    weight  = 10
    reverse = false
  }
  track_process "bad" {
  }
  # lvsd convert: unsupported (testdata/corpus/track_process.conf:27): app: keepalived ignores a process listed twice; left out
  virtual_ipaddress = ["198.51.100.91"]
}
