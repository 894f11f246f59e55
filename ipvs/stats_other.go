//go:build !linux

package ipvs

import "errors"

// Stats fails with errors.ErrUnsupported.
func (*Netlink) Stats() ([]ServiceStats, error) { return nil, errors.ErrUnsupported }
