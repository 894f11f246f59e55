//go:build !linux

package ipvs

// kernelRelease is unknown off Linux.
func kernelRelease() string { return "" }
