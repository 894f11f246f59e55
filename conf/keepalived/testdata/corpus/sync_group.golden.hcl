# lvsd convert: unsupported (testdata/corpus/sync_group.conf:1): vrrp_script chk_haproxy { ... }: keepalived would run this script periodically; instances tracking it change priority or go to FAULT

# lvsd convert: unsupported (testdata/corpus/sync_group.conf:6): vrrp_sync_group VG_1 { ... }: keepalived would move the grouped instances between MASTER and BACKUP together (and run the group's notify scripts)

vrrp_instance "VI_A" {
  state             = "BACKUP"
  interface         = "eth0"
  virtual_router_id = 21
  priority          = 100
  nopreempt         = true
  # lvsd convert: unsupported (testdata/corpus/sync_group.conf:19): track_script { ... }: keepalived would change priority or go to FAULT according to these vrrp_scripts
  # lvsd convert: unsupported (testdata/corpus/sync_group.conf:22): notify_master /etc/keepalived/a.sh: keepalived would run this script on becoming MASTER
  virtual_ipaddress = ["198.51.100.80"]
}

vrrp_instance "VI_B" {
  interface         = "eth1"
  virtual_router_id = 22
  priority          = 100
  garp_master_delay = "10s"
  virtual_ipaddress = ["198.51.100.81"]
}
