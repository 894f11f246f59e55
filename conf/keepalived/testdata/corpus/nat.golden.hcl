# keepalived NAT example: web farm behind a NAT director
# lvsd convert: ignored (testdata/corpus/nat.conf:3): notification_email { ... } (no effect on lvsd)
# lvsd convert: ignored (testdata/corpus/nat.conf:6): notification_email_from lb@example.com (no effect on lvsd)
# lvsd convert: ignored (testdata/corpus/nat.conf:7): smtp_server 192.0.2.25 (no effect on lvsd)
# lvsd convert: ignored (testdata/corpus/nat.conf:8): smtp_connect_timeout 30 (no effect on lvsd)
# lvsd convert: ignored (testdata/corpus/nat.conf:9): router_id LVS_NAT (no effect on lvsd)

virtual_server "198.51.100.30:80" {
  address                 = "198.51.100.30:80"
  delay_loop              = "6s"
  lvs_sched               = "wrr"
  lvs_method              = "NAT"
  persistence_timeout     = 50
  persistence_granularity = "255.255.255.0"
  protocol                = "TCP"
  sorry_server            = "198.51.100.99:80"
  inhibit_on_failure      = true

  real_server "198.51.100.10:8080" {
    address = "198.51.100.10:8080"
    weight  = 3
    http_get {
      path               = "/health"
      status_code        = [200]
      connect_timeout    = "3s"
      retry              = 3
      delay_before_retry = "3s"
    }
  }

  real_server "198.51.100.11:8080" {
    address = "198.51.100.11:8080"
    weight  = 1
    tcp_check {
      connect_timeout = "3s"
    }
  }
}
