# lvsd convert: unsupported (testdata/corpus/vsgroup.conf:1): virtual_server_group WEB { ... }: keepalived would define a set of addresses for `virtual_server group NAME`

# lvsd convert: unsupported (testdata/corpus/vsgroup.conf:5): virtual_server group WEB { ... }: keepalived would create one IPVS service per address of the virtual_server_group

vrrp_instance "VI_G" {
  interface         = "eth0"
  virtual_router_id = 50
  priority          = 100
  virtual_ipaddress = ["198.51.100.100", "198.51.100.101"]
}
