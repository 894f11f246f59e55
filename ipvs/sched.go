package ipvs

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
)

// SchedRoot is where SchedulerAvailable reads the running kernel's state:
// "/" on a real host; tests point it at a fake tree.
type SchedRoot struct {
	FS fs.FS // rooted at "/"
	// Release is the running kernel's release (uname -r), which names its
	// module directory.
	Release string
}

// SchedulerAvailable tells, without changing anything, whether the running
// kernel can provide IPVS scheduler name. The kernel loads ip_vs_NAME on
// the first service that names it (request_module in ip_vs_sched.c) and
// answers ENOENT when that fails, so lvsd can warn before trying:
//   - loaded or built in (/sys/module/ip_vs_NAME): available;
//   - module autoloading disabled (kernel.modules_disabled = 1, or an empty
//     kernel.modprobe): not available;
//   - the module directory lists neither ip_vs_NAME.ko in modules.dep nor
//     it in modules.builtin: not available.
//
// Anything it cannot read counts as available (the kernel's answer to
// the add is then the authority). why says what is missing when ok is
// false.
func (r SchedRoot) SchedulerAvailable(name string) (ok bool, why string) {
	mod := "ip_vs_" + name
	if _, err := fs.Stat(r.FS, "sys/module/"+mod); err == nil {
		return true, ""
	}
	if b, err := fs.ReadFile(r.FS, "proc/sys/kernel/modules_disabled"); err == nil && strings.TrimSpace(string(b)) == "1" {
		return false, "module " + mod + " is not loaded and kernel.modules_disabled = 1"
	}
	if b, err := fs.ReadFile(r.FS, "proc/sys/kernel/modprobe"); err == nil && strings.TrimSpace(string(b)) == "" {
		return false, "module " + mod + " is not loaded and module autoloading is off (kernel.modprobe is empty)"
	}
	if r.Release == "" {
		return true, ""
	}
	dir := path.Join("lib/modules", r.Release)
	found, err := listsModule(r.FS, path.Join(dir, "modules.dep"), mod)
	if err != nil || found {
		return true, ""
	}
	if found, err := listsModule(r.FS, path.Join(dir, "modules.builtin"), mod); err != nil && !errors.Is(err, fs.ErrNotExist) || found {
		return true, ""
	}
	return false, "the running kernel has no module " + mod + " (not in /" + dir + "/modules.dep)"
}

// listsModule reports whether a modules.dep or modules.builtin file names
// mod: a line whose first path (before ":" in modules.dep) ends in
// "/mod.ko" (possibly compressed, mod.ko.xz) or is "mod.ko".
func listsModule(fsys fs.FS, file, mod string) (bool, error) {
	f, err := fsys.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p, _, _ := strings.Cut(sc.Text(), ":")
		base := path.Base(p)
		if base == mod+".ko" || strings.HasPrefix(base, mod+".ko.") {
			return true, nil
		}
	}
	return false, sc.Err()
}

// HostSchedRoot is the running host's SchedRoot.
func HostSchedRoot() SchedRoot {
	return SchedRoot{FS: os.DirFS("/"), Release: kernelRelease()}
}
