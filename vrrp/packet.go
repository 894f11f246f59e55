package vrrp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Wire constants of RFC 3768 §5.
const (
	// Version2 is the only version this codec speaks (RFC 3768 §5.3.1).
	Version2 = 2
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
	// MaxLen is the length of an advert with 255 addresses.
	MaxLen = MinLen + 255*4
)

// Group is the IPv4 multicast group VRRP adverts are sent to (RFC 3768 §5.2.2).
var Group = netip.AddrFrom4([4]byte{224, 0, 0, 18})

// Advert is one VRRPv2 advertisement (RFC 3768 §5.1).
type Advert struct {
	Version  uint8 // must be 2
	Type     uint8 // 1 = advertisement
	VRID     uint8
	Priority uint8
	AuthType uint8
	// AdvertInt is the advertisement interval in whole seconds.
	AdvertInt uint8
	// Addrs are the IPv4 virtual addresses; their number is the
	// "Count IP Addrs" field.
	Addrs []netip.Addr
	// AuthData is the password, zero padded, for AuthType AuthPass.
	AuthData [8]byte
	// Checksum is filled in by UnmarshalBinary. MarshalBinary ignores it
	// and always writes the checksum of the encoded message.
	Checksum uint16
}

// Sentinel errors, one per reason a packet fails to decode. UnmarshalBinary
// and MarshalBinary return them wrapped in a *FieldError, so callers can
// use errors.Is(err, ErrChecksum) or errors.As(err, &fe) and count fe.Field.
var (
	ErrTooShort = errors.New("too short")
	ErrLength   = errors.New("length does not match address count")
	ErrVersion  = errors.New("unsupported version")
	ErrChecksum = errors.New("bad checksum")
	ErrType     = errors.New("type out of range")
	ErrAddr     = errors.New("not an IPv4 address")
	ErrCount    = errors.New("too many addresses")
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
func (a *Advert) MarshalBinary() ([]byte, error) {
	if a.Version != Version2 {
		return nil, &FieldError{Field: "version", Err: ErrVersion, Got: int(a.Version), Want: Version2}
	}
	if a.Type > 0x0f {
		return nil, &FieldError{Field: "type", Err: ErrType, Got: int(a.Type)}
	}
	if len(a.Addrs) > 255 {
		return nil, &FieldError{Field: "addrs", Err: ErrCount, Got: len(a.Addrs), Want: 255}
	}
	b := make([]byte, MinLen+4*len(a.Addrs))
	b[0] = a.Version<<4 | a.Type
	b[1] = a.VRID
	b[2] = a.Priority
	b[3] = uint8(len(a.Addrs))
	b[4] = a.AuthType
	b[5] = a.AdvertInt
	// b[6:8], the checksum, is zero while summing.
	off := headerLen
	for _, ip := range a.Addrs {
		if !ip.Is4() {
			return nil, &FieldError{Field: "addrs", Err: ErrAddr}
		}
		a4 := ip.As4()
		copy(b[off:], a4[:])
		off += 4
	}
	copy(b[off:], a.AuthData[:])
	binary.BigEndian.PutUint16(b[6:8], Checksum(b))
	return b, nil
}

// UnmarshalBinary decodes a VRRPv2 message. It checks only what makes the
// bytes meaningful: the length against the address count, the version and
// the checksum (RFC 3768 §5.3.8, over the VRRP message only). Bytes after
// the message (the declared count of addresses plus the authentication data)
// are ignored. Semantic checks (TTL, VRID, auth, interval, type) are
// CheckAdvert's.
func (a *Advert) UnmarshalBinary(b []byte) error {
	if len(b) < MinLen {
		return &FieldError{Field: "length", Err: ErrTooShort, Got: len(b), Want: MinLen}
	}
	if v := b[0] >> 4; v != Version2 {
		return &FieldError{Field: "version", Err: ErrVersion, Got: int(v), Want: Version2}
	}
	n := int(b[3])
	msgLen := MinLen + 4*n
	if len(b) < msgLen {
		return &FieldError{Field: "length", Err: ErrLength, Got: len(b), Want: msgLen}
	}
	b = b[:msgLen]
	if sum := Checksum(b); sum != 0 {
		// Summing a message that includes a correct checksum gives 0.
		return &FieldError{Field: "checksum", Err: ErrChecksum, Got: int(binary.BigEndian.Uint16(b[6:8]))}
	}
	*a = Advert{
		Version:   b[0] >> 4,
		Type:      b[0] & 0x0f,
		VRID:      b[1],
		Priority:  b[2],
		AuthType:  b[4],
		AdvertInt: b[5],
		Checksum:  binary.BigEndian.Uint16(b[6:8]),
	}
	if n > 0 {
		a.Addrs = make([]netip.Addr, n)
		for i := range n {
			a.Addrs[i] = netip.AddrFrom4([4]byte(b[headerLen+4*i : headerLen+4*i+4]))
		}
	}
	copy(a.AuthData[:], b[headerLen+4*n:])
	return nil
}

// Checksum returns the Internet checksum (RFC 1071) of b: the one's
// complement of the one's complement sum of its 16-bit words, an odd last
// byte padded with zero. Over a message whose checksum field is correct it
// returns 0.
func Checksum(b []byte) uint16 {
	var sum uint32
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
