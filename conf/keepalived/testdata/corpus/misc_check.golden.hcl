virtual_server "198.51.100.90:3306" {
  address = "198.51.100.90:3306"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  lvs_sched  = "lc"
  lvs_method = "DR"

  real_server "198.51.100.90:3306" {
    address = "198.51.100.90:3306"
    misc_check {
      misc_path    = "/usr/local/bin/mysql_check 198.51.100.90"
      misc_timeout = "5s"
    }
    tcp_check {
      bindto = "198.51.100.20"
    }
    # lvsd convert: unsupported (testdata/corpus/misc_check.conf:12): TCP_CHECK { ... }: keepalived would run this second TCP_CHECK as well; lvsd runs at most one tcp_check per real server
    inhibit_on_failure = true
  }

  real_server "198.51.100.91:3306" {
    address = "198.51.100.91:3306"
    # the replica's own check
    misc_check {
      misc_path          = "/usr/local/bin/check_db --host 198.51.100.91 'two words'"
      misc_timeout       = "2.5s"
      misc_dynamic       = true
      user               = "nobody"
      retry              = 2
      delay_before_retry = "1s"
      delay_loop         = "3s"
      warmup             = "5s"
    }
    # lvsd convert: unsupported (testdata/corpus/misc_check.conf:29): MISC_CHECK { ... }: keepalived would run this second MISC_CHECK as well; lvsd runs at most one misc_check per real server
  }

  real_server "198.51.100.92:3306" {
    address = "198.51.100.92:3306"
    # lvsd convert: unsupported (testdata/corpus/misc_check.conf:34): MISC_CHECK { ... }: keepalived would look "check_db" up in its PATH; lvsd's misc_path needs an absolute program path; left out
  }

  real_server "198.51.100.93:3306" {
    address = "198.51.100.93:3306"
    misc_check {
      # lvsd convert: ignored (testdata/corpus/misc_check.conf:40): misc_path /bin/false (a later misc_path replaces it)
      misc_path    = "/usr/local/bin/check_db --host 198.51.100.93"
      misc_dynamic = false
      user         = "nobody"
      # lvsd convert: unsupported (testdata/corpus/misc_check.conf:43): user nobody nogroup: keepalived would run the script with group nogroup; lvsd uses the user's own groups
      retry = 1
    }
  }
}
