package vrrp

import (
	"crypto/subtle"
	"errors"
	"net/netip"
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
	// ReasonSource: IP source is not a unicast IPv4 address.
	ReasonSource
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
// received with the given IP TTL and source, for the local instance cfg, in
// keepalived's order: length, TTL, version, VRID, auth type, password,
// advert interval, type, checksum. The first failing check is reported.
func CheckAdvert(ttl int, src netip.Addr, payload []byte, cfg conf.VRRPInstance) CheckResult {
	drop := func(r Reason) CheckResult { return CheckResult{Reason: r} }
	if len(payload) < MinLen {
		return drop(ReasonLength)
	}
	if ttl != TTL {
		return drop(ReasonTTL)
	}
	if payload[0]>>4 != Version2 {
		return drop(ReasonVersion)
	}
	if payload[1] != cfg.VRID {
		return drop(ReasonVRID)
	}
	if len(payload) < MinLen+4*int(payload[3]) {
		return drop(ReasonLength)
	}
	if !src.Is4() || src.IsUnspecified() || src.IsMulticast() || src == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return drop(ReasonSource)
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
	return CheckResult{Advert: a, AddrMismatch: !sameAddrs(a.Addrs, cfg.VIPs)}
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
