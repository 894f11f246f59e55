package vrrp

import (
	"crypto/subtle"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// Reason says why a received packet was not accepted. Its String form is a
// stable name, used as the key of the per-reason drop counters.
type Reason uint8

const (
	// ReasonNone: the advert passed every check.
	ReasonNone Reason = iota
	// ReasonLength: shorter than a header plus auth data, or than its
	// address count says.
	ReasonLength
	// ReasonTTL: IP TTL not 255, so it may have crossed a router
	// (RFC 3768 §7.1).
	ReasonTTL
	// ReasonVersion: not VRRP version 2.
	ReasonVersion
	// ReasonVRID: for another virtual router. This is normal traffic on a
	// shared LAN, not an error: callers ignore it quietly.
	ReasonVRID
	// ReasonAuthType: authentication type differs from ours.
	ReasonAuthType
	// ReasonAuthPass: password differs from ours.
	ReasonAuthPass
	// ReasonAdvertInt: advertisement interval differs from ours
	// (RFC 3768 §7.1, v2 drops it).
	ReasonAdvertInt
	// ReasonType: not an advertisement.
	ReasonType
	// ReasonChecksum: Internet checksum of the message is wrong.
	ReasonChecksum
	// ReasonSource: IP source is not a unicast address of the instance's
	// family.
	ReasonSource
	// ReasonUnicastPeer: unicast mode, and the IP source is not one of
	// unicast_peer. keepalived accepts any source unless
	// vrrp_check_unicast_src is set globally; lvsd always checks, since an
	// advert from a stranger can take or keep the VIP.
	ReasonUnicastPeer
	// ReasonMode: sent to a multicast group while we run unicast, or to a
	// unicast address while we run multicast (keepalived drops both:
	// "Expected unicast packet but received multicast packet").
	ReasonMode
)

var reasonNames = [...]string{
	ReasonNone:      "none",
	ReasonLength:    "length",
	ReasonTTL:       "ttl",
	ReasonVersion:   "version",
	ReasonVRID:      "vrid",
	ReasonAuthType:  "auth_type",
	ReasonAuthPass:  "auth_pass",
	ReasonAdvertInt: "advert_int",
	ReasonType:      "type",
	ReasonChecksum:  "checksum",
	ReasonSource:    "source",

	ReasonUnicastPeer: "unicast_peer",
	ReasonMode:        "mode",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// CheckResult is the outcome of CheckAdvert.
type CheckResult struct {
	// Reason is ReasonNone when the advert is accepted.
	Reason Reason
	// Advert is the decoded advert; valid only when Reason is ReasonNone.
	Advert Advert
	// AddrMismatch is set on an accepted advert whose address list
	// differs from our VIPs. It is worth a log line, never a drop: dropping
	// such adverts made two masters after a reload changed the list
	// (keepalived #1603).
	AddrMismatch bool
}

// CheckAdvert applies the receive checks of RFC 3768 §7.1 to one packet
// received with the given IP TTL, source and destination, for the local
// instance cfg, in keepalived's order: length, TTL, version, VRID, source
// (unicast: one of unicast_peer), auth type, password, advert interval, type,
// checksum, and last the mode (multicast destination in multicast mode,
// unicast destination in unicast mode). The first failing check is reported.
//
// The TTL must be 255 in multicast mode only. In unicast mode keepalived
// 2.2.7 does not check it (unless per-peer min_ttl/max_ttl are set), so
// unicast adverts may cross a router; lvsd does the same so that either
// implementation accepts the other in the same topologies. The source
// check against unicast_peer is what protects unicast mode instead.
func CheckAdvert(ttl int, src, dst netip.Addr, payload []byte, cfg conf.VRRPInstance) CheckResult {
	drop := func(r Reason) CheckResult { return CheckResult{Reason: r} }
	unicast := len(cfg.UnicastPeers) > 0
	v3 := cfg.Version == Version3
	v6 := IsIPv6(cfg)
	alen := 4
	if v6 {
		alen = 16
	}
	minLen := MinLen
	if v3 {
		minLen = MinLenV3
	}
	if len(payload) < minLen {
		return drop(ReasonLength)
	}
	if !unicast && ttl != TTL {
		return drop(ReasonTTL)
	}
	if int(payload[0]>>4) != cfg.Version {
		return drop(ReasonVersion)
	}
	if payload[1] != cfg.VRID {
		return drop(ReasonVRID)
	}
	msgLen := minLen + alen*int(payload[3])
	if len(payload) < msgLen {
		return drop(ReasonLength)
	}
	payload = payload[:msgLen]
	if !validSource(src, v6) {
		return drop(ReasonSource)
	}
	if unicast && !slices.Contains(cfg.UnicastPeers, src) {
		return drop(ReasonUnicastPeer)
	}
	if v3 {
		return checkV3(src, dst, payload, cfg, unicast)
	}
	authType, authData := localAuth(cfg)
	if payload[4] != authType {
		return drop(ReasonAuthType)
	}
	if authType == AuthPass {
		off := headerLen + 4*int(payload[3])
		// Constant time over all 8 bytes so the compare leaks neither the
		// password nor its length.
		if subtle.ConstantTimeCompare(payload[off:off+authDataLen], authData[:]) != 1 {
			return drop(ReasonAuthPass)
		}
	}
	if payload[5] != advertIntSeconds(cfg.AdvertInt) {
		return drop(ReasonAdvertInt)
	}
	if payload[0]&0x0f != TypeAdvertisement {
		return drop(ReasonType)
	}
	var a Advert
	if err := a.UnmarshalBinary(payload); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			switch fe.Field {
			case "checksum":
				return drop(ReasonChecksum)
			case "version":
				return drop(ReasonVersion)
			}
		}
		return drop(ReasonLength)
	}
	// An unknown destination (a Conn that cannot tell) is not held
	// against the packet.
	if dst.IsValid() && dst.IsMulticast() == unicast {
		return drop(ReasonMode)
	}
	return CheckResult{Advert: a, AddrMismatch: !sameAddrs(a.Addrs, cfg.VIPs)}
}

// checkV3 finishes CheckAdvert for VRRPv3 (RFC 5798 §7.1): no
// authentication, and an interval different from ours is not a drop (a v3
// backup adopts the master's interval). The checksum covers the IP
// pseudo-header unless cfg.V3ChecksumAsV2.
func checkV3(src, dst netip.Addr, payload []byte, cfg conf.VRRPInstance, unicast bool) CheckResult {
	drop := func(r Reason) CheckResult { return CheckResult{Reason: r} }
	if payload[0]&0x0f != TypeAdvertisement {
		return drop(ReasonType)
	}
	if cfg.V3ChecksumAsV2 {
		if Checksum(payload) != 0 {
			return drop(ReasonChecksum)
		}
	} else if !VerifyChecksumV3(payload, src, dst) {
		return drop(ReasonChecksum)
	}
	if dst.IsValid() && dst.IsMulticast() == unicast {
		return drop(ReasonMode)
	}
	var a Advert
	decode := a.UnmarshalBinary
	if IsIPv6(cfg) {
		decode = a.UnmarshalIPv6
	}
	if err := decode(payload); err != nil {
		return drop(ReasonLength)
	}
	return CheckResult{Advert: a, AddrMismatch: !sameAddrs(a.Addrs, cfg.VIPs)}
}

// IsIPv6 reports whether cfg is a VRRPv3 instance over IPv6: its virtual
// addresses are IPv6 (conf refuses mixing families in one instance, as
// keepalived does).
func IsIPv6(cfg conf.VRRPInstance) bool {
	return len(cfg.VIPs) > 0 && cfg.VIPs[0].Addr().Is6()
}

// validSource: an advert's IP source must be a unicast address of the
// instance's family (RFC 5798 §5.1.1.1, §5.1.2.1). Over IPv6 it is normally
// the sender's link-local address; keepalived 2.2.7 does not insist on
// link-local, nor do we.
func validSource(src netip.Addr, v6 bool) bool {
	if v6 {
		return src.Is6() && !src.Is4In6() && !src.IsUnspecified() && !src.IsMulticast() && !src.IsLoopback()
	}
	return src.Is4() && !src.IsUnspecified() && !src.IsMulticast() && src != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// localAuth returns the auth type and the 8 auth data bytes we send and
// expect: the password zero padded (RFC 3768 §5.3.10). conf refuses
// passwords longer than 8 bytes, so nothing is truncated here.
func localAuth(cfg conf.VRRPInstance) (uint8, [8]byte) {
	var d [8]byte
	if cfg.AuthType != "PASS" {
		return AuthNone, d
	}
	copy(d[:], cfg.AuthPass)
	return AuthPass, d
}

// advertIntSeconds is the v2 wire form of the interval: whole seconds,
// clamped to the field.
func advertIntSeconds(d time.Duration) uint8 {
	s := d / time.Second
	switch {
	case s < 1:
		return 1
	case s > 255:
		return 255
	}
	return uint8(s)
}

// sameAddrs reports whether the advert lists exactly our VIP addresses,
// in any order.
func sameAddrs(got []netip.Addr, vips []netip.Prefix) bool {
	if len(got) != len(vips) {
		return false
	}
	want := make(map[netip.Addr]int, len(vips))
	for _, p := range vips {
		want[p.Addr()]++
	}
	for _, a := range got {
		if want[a] == 0 {
			return false
		}
		want[a]--
	}
	return true
}
