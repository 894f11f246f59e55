package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Wire constants of RFC 3768 §5.
const (
	// Version2 is VRRP of RFC 3768 §5.3.1.
	Version2 = 2
	// Version3 is VRRP of RFC 5798, over IPv4 or IPv6.
	Version3 = 3
	// MaxAdvertIntV3 is the largest v3 Max Adver Int: 12 bits of
	// centiseconds (RFC 5798 §5.2.7).
	MaxAdvertIntV3 = 0x0fff
	// TypeAdvertisement is the only packet type defined (RFC 3768 §5.3.2).
	TypeAdvertisement = 1

	// AuthNone and AuthPass are the authentication types of RFC 3768
	// §5.3.6 (type 2, IP AH, is deprecated and not implemented).
	AuthNone = 0
	AuthPass = 1

	// Protocol is the IP protocol number of VRRP (RFC 3768 §5.2.4).
	Protocol = 112
	// TTL is the only IP TTL a VRRP advert may carry (RFC 3768 §5.2.3).
	TTL = 255
	// TOS is the IP type of service keepalived sends with (DSCP CS6,
	// "network control"); peers do not check it.
	TOS = 0xc0

	headerLen   = 8 // version/type, vrid, priority, count, auth type, adver int, checksum
	authDataLen = 8
	// MinLen is the length of an advert with no addresses.
	MinLen = headerLen + authDataLen
	// MaxLen is the length of an IPv4 advert with 255 addresses.
	MaxLen = MinLen + 255*4
	// MaxLenIPv6 is the length of a v3 IPv6 advert with 255 addresses.
	MaxLenIPv6 = MinLenV3 + 255*16
	// MinLenV3 is the length of a v3 advert with no addresses: v3 has no
	// authentication data (RFC 5798 §5.1).
	MinLenV3 = headerLen
)

// Group is the IPv4 multicast group VRRP adverts are sent to (RFC 3768 §5.2.2).
var Group = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// GroupIPv6 is the IPv6 multicast group of VRRPv3 (RFC 5798 §5.1.2.2).
var GroupIPv6 = netip.MustParseAddr("ff02::12")

// Advert is one VRRPv2 (RFC 3768 §5.1) or VRRPv3 (RFC 5798 §5.1)
// advertisement.
type Advert struct {
	Version  uint8 // 2 or 3
	Type     uint8 // 1 = advertisement
	VRID     uint8
	Priority uint8
	// AuthType and AuthData are v2 only (v3 has no authentication).
	AuthType uint8
	// AdvertInt is the v2 advertisement interval in whole seconds.
	AdvertInt uint8
	// MaxAdvertInt is the v3 Max Adver Int in centiseconds (12 bits).
	MaxAdvertInt uint16
	// Addrs are the virtual addresses, all IPv4 or (v3 only) all IPv6;
	// their number is the "Count IPvX Addrs" field. Which family a v3
	// message carries is not in the message (RFC 5798 §5.2.5: it is the IP
	// version of the packet), so UnmarshalBinary decodes IPv4 and
	// UnmarshalIPv6 IPv6.
	Addrs []netip.Addr
	// AuthData is the password, zero padded, for AuthType AuthPass.
	AuthData [8]byte
	// Checksum is filled in by UnmarshalBinary. MarshalBinary ignores it
	// and always writes the checksum of the encoded message alone (for v3
	// see SetChecksumV3).
	Checksum uint16
}

// Sentinel errors, one per reason a packet fails to decode. UnmarshalBinary
// and MarshalBinary return them wrapped in a *FieldError, so callers can
// use errors.Is(err, ErrChecksum) or errors.As(err, &fe) and count fe.Field.
var (
	ErrTooShort  = errors.New("too short")
	ErrLength    = errors.New("length does not match address count")
	ErrVersion   = errors.New("unsupported version")
	ErrChecksum  = errors.New("bad checksum")
	ErrType      = errors.New("type out of range")
	ErrAddr      = errors.New("not an IPv4 address")
	ErrFamily    = errors.New("addresses of both IPv4 and IPv6 (or IPv6 in VRRPv2)")
	ErrCount     = errors.New("too many addresses")
	ErrAdvertInt = errors.New("advertisement interval out of range")
)

// FieldError reports which packet field made a packet undecodable (or an
// Advert unencodable).
type FieldError struct {
	Field string // "length", "version", "checksum", "type", "addrs"
	Err   error  // one of the Err* sentinels
	// Got and Want give the offending value and the expected one, when
	// that makes sense (for "length" and "checksum").
	Got, Want int
}

func (e *FieldError) Error() string {
	if e.Got != 0 || e.Want != 0 {
		return fmt.Sprintf("vrrp %s: %v (got %d, want %d)", e.Field, e.Err, e.Got, e.Want)
	}
	return fmt.Sprintf("vrrp %s: %v", e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// MarshalBinary encodes a as a VRRPv2 message with a freshly computed
// checksum (RFC 3768 §5.3.8).
//
// For v3 the checksum written is over the message only, which is
// v3_checksum_as_v2; RFC 5798 §5.2.8 also covers the IP pseudo-header, which
// depends on the destination: the sender finishes it per destination with
// SetChecksumV3.
func (a *Advert) MarshalBinary() ([]byte, error) {
	if a.Version != Version2 && a.Version != Version3 {
		return nil, &FieldError{Field: "version", Err: ErrVersion, Got: int(a.Version), Want: Version2}
	}
	if a.Version == Version3 && a.MaxAdvertInt > MaxAdvertIntV3 {
		return nil, &FieldError{Field: "advert_int", Err: ErrAdvertInt, Got: int(a.MaxAdvertInt), Want: MaxAdvertIntV3}
	}
	if a.Type > 0x0f {
		return nil, &FieldError{Field: "type", Err: ErrType, Got: int(a.Type)}
	}
	if len(a.Addrs) > 255 {
		return nil, &FieldError{Field: "addrs", Err: ErrCount, Got: len(a.Addrs), Want: 255}
	}
	n, alen := MinLen, 4
	if a.Version == Version3 {
		n = MinLenV3
		if len(a.Addrs) > 0 && !a.Addrs[0].Is4() {
			alen = 16
		}
	}
	b := make([]byte, n+alen*len(a.Addrs))
	b[0] = a.Version<<4 | a.Type
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(len(a.Addrs))
	if a.Version == Version3 {
		// 4 reserved bits, zero (RFC 5798 §5.2.6), then 12 bits of
		// centiseconds.
		binary.BigEndian.PutUint16(b[4:6], a.MaxAdvertInt)
	} else {
		b[4] = a.AuthType
		b[5] = a.AdvertInt
	}
	// b[6:8], the checksum, is zero while summing.
	off := headerLen
	for _, ip := range a.Addrs {
		switch {
		case alen == 4 && ip.Is4():
			a4 := ip.As4()
			copy(b[off:], a4[:])
		case alen == 16 && ip.Is6() && !ip.Is4In6():
			a16 := ip.As16()
			copy(b[off:], a16[:])
		case ip.Is6() || alen == 16 && ip.Is4():
			return nil, &FieldError{Field: "addrs", Err: ErrFamily}
		default:
			return nil, &FieldError{Field: "addrs", Err: ErrAddr}
		}
		off += alen
	}
	if a.Version == Version2 {
		copy(b[off:], a.AuthData[:])
	}
	binary.BigEndian.PutUint16(b[6:8], Checksum(b))
	return b, nil
}

// UnmarshalBinary decodes a VRRPv2 or VRRPv3 message. It checks only what
// makes the bytes meaningful: the length against the address count, the
// version and, for v2, the checksum (RFC 3768 §5.3.8, over the VRRP message
// only). A v3 checksum covers the IP pseudo-header (RFC 5798 §5.2.8), which
// these bytes do not carry: CheckAdvert verifies it with VerifyChecksumV3.
// Bytes after the message (as long as the declared count of addresses says,
// plus for v2 the authentication data) are ignored. Semantic checks (TTL,
// VRID, auth, interval, type) are CheckAdvert's.
func (a *Advert) UnmarshalBinary(b []byte) error { return a.unmarshal(b, 4) }

// UnmarshalIPv6 decodes a VRRPv3 message carried over IPv6 (RFC 5798
// §5.2.9: 16-byte addresses), as UnmarshalBinary does over IPv4. A v2
// message is refused: VRRPv2 is IPv4 only.
func (a *Advert) UnmarshalIPv6(b []byte) error {
	if len(b) >= 1 && b[0]>>4 != Version3 {
		return &FieldError{Field: "version", Err: ErrVersion, Got: int(b[0] >> 4), Want: Version3}
	}
	return a.unmarshal(b, 16)
}

// unmarshal decodes with addresses of alen bytes (4 or 16).
func (a *Advert) unmarshal(b []byte, alen int) error {
	if len(b) < headerLen {
		return &FieldError{Field: "length", Err: ErrTooShort, Got: len(b), Want: headerLen}
	}
	v := b[0] >> 4
	minLen := MinLen
	switch v {
	case Version2:
	case Version3:
		minLen = MinLenV3
	default:
		return &FieldError{Field: "version", Err: ErrVersion, Got: int(v), Want: Version2}
	}
	if len(b) < minLen {
		return &FieldError{Field: "length", Err: ErrTooShort, Got: len(b), Want: minLen}
	}
	n := int(b[3])
	msgLen := minLen + alen*n
	if len(b) < msgLen {
		return &FieldError{Field: "length", Err: ErrLength, Got: len(b), Want: msgLen}
	}
	b = b[:msgLen]
	if sum := Checksum(b); v == Version2 && sum != 0 {
		// Summing a message that includes a correct checksum gives 0.
		return &FieldError{Field: "checksum", Err: ErrChecksum, Got: int(binary.BigEndian.Uint16(b[6:8]))}
	}
	*a = Advert{
		Version:  v,
		Type:     b[0] & 0x0f,
		VRID:     b[1],
		Priority: b[2],
		Checksum: binary.BigEndian.Uint16(b[6:8]),
	}
	if v == Version3 {
		a.MaxAdvertInt = binary.BigEndian.Uint16(b[4:6]) & MaxAdvertIntV3
	} else {
		a.AuthType, a.AdvertInt = b[4], b[5]
		copy(a.AuthData[:], b[headerLen+4*n:])
	}
	if n > 0 {
		a.Addrs = make([]netip.Addr, n)
		for i := range n {
			f := b[headerLen+alen*i:]
			if alen == 16 {
				a.Addrs[i] = netip.AddrFrom16([16]byte(f[:16]))
				if a.Addrs[i].Is4In6() {
					// An IPv4-mapped address is IPv4 in disguise: an
					// IPv6 advert must carry IPv6 addresses only
					// (RFC 5798 §5.2.9), and MarshalBinary refuses
					// the mix, so the packet is dropped here.
					return &FieldError{Field: "addrs", Err: ErrFamily}
				}
			} else {
				a.Addrs[i] = netip.AddrFrom4([4]byte(f[:4]))
			}
		}
	}
	return nil
}

// pseudoSum is the one's complement sum (not yet complemented) of the
// pseudo-header of RFC 5798 §5.2.8. For IPv4 (as for UDP, RFC 768): source,
// destination, zero, protocol 112, VRRP message length. For IPv6 (RFC 8200
// §8.1): source, destination, 32-bit upper-layer length, three zero bytes,
// next header 112. ok is false when src and dst are not both of one family.
func pseudoSum(src, dst netip.Addr, msgLen int) (sum uint32, ok bool) {
	switch {
	case src.Is4() && dst.Is4():
		s4, d4 := src.As4(), dst.As4()
		return sum16(s4[:]) + sum16(d4[:]) + Protocol + uint32(msgLen), true
	case src.Is6() && dst.Is6() && !src.Is4In6() && !dst.Is4In6():
		s16, d16 := src.As16(), dst.As16()
		return sum16(s16[:]) + sum16(d16[:]) + uint32(msgLen)>>16 + uint32(msgLen)&0xffff + Protocol, true
	}
	return 0, false
}

// sum16 adds the big-endian 16-bit words of b (even length).
func sum16(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	return s
}

// SetChecksumV3 rewrites the checksum of the v3 message b (as from
// MarshalBinary) for the IP source src and destination dst, both IPv4 or
// both IPv6: the RFC 5798 §5.2.8 checksum over the pseudo-header and the
// message.
func SetChecksumV3(b []byte, src, dst netip.Addr) {
	ps, ok := pseudoSum(src, dst, len(b))
	if len(b) < headerLen || !ok {
		return
	}
	b[6], b[7] = 0, 0
	binary.BigEndian.PutUint16(b[6:8], checksum(ps, b))
}

// VerifyChecksumV3 reports whether the v3 message b carries the right
// pseudo-header checksum for src and dst.
func VerifyChecksumV3(b []byte, src, dst netip.Addr) bool {
	ps, ok := pseudoSum(src, dst, len(b))
	return ok && checksum(ps, b) == 0
}

// Checksum returns the Internet checksum (RFC 1071) of b: the one's
// complement of the one's complement sum of its 16-bit words, an odd last
// byte padded with zero. Over a message whose checksum field is correct it
// returns 0.
func Checksum(b []byte) uint16 { return checksum(0, b) }

// checksum is Checksum starting from a partial sum.
func checksum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
