package ipvs

// timeoutsState is what the Reconciler keeps of the global IPVS timeouts
// (lvs_timeouts). They are not part of the table Diff compares, but they
// drift the same way (`ipvsadm --set`, another tool), so every sync reads
// and repairs them too; keepalived sets them once at start and never looks
// again.
type timeoutsState struct {
	want    Timeouts
	managed bool
	// gen counts SetTimeouts calls; applied is the gen the kernel was last
	// seen to agree with (0: none yet). A difference found while they are
	// equal is drift, not a change of config.
	gen, applied uint64
}

// SetTimeouts sets the timeouts every later sync keeps in the kernel;
// managed false stops managing them (the kernel keeps what it has, as
// without lvs_timeouts). Zero fields are left to the kernel.
func (r *Reconciler) SetTimeouts(t Timeouts, managed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.to.managed == managed && r.to.want == t {
		return
	}
	r.to.want, r.to.managed = t, managed
	r.to.gen++
}

// SyncTimeouts brings the kernel's timeouts to the ones SetTimeouts gave,
// at once (start and reload call it; Sync does the same every resync).
func (r *Reconciler) SyncTimeouts() error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	return r.syncTimeouts()
}

// syncTimeouts reads the kernel's timeouts and sets them when they differ
// from the wanted ones: logged at Info after a change of config, as a
// "repaired" Warn (the reconciler's word for drift) otherwise. Kernels
// without timeouts (test fakes) are skipped. The caller holds syncMu.
func (r *Reconciler) syncTimeouts() error {
	tk, ok := r.k.(TimeoutKernel)
	r.mu.Lock()
	st := r.to
	r.mu.Unlock()
	if !ok || !st.managed {
		return nil
	}
	cur, err := tk.Timeouts()
	if err != nil {
		return err
	}
	next := st.want.Overlay(cur)
	if next != cur {
		if err := tk.SetTimeouts(st.want); err != nil {
			return err
		}
		if st.applied == st.gen {
			r.log.Warn("repaired", "ops", 1, "changes", "set timeouts "+cur.String()+" -> "+next.String())
		} else {
			r.log.Info("ipvs timeouts", "old", cur.String(), "new", next.String())
		}
	}
	r.mu.Lock()
	if r.to.gen == st.gen {
		r.to.applied = st.gen
	}
	r.mu.Unlock()
	return nil
}
