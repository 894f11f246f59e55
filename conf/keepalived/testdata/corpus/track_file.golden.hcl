# keepalived 2.2 spelling
vrrp_track_file "prio" {
  file                = "/run/keepalived/prio"
  weight              = 10
  reverse             = true
  init_file           = 0
  init_file_overwrite = true
}

vrrp_track_file "maint" {
  file      = "/run/keepalived/maint"
  weight    = 0
  init_file = 0
}

# lvsd convert: unsupported (testdata/corpus/track_file.conf:12): vrrp_track_file rel { ... }: keepalived would resolve "prio.txt" against its working directory; lvsd needs an absolute path; left out (instances tracking it will not load)

vrrp_instance "VI_F" {
  interface         = "eth0"
  virtual_router_id = 61
  priority          = 100
  track_file "prio" {
    weight  = 5
    reverse = false
  }
  track_file "maint" {
    weight  = 0
    reverse = true
  }
  # lvsd convert: unsupported (testdata/corpus/track_file.conf:22): prio: keepalived ignores a file listed twice; left out
  # lvsd convert: unsupported (testdata/corpus/track_file.conf:23): other weight x: keepalived would apply "weight x"; expected `weight W [reverse]`, W -254..254
  virtual_ipaddress = ["198.51.100.90"]
}
