# VRRP version 3 and HTTP/HTTPS checkers
vrrp_instance "VI_V3" {
  state               = "BACKUP"
  interface           = "eth0"
  virtual_router_id   = 60
  priority            = 100
  version             = 3
  advert_int          = "500ms"
  v3_checksum_as_v2   = true
  preempt_delay       = "30s"
  garp_master_delay   = "2s"
  garp_master_repeat  = 3
  garp_master_refresh = "1m0s"
  unicast_src_ip      = "198.51.100.2"
  unicast_peer        = ["198.51.100.3"]
  # lvsd convert: unsupported (testdata/corpus/http.conf:18): authentication { ... }: keepalived ignores authentication with VRRP version 3 (RFC 5798 has none) and sends unauthenticated adverts; lvsd refuses the block with version 3, so it is left out: the adverts are not protected either way
  virtual_ipaddress = ["198.51.100.150/24"]
}

vrrp_instance "VI_V2" {
  interface         = "eth1"
  virtual_router_id = 61
  priority          = 100
  # lvsd convert: ignored (testdata/corpus/http.conf:31): v3_checksum_as_v2 true (no effect with VRRP version 2)
  virtual_ipaddress = ["198.51.100.151"]
}

virtual_server "198.51.100.150:443" {
  address = "198.51.100.150:443"
  # keepalived defaults a virtual_server without protocol to UDP
  protocol   = "UDP"
  delay_loop = "5s"
  lvs_sched  = "wlc"
  lvs_method = "NAT"

  real_server "198.51.100.21:8443" {
    address = "198.51.100.21:8443"
    # TCP and HTTP checkers together
    tcp_check {
      connect_timeout = "2s"
    }
    http_get {
      path        = "/health?full=1"
      status_code = [200, 204, 301, 302]
      digest      = "9b3a0c85a887a256d6939da88aabd8cd"
      # lvsd convert: unsupported (testdata/corpus/http.conf:53): url { ... }: keepalived's HTTP_GET would also request /ready and require any 2xx status; lvsd's http_get checks one path (the first url is mapped)
      virtualhost        = "www.example.com"
      connect_port       = 8080
      connect_timeout    = "3s"
      retry              = 2
      delay_before_retry = "1s"
      warmup             = "5s"
    }
    ssl_get {
      insecure_skip_verify = true
      path                 = "/"
      virtualhost          = "secure.example.com"
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
      # lvsd convert: ignored (testdata/corpus/http.conf:68): virtualhost www.example.com (the url lvsd checks has its own virtualhost)
      delay_loop = "10s"
    }
  }

  real_server "198.51.100.22:8443" {
    address = "198.51.100.22:8443"
    ssl_get {
      insecure_skip_verify = true
      path                 = "/status"
      body_regex           = "^OK"
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
      connect_ip = "198.51.100.122"
    }
    # lvsd convert: unsupported (testdata/corpus/http.conf:81): HTTP_GET { ... }: keepalived ignores a HTTP_GET without a url that has a path (it logs a configuration error and runs no such checker); left out
  }
}
