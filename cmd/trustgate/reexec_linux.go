package main

import (
	"os"
	"syscall"
)

// applyRuntimeSettings re-executes the process with sysmonSetting in
// GODEBUG (the runtime reads it only at start), keeping its PID,
// arguments and the rest of its environment. If that cannot be done the
// gateway runs with Go's defaults.
func applyRuntimeSettings() {
	env, change := withSysmonSetting(os.Environ())
	if !change {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	_ = syscall.Exec(exe, os.Args, env) // returns only on failure
}
