# checkers' source address and port (keepalived's bindto, bind_port)
virtual_server "198.51.100.80:80" {
  address    = "198.51.100.80:80"
  lvs_sched  = "rr"
  lvs_method = "NAT"
  protocol   = "TCP"

  real_server "198.51.100.81:80" {
    address = "198.51.100.81:80"
    tcp_check {
      bindto    = "198.51.100.2"
      bind_port = 4000
    }
    http_get {
      path        = "/health"
      status_code = [200]
      bindto      = "198.51.100.3"
    }
  }

  real_server "198.51.100.82:80" {
    address = "198.51.100.82:80"
    tcp_check {
      connect_ip = "2001:db8::82"
      # lvsd convert: unsupported (testdata/corpus/bindto.conf:22): bindto 198.51.100.2: 198.51.100.2 is not of the family of the target 2001:db8::82 (keepalived ignores it and connects from the kernel's choice of address)
    }
    http_get {
      path = "/"
      # lvsd convert: keepalived's default status_code: any 2xx
      status_code = [
        200, 201, 202, 203, 204, 205, 206, 207, 208, 209,
        210, 211, 212, 213, 214, 215, 216, 217, 218, 219,
        220, 221, 222, 223, 224, 225, 226, 227, 228, 229,
        230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
        240, 241, 242, 243, 244, 245, 246, 247, 248, 249,
        250, 251, 252, 253, 254, 255, 256, 257, 258, 259,
        260, 261, 262, 263, 264, 265, 266, 267, 268, 269,
        270, 271, 272, 273, 274, 275, 276, 277, 278, 279,
        280, 281, 282, 283, 284, 285, 286, 287, 288, 289,
        290, 291, 292, 293, 294, 295, 296, 297, 298, 299,
      ]
      # lvsd convert: unsupported (testdata/corpus/bindto.conf:28): bindto not-an-address: "not-an-address" is not an IP address (keepalived ignores it and connects from the kernel's choice of address)
      bind_port = 4001
    }
  }
}

virtual_server "198.51.100.80:53" {
  address    = "198.51.100.80:53"
  lvs_sched  = "rr"
  lvs_method = "DR"
  protocol   = "UDP"

  real_server "198.51.100.83:53" {
    address = "198.51.100.83:53"
    dns_check {
      bindto    = "198.51.100.4"
      bind_port = 5353
    }
    udp_check {
      bind_port = 5354
    }
  }
}
