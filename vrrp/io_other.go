//go:build !linux

package vrrp

import (
	"errors"

	"github.com/lvsd/lvsd/conf"
)

func openSystem(conf.VRRPInstance) (*system, error) {
	return nil, errors.New("vrrp: only implemented on Linux")
}
