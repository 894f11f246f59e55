vrrp_instance "VI_UC" {
  state             = "MASTER"
  interface         = "eth0"
  virtual_router_id = 14
  priority          = 120
  unicast_src_ip    = "198.51.100.20"
  unicast_peer      = ["198.51.100.21"]

  # lvsd convert: unsupported (testdata/corpus/unicast.conf:12): auth_type AH: keepalived would authenticate adverts with AH; lvsd supports PASS only (the authentication block is left out)
  virtual_ipaddress = ["198.51.100.70 dev eth9", "198.51.100.71"]
}
