virtual_server "203.0.113.53:53" {
  address    = "203.0.113.53:53"
  protocol   = "UDP"
  lvs_sched  = "rr"
  lvs_method = "DR"

  real_server "203.0.113.61:53" {
    address     = "203.0.113.61:53"
    notify_up   = "/usr/local/bin/rs_state up 203.0.113.61"
    notify_down = "/usr/local/bin/rs_down"
    # lvsd convert: ignored (testdata/corpus/checks.conf:8): notify_down /usr/local/bin/other (keepalived keeps the first notify_down)
    udp_check {
      payload          = "0a1bff01"
      require_reply    = true
      reply            = "0a1b"
      min_reply_length = 2
      max_reply_length = 512
      connect_timeout  = "2s"
      warmup           = "3.5s"
    }
    dns_check {
      type       = "A"
      name       = "www.example.com"
      delay_loop = "10s"
      warmup     = "0s"
    }
  }

  real_server "203.0.113.62:53" {
    address = "203.0.113.62:53"
    # lvsd convert: unsupported (testdata/corpus/checks.conf:25): notify_up rs_state: keepalived would look "rs_state" up in its PATH; lvsd needs an absolute program path; left out
    notify_down = "/usr/local/bin/rs_state down"
    # lvsd convert: unsupported (testdata/corpus/checks.conf:26): notify_down /usr/local/bin/rs_state down nobody: keepalived would run the script as nobody; lvsd runs it as its own user
    udp_check {
      # lvsd convert: unsupported (testdata/corpus/checks.conf:28): payload zz: "zz" is not bytes in hex (keepalived would reject the value or fall back to its default)
      require_reply = true
      # lvsd convert: unsupported (testdata/corpus/checks.conf:29): require_reply 0a xx: keepalived would match the reply against "0a xx" with x as a wildcard nibble; lvsd's reply is an exact prefix, so it is left out (any reply within the length bounds passes)
      # lvsd convert: unsupported (testdata/corpus/checks.conf:30): max_reply_length 70000: "70000" is not a length 0-65535 (keepalived would reject the value or fall back to its default)
    }
    dns_check {
      # lvsd convert: unsupported (testdata/corpus/checks.conf:33): type PTR: "PTR" is not a DNS query type (A, NS, CNAME, SOA, MX, TXT, AAAA), so SOA is queried (keepalived would reject the value or fall back to its default)
      # lvsd convert: unsupported (testdata/corpus/checks.conf:34): name bad..name: keepalived would query "bad..name"; lvsd refuses it (empty label), so it is left out and "." is queried
      retry = 1
      # lvsd convert: unsupported (testdata/corpus/checks.conf:36): warmup soon: "soon" is not a number of seconds (keepalived would reject the value or fall back to its default)
    }
  }

  real_server "203.0.113.63:53" {
    address = "203.0.113.63:53"
    udp_check {
      require_reply = true
      # lvsd convert: ignored (testdata/corpus/checks.conf:42): min_reply_length 4 (keepalived checks the length only with reply bytes after require_reply)
    }
    misc_check {
      misc_path    = "/usr/local/bin/dyn_weight"
      misc_dynamic = true
      warmup       = "2s"
    }
  }

  real_server "203.0.113.64:53" {
    address = "203.0.113.64:53"
    udp_check {
      require_reply    = true
      max_reply_length = 3
      # lvsd convert: unsupported (testdata/corpus/checks.conf:53): min_reply_length 9 above max_reply_length 3: left out
      # lvsd convert: unsupported (testdata/corpus/checks.conf:52): reply longer than max_reply_length 3: left out
    }
    tcp_check {
      connect_port = 53
      warmup       = "1s"
    }
  }
}

virtual_server "203.0.113.54:53" {
  address  = "203.0.113.54:53"
  protocol = "UDP"
  # lvsd convert: carried (testdata/corpus/checks.conf:64): warmup 4 (written into each checker of this virtual_server without its own warmup)

  real_server "203.0.113.65:53" {
    address = "203.0.113.65:53"
    dns_check {
      warmup = "1.5s"
    }
    tcp_check {
      warmup = "7s"
    }
    # lvsd convert: carried (testdata/corpus/checks.conf:71): warmup 1.5 (written into each checker of this real_server without its own warmup)
  }

  real_server "203.0.113.66:53" {
    address = "203.0.113.66:53"
    # lvsd convert: unsupported (testdata/corpus/checks.conf:74): warmup later: "later" is not a number of seconds (keepalived would reject the value or fall back to its default)
    dns_check {
      warmup = "4s"
      # lvsd convert: unsupported (testdata/corpus/checks.conf:76): warmup x: "x" is not a number of seconds (keepalived would reject the value or fall back to its default)
    }
  }
}
