package vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// runnerVersion is part of the initramfs cache key: bump it when the layout
// of the archive changes in a way its inputs do not show.
const runnerVersion = "1"

// bootModules are loaded by /init, in this order, each after its
// dependencies. virtio_pci must come before 9pnet_virtio: without the PCI
// transport bound, 9pnet_virtio finds "no channels available for device".
var bootModules = []string{"virtio_pci", "9pnet_virtio", "9p"}

// Host locations, variables so tests can point them elsewhere.
var (
	bootDir    = "/boot"
	modulesDir = "/lib/modules"
	busyboxBin = "/bin/busybox"
)

// FindKernel returns the newest /boot/vmlinuz-<kver> whose module tree
// has IPVS (kernel/net/netfilter/ipvs), which is what the VM exists for.
func FindKernel() (vmlinuz, kver string, err error) {
	matches, err := filepath.Glob(filepath.Join(bootDir, "vmlinuz-*"))
	if err != nil {
		return "", "", fmt.Errorf("vm: list kernels: %w", err)
	}
	var kvers []string
	for _, m := range matches {
		k := strings.TrimPrefix(filepath.Base(m), "vmlinuz-")
		if _, err := os.Stat(filepath.Join(modulesDir, k, "kernel/net/netfilter/ipvs")); err == nil {
			kvers = append(kvers, k)
		}
	}
	if len(kvers) == 0 {
		return "", "", fmt.Errorf("vm: no %s/vmlinuz-* with IPVS modules under %s (apt-get install linux-image-amd64)", bootDir, modulesDir)
	}
	sort.Slice(kvers, func(i, j int) bool { return compareVersions(kvers[i], kvers[j]) < 0 })
	k := kvers[len(kvers)-1]
	return filepath.Join(bootDir, "vmlinuz-"+k), k, nil
}

// compareVersions orders kernel release strings such as 6.1.0-9-amd64 and
// 6.1.0-56-amd64 by comparing digit runs numerically and the rest bytewise.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := splitDigits(a)
			nb, rb := splitDigits(b)
			na, nb = strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return cmpInt(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func splitDigits(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// moduleName is the kernel's name for a module file: basename without
// .ko[.xz|.zst|.gz], with dashes folded to underscores as modprobe does.
func moduleName(file string) string {
	base := path.Base(file)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// parseModulesDep reads depmod's modules.dep: "path.ko: dep.ko dep2.ko".
// It returns module name -> path, and module name -> dependency names.
func parseModulesDep(r io.Reader) (paths map[string]string, deps map[string][]string, err error) {
	paths = map[string]string{}
	deps = map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		file, rest, ok := strings.Cut(line, ":")
		if !ok || file == "" {
			return nil, nil, fmt.Errorf("modules.dep line %d: missing ':'", n)
		}
		name := moduleName(file)
		paths[name] = file
		var ds []string
		for _, d := range strings.Fields(rest) {
			ds = append(ds, moduleName(d))
		}
		deps[name] = ds
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("modules.dep: %w", err)
	}
	return paths, deps, nil
}

// loadOrder lists the modules to insmod, dependencies first, each once,
// skipping modules built into the kernel.
func loadOrder(want []string, deps map[string][]string, paths map[string]string, builtin map[string]bool) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(m string) error {
		switch {
		case state[m] == 2:
			return nil
		case state[m] == 1:
			return fmt.Errorf("module dependency cycle at %s", m)
		case builtin[m]:
			state[m] = 2
			return nil
		}
		if _, ok := paths[m]; !ok {
			return fmt.Errorf("module %s: not in modules.dep", m)
		}
		state[m] = 1
		for _, d := range deps[m] {
			if err := visit(d); err != nil {
				return err
			}
		}
		state[m] = 2
		order = append(order, m)
		return nil
	}
	for _, m := range want {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// readModule returns the module's ELF bytes. busybox insmod passes the file
// to init_module as is, so compressed modules are decompressed here.
func readModule(file string) ([]byte, error) {
	switch {
	case strings.HasSuffix(file, ".ko"):
		return os.ReadFile(file)
	case strings.HasSuffix(file, ".ko.gz"):
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return io.ReadAll(zr)
	case strings.HasSuffix(file, ".ko.xz"):
		return exec.Command("xz", "-dc", file).Output()
	case strings.HasSuffix(file, ".ko.zst"):
		return exec.Command("zstd", "-dcq", file).Output()
	}
	return nil, fmt.Errorf("%s: unknown module compression", file)
}

// initScript is the initramfs's /init. It is generic (no per-run data) so
// the archive can be cached; per-run work happens in guest.sh on the out
// share after switch_root.
//
// switch_root, not chroot: the kernel's module autoloader (IPVS schedulers,
// nat tables) execs /sbin/modprobe from the real root, which must be the
// host's filesystem with the full module tree.
//
// The read-only root is mounted cache=loose: every exec and module load
// otherwise re-reads through 9p, which is slow under TCG. A file changed on
// the host during a run may look stale in the guest; the read-write shares
// (out, and directories exported by Run) stay uncached.
const initScript = `#!/bin/busybox sh
B=/bin/busybox
fail() {
	$B echo "lvsd-vm init: $*"
	$B sync
	$B poweroff -f
}
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do
	$B insmod "$m" || fail "insmod $m"
done
o=trans=virtio,version=9p2000.L,msize=512000
$B mount -t 9p -o $o,ro,cache=loose hostroot /host || fail "mount hostroot"
$B mount -t tmpfs -o mode=1777 tmpfs /host/tmp || fail "tmpfs /tmp"
$B mount -t tmpfs -o mode=1777 tmpfs /host/var/tmp || fail "tmpfs /var/tmp"
$B mount -t tmpfs -o mode=0755 tmpfs /host/run || fail "tmpfs /run"
$B mount -t tmpfs -o mode=0700 tmpfs /host/root || fail "tmpfs /root"
$B mkdir -p /host/run/lvsd-vm
$B mount -t 9p -o $o out /host/run/lvsd-vm || fail "mount out"
$B mount -t proc proc /host/proc
$B mount -t sysfs sys /host/sys
$B mount -t devtmpfs dev /host/dev
$B mkdir -p /host/dev/pts /host/dev/shm
$B mount -t devpts -o newinstance,ptmxmode=0666 devpts /host/dev/pts
$B mount -t tmpfs -o mode=1777 shm /host/dev/shm
$B hostname lvsd-vm
$B ip link set lo up
$B umount /proc /sys /dev
exec $B switch_root /host /bin/sh /run/lvsd-vm/guest.sh
fail "switch_root"
`

// BuildInitramfs writes (or finds in cacheDir) the gzip'd cpio archive that
// boots the newest IPVS-capable kernel, and returns its path and the kernel
// release. The cache key is a hash of every byte that goes into the archive.
func BuildInitramfs(cacheDir string) (string, string, error) {
	_, kver, err := FindKernel()
	if err != nil {
		return "", "", err
	}
	if cacheDir == "" {
		if cacheDir, err = defaultCacheDir(); err != nil {
			return "", "", err
		}
	}
	files, err := initramfsFiles(kver)
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "lvsd-vm %s %s\n", runnerVersion, kver)
	for _, f := range files {
		fmt.Fprintf(h, "%s %o %d %d %d\n", f.name, f.mode, f.major, f.minor, len(f.data))
		h.Write(f.data)
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("initramfs-%s-%s.cpio.gz", kver, hex.EncodeToString(h.Sum(nil))[:16]))
	if cacheHit(out) {
		return out, kver, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := writeCpio(zw, files); err != nil {
		return "", "", err
	}
	if err := zw.Close(); err != nil {
		return "", "", err
	}
	if err := writeAtomic(out, buf.Bytes()); err != nil {
		return "", "", fmt.Errorf("vm: write initramfs: %w", err)
	}
	return out, kver, nil
}

func defaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("vm: cache dir: %w", err)
	}
	return filepath.Join(d, "lvsd-vm"), nil
}

// initramfsFiles gathers the archive's entries, parents before children.
func initramfsFiles(kver string) ([]cpioFile, error) {
	bb, err := os.ReadFile(busyboxBin)
	if err != nil {
		return nil, fmt.Errorf("vm: static busybox (apt-get install busybox-static): %w", err)
	}
	mdir := filepath.Join(modulesDir, kver)
	depFile, err := os.Open(filepath.Join(mdir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	paths, deps, err := parseModulesDep(depFile)
	depFile.Close()
	if err != nil {
		return nil, fmt.Errorf("vm: %s: %w", mdir, err)
	}
	builtin := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(mdir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			builtin[moduleName(l)] = true
		}
	}
	order, err := loadOrder(bootModules, deps, paths, builtin)
	if err != nil {
		return nil, fmt.Errorf("vm: %s: %w", mdir, err)
	}
	dirs := map[string]bool{}
	var files []cpioFile
	addDir := func(d string) {
		var chain []string
		for ; d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			files = append(files, cpioFile{name: chain[i], mode: modeDir | 0o755})
		}
	}
	for _, d := range []string{"bin", "dev", "proc", "sys", "host"} {
		addDir(d)
	}
	files = append(files,
		cpioFile{name: "dev/console", mode: modeChar | 0o600, major: 5, minor: 1},
		cpioFile{name: "bin/busybox", mode: modeReg | 0o755, data: bb},
		cpioFile{name: "bin/sh", mode: modeLink | 0o777, data: []byte("busybox")},
		cpioFile{name: "init", mode: modeReg | 0o755, data: []byte(initScript)},
	)
	var list strings.Builder
	for _, m := range order {
		rel := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(paths[m], ".xz"), ".zst"), ".gz")
		data, err := readModule(filepath.Join(mdir, paths[m]))
		if err != nil {
			return nil, fmt.Errorf("vm: module %s: %w", m, err)
		}
		name := path.Join("lib/modules", kver, rel)
		addDir(path.Dir(name))
		files = append(files, cpioFile{name: name, mode: modeReg | 0o644, data: data})
		fmt.Fprintf(&list, "/%s\n", name)
	}
	files = append(files, cpioFile{name: "modules.order", mode: modeReg | 0o644, data: []byte(list.String())})
	return files, nil
}

// File type bits of st_mode, as cpio stores them.
const (
	modeDir  = 0o040000
	modeReg  = 0o100000
	modeLink = 0o120000
	modeChar = 0o020000
)

type cpioFile struct {
	name         string
	mode         uint32
	major, minor uint32 // device number, for modeChar
	data         []byte // file contents, or the target of a symlink
}

// writeCpio writes the "newc" (SVR4, no CRC) format the kernel unpacks:
// a 110-byte ASCII header of 13 hex fields, the NUL-terminated name and the
// data, each padded to 4 bytes, ending with the TRAILER!!! entry.
func writeCpio(w io.Writer, files []cpioFile) error {
	pad := func(n int) []byte { return make([]byte, (4-n%4)%4) }
	var err error
	write := func(ino int, f cpioFile) {
		if err != nil {
			return
		}
		nlink := 1
		if f.mode&0o170000 == modeDir {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, f.mode, 0, 0, nlink, 0, len(f.data), 0, 0, f.major, f.minor, len(f.name)+1, 0)
		var b bytes.Buffer
		b.WriteString(hdr)
		b.WriteString(f.name)
		b.WriteByte(0)
		b.Write(pad(len(hdr) + len(f.name) + 1))
		b.Write(f.data)
		b.Write(pad(len(f.data)))
		_, err = w.Write(b.Bytes())
	}
	for i, f := range files {
		if f.name == "" || strings.HasPrefix(f.name, "/") {
			return fmt.Errorf("cpio: bad name %q", f.name)
		}
		write(i+1, f)
	}
	write(0, cpioFile{name: "TRAILER!!!"})
	if err != nil {
		return fmt.Errorf("cpio: %w", err)
	}
	return nil
}

// readCpio parses what writeCpio writes; used by tests and fuzzing.
func readCpio(b []byte) ([]cpioFile, error) {
	var files []cpioFile
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if len(b)-off < 110 {
			return nil, errors.New("cpio: short header")
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			return nil, errors.New("cpio: bad magic")
		}
		field := func(i int) (int, error) {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			return int(v), err
		}
		var f [13]int
		for i := range f {
			v, err := field(i)
			if err != nil {
				return nil, fmt.Errorf("cpio: header field %d: %w", i, err)
			}
			f[i] = v
		}
		size, namesize := f[6], f[11]
		if namesize < 1 || namesize > len(b)-off-110 {
			return nil, errors.New("cpio: bad name size")
		}
		name := string(b[off+110 : off+110+namesize-1])
		off = align(off + 110 + namesize)
		if name == "TRAILER!!!" {
			return files, nil
		}
		if size > len(b)-off || off > len(b) {
			return nil, errors.New("cpio: short data")
		}
		files = append(files, cpioFile{name: name, mode: uint32(f[1]), major: uint32(f[9]), minor: uint32(f[10]),
			data: append([]byte(nil), b[off:off+size]...)})
		off = align(off + size)
	}
}
