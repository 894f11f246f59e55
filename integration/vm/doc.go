// Package vm runs a program inside a throw-away QEMU virtual machine that
// boots the distribution's stock kernel, so tests can use kernel features the
// build host lacks (IPVS above all; see shared/notes/real-kernel-testing.md).
//
// The guest has no disk image: a small generated initramfs (static busybox,
// the virtio and 9p modules) mounts the host's root filesystem read-only over
// 9p and switch_roots into it, so the guest runs the host's own binaries
// (test binaries, ipvsadm, iptables, keepalived). Writable tmpfs covers /tmp,
// /run, /var/tmp and /root; a second, read-write 9p export carries the exit
// code and the program's output back to the host.
//
// The package owns the QEMU command line, the initramfs format and the guest
// boot scripts. It must not touch the host's network or kernel state: the
// guest has no network device at all (-nodefaults, no -netdev).
package vm
