virtual_server "198.51.100.90:3306" {
  address    = "198.51.100.90:3306"
  lvs_sched  = "lc"
  lvs_method = "DR"

  real_server "198.51.100.90:3306" {
    address = "198.51.100.90:3306"
    # lvsd convert: unsupported (testdata/corpus/misc_check.conf:5): MISC_CHECK { ... }: keepalived would run this script and take the server down on a non-zero exit; lvsd's checkers are tcp_check, mysql_check, http_get and ssl_get
    tcp_check {
      # lvsd convert: unsupported (testdata/corpus/misc_check.conf:10): bindto 198.51.100.20: keepalived would connect from this source address
    }
    # lvsd convert: unsupported (testdata/corpus/misc_check.conf:12): TCP_CHECK { ... }: keepalived would run this second TCP_CHECK as well; lvsd runs at most one tcp_check per real server
    inhibit_on_failure = true
  }
}
