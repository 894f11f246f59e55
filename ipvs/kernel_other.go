//go:build !linux

package ipvs

import (
	"errors"
	"fmt"
)

// Netlink is the Kernel on Linux; elsewhere it cannot be opened.
type Netlink struct{}

var _ Kernel = (*Netlink)(nil)

// NewKernel fails: IPVS exists only on Linux.
func NewKernel() (*Netlink, error) { return NewKernelAt("") }

// NewKernelAt fails: IPVS exists only on Linux.
func NewKernelAt(string) (*Netlink, error) {
	return nil, fmt.Errorf("ipvs: %w", errors.ErrUnsupported)
}

// Close does nothing.
func (*Netlink) Close() error { return nil }

// Dump fails with errors.ErrUnsupported.
func (*Netlink) Dump() ([]Service, error) { return nil, errors.ErrUnsupported }

// Apply fails with errors.ErrUnsupported.
func (*Netlink) Apply(Op) error { return errors.ErrUnsupported }
